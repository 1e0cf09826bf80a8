"""render_markdown: ordinary Markdown works, and nothing executable ever comes out.

The safety checks parse the *output* with the standard library's HTML parser, so they
judge what a browser would build, not what the input looked like.
"""

from __future__ import annotations

import re
import threading
import time
import unicodedata
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.workflow import rendering
from accord.workflow.rendering import render_markdown

ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6",
    "ul", "ol", "li", "blockquote", "pre", "code", "em", "strong", "a",
    "table", "thead", "tbody", "tr", "th", "td",
    "del", "sup", "sub", "abbr", "dl", "dt", "dd",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "rel"},
    "abbr": {"title"},
    "th": {"align"},
    "td": {"align"},
}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "poster", "background"}
SAFE_SCHEMES = {"http", "https", "mailto"}
SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):")


def url_scheme(value: str) -> str | None:
    """Scheme of an (already HTML-unescaped) URL, as the most permissive reader sees it."""
    squeezed = "".join(
        c for c in value if not (c.isspace() or unicodedata.category(c).startswith("C"))
    )
    match = SCHEME.match(squeezed.lower())
    return match.group(1) if match else None


class _Auditor(HTMLParser):
    def __init__(self) -> None:
        # convert_charrefs: text and attribute values arrive unescaped, as a browser sees them
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def _tag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"element <{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"event attribute {name} on <{tag}>")
            if name == "style":
                self.problems.append(f"style attribute on <{tag}>")
            if name not in ALLOWED_ATTRIBUTES.get(tag, set()):
                self.problems.append(f"attribute {name} on <{tag}>")
            if name in URL_ATTRIBUTES:
                scheme = url_scheme(value or "")
                if scheme is not None and scheme not in SAFE_SCHEMES:
                    self.problems.append(f"{name} with scheme {scheme!r} on <{tag}>")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, attrs)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"end tag </{tag}>")

    def handle_comment(self, data: str) -> None:
        self.problems.append("comment")

    def handle_decl(self, decl: str) -> None:
        self.problems.append("declaration")

    def handle_pi(self, data: str) -> None:
        self.problems.append("processing instruction")

    def unknown_decl(self, data: str) -> None:
        self.problems.append("unknown declaration")


def assert_safe(html: str) -> None:
    auditor = _Auditor()
    auditor.feed(html)
    auditor.close()
    assert not auditor.problems, f"{auditor.problems} in {html!r}"


@pytest.mark.parametrize(
    "unsafe",
    [
        "<script>x</script>",
        '<p onclick="x">a</p>',
        '<p style="color:red">a</p>',
        '<a href="javascript:x">a</a>',
        '<a href=" &#10;JaVa&#9;Script:x">a</a>',
        '<a href="data:text/html,x">a</a>',
        "<img src=x>",
        "<!-- c -->",
    ],
)
def test_auditor_is_not_vacuous(unsafe: str) -> None:
    with pytest.raises(AssertionError):
        assert_safe(unsafe)


# ---------------------------------------------------------------- ordinary Markdown


def test_emphasis_and_paragraphs() -> None:
    assert render_markdown("Some *emphasis* and **strength**.\n\nSecond.") == (
        "<p>Some <em>emphasis</em> and <strong>strength</strong>.</p>\n<p>Second.</p>"
    )


def test_headings_quotes_and_code() -> None:
    html = render_markdown("## Scope\n\n> quoted\n\n    code <b>\n\nInline `x < y`.")
    assert "<h2>Scope</h2>" in html
    assert "<blockquote>\n<p>quoted</p>\n</blockquote>" in html
    assert "<pre><code>code &lt;b&gt;\n</code></pre>" in html
    assert "<code>x &lt; y</code>" in html


def test_lists() -> None:
    html = render_markdown("- one\n- two\n\n1. first\n2. second")
    assert html == (
        "<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n<ol>\n<li>first</li>\n<li>second</li>\n</ol>"
    )


def test_table_keeps_alignment_without_style() -> None:
    html = render_markdown("| Agency | Votes |\n|:--|--:|\n| A | 3 |")
    assert '<th align="left">Agency</th>' in html
    assert '<td align="right">3</td>' in html
    assert "style" not in html
    assert_safe(html)


def test_link_gets_rel_and_keeps_title() -> None:
    html = render_markdown('See [the report](https://example.org/r?a=1&b=2 "Report").')
    assert html == (
        '<p>See <a href="https://example.org/r?a=1&amp;b=2" title="Report" '
        'rel="noopener noreferrer nofollow">the report</a>.</p>'
    )


def test_autolinks_and_mail() -> None:
    html = render_markdown("<https://example.org> and <someone@example.org>")
    assert 'href="https://example.org"' in html
    assert 'href="mailto:someone@example.org"' in html


def test_footnotes_definition_lists_and_abbreviations() -> None:
    html = render_markdown(
        "The WHO[^1] says.\n\n[^1]: World Health Organization.\n\n"
        "Term\n: Definition\n\n*[WHO]: World Health Organization"
    )
    assert '<a href="#fn:1"' in html
    assert "<dl>\n<dt>Term</dt>\n<dd>Definition</dd>\n</dl>" in html
    assert '<abbr title="World Health Organization">WHO</abbr>' in html
    assert_safe(html)


def test_raw_html_is_shown_as_text_not_interpreted() -> None:
    assert render_markdown("a <b>bold</b> claim") == "<p>a &lt;b&gt;bold&lt;/b&gt; claim</p>"
    assert render_markdown("<div>\nblock\n</div>") == "<p>&lt;div&gt;\nblock\n&lt;/div&gt;</p>"


def test_images_are_removed() -> None:
    # <img> is not in the allow-list: an image URL could track readers.
    assert "<img" not in render_markdown("![chart](https://example.org/c.png)")


def test_empty_input() -> None:
    assert render_markdown("") == ""


def test_footnote_state_does_not_leak_between_calls() -> None:
    render_markdown("x[^a]\n\n[^a]: secret note")
    assert "secret" not in render_markdown("plain")


def test_thread_safe_under_concurrency() -> None:
    # Footnotes carry per-document state: a shared instance would mix documents.
    errors: list[str] = []

    def work(n: int) -> None:
        for _ in range(30):
            html = render_markdown(f"doc {n}[^x]\n\n[^x]: note {n}")
            if f"note {n}" not in html or any(f"note {m}<" in html for m in range(8) if m != n):
                errors.append(html)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


# ---------------------------------------------------------------- hostile sizes
# No timing assertions: these inputs took minutes to hours before the limits in
# rendering.py, so a regression shows up as a hung test, not a flaky one.


def test_many_unclosed_brackets_render_as_text() -> None:
    text = "[" * 50_000
    assert render_markdown(text) == f"<p>{text}</p>"


def test_many_unclosed_link_targets_render_as_text() -> None:
    text = "[x](" * 20_000
    assert render_markdown(text) == f"<p>{text}</p>"


def test_unclosed_link_titles_do_not_multiply_the_output() -> None:
    text = '[a](b "' * 3_000
    html = render_markdown(text)
    assert len(html) < 3 * len(text)
    assert_safe(html)


def test_ordinary_links_survive_the_scan_limits() -> None:
    # 3,000 links, ten a paragraph: the scans of one document add up, paragraphs or not.
    text = "\n\n".join(
        " ".join(f"[ref {n}](https://example.org/{n})" for n in range(k, k + 10)) for k in range(0, 3_000, 10)
    )
    assert render_markdown(text).count("<a href=") == 3_000


def test_link_text_longer_than_the_limit_is_shown_as_text() -> None:
    html = render_markdown("[" + "x" * 3_000 + "](https://example.org)")
    assert "<a" not in html


def test_footnote_references_render() -> None:
    html = render_markdown("Text[^note].\n\n[^note]: The note.")
    assert '<a href="#fn:note"' in html
    assert "[^" * 10 in render_markdown("[^" * 20_000)


@pytest.mark.parametrize("unit", ["1. ", "> ", "- "])
def test_absurd_nesting_falls_back_to_plain_text(unit: str) -> None:
    text = unit * 5_000 + "<script>alert(1)</script>"
    html = render_markdown(text)
    assert_safe(html)
    assert "&lt;script&gt;" in html
    # The next document is rendered normally again.
    assert render_markdown("*fine*") == "<p><em>fine</em></p>"


# ---------------------------------------------------------------- XSS corpus

EVENT_ON_ALLOWED_TAGS = [
    f"<{tag} onmouseover=alert(1)>x</{tag}>"
    for tag in ("p", "a", "em", "strong", "code", "pre", "table", "td", "th", "abbr",
                "h1", "li", "blockquote", "dl", "sup", "del")
] + ['<br onload="alert(1)">', "<hr/onfocus=alert(1) autofocus>"]  # fmt: skip

XSS_PAYLOADS = [
    # <script> in every case, and split / malformed forms
    "<script>alert(1)</script>",
    "<SCRIPT>alert(1)</SCRIPT>",
    "<ScRiPt>alert(1)</sCrIpT>",
    "<script src=https://evil.example/x.js></script>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<script\n>alert(1)</script\n>",
    "<script/xss>alert(1)</script>",
    "<<script>alert(1);//<</script>",
    "<script>\nalert(1)\n</script>",
    "`code` <script>alert(1)</script> *em*",
    "> <script>alert(1)</script>",
    "- <script>alert(1)</script>",
    "| a |\n|---|\n| <script>alert(1)</script> |",
    # other elements that run or load things
    "<img src=x onerror=alert(1)>",
    "<IMG SRC=x ONERROR=alert(1)>",
    '<img src="x" onerror="alert(1)"/>',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<iframe src="javascript:alert(1)"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<form action="javascript:alert(1)"><button>go</button></form>',
    '<button formaction="javascript:alert(1)">go</button>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    '<link rel="stylesheet" href="javascript:alert(1)">',
    "<details open ontoggle=alert(1)>",
    "<body onload=alert(1)>",
    "<input autofocus onfocus=alert(1)>",
    "<video><source onerror=alert(1)></video>",
    "<!--><script>alert(1)</script>-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    *EVENT_ON_ALLOWED_TAGS,
    # raw anchors
    '<a href="javascript:alert(1)">x</a>',
    "<a href=javascript:alert(1)>x</a>",
    '<a href="&#106;avascript:alert(1)">x</a>',
    # Markdown links, images, autolinks, reference links
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](&#106;avascript:alert(1))",
    "[x](&#x6A;avascript:alert(1))",
    "[x](&#0000106;avascript:alert(1))",
    "[x](java&#x09;script:alert(1))",
    "[x](java&#9;script:alert(1))",
    "[x](java&#x0A;script:alert(1))",
    "[x](javascript&#58;alert(1))",
    "[x](javascript&colon;alert(1))",
    "[x](java\tscript:alert(1))",
    "[x](<java\nscript:alert(1)>)",
    "[x]( javascript:alert(1))",
    "[x](\x01javascript:alert(1))",
    "[x](\u200bjavascript:alert(1))",
    '[x](javascript:alert(1) "title")',
    '[x](https://ok.example "a\\" onmouseover=\\"alert(1)")',
    '[x](https://ok.example/"onmouseover="alert(1))',
    "![x](javascript:alert(1))",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    '![x" onerror="alert(1)](https://ok.example/a.png)',
    "<javascript:alert(1)>",
    "<JAVASCRIPT:alert(1)>",
    "<vbscript:msgbox(1)>",
    "<data:text/html,<script>alert(1)</script>>",
    "[x][ref]\n\n[ref]: javascript:alert(1)",
    "[x][ref]\n\n[ref]: &#106;avascript:alert(1)",
    '[x][ref]\n\n[ref]: <javascript:alert(1)> "t"',
    "[ref]\n\n[ref]: JaVaScRiPt:alert(1)",
    "[x](#)<a href=javascript:alert(1)>",
    "[<img src=x onerror=alert(1)>](https://ok.example)",
    "**<img src=x onerror=alert(1)>**",
    "```\n</code></pre><script>alert(1)</script>\n```",
    "*[HTML]: <script>alert(1)</script>\n\nHTML",
    "x[^1]\n\n[^1]: <img src=x onerror=alert(1)>",
]


def test_corpus_is_large_enough() -> None:
    assert len(XSS_PAYLOADS) >= 40


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_xss_payload_never_survives(payload: str) -> None:
    html = render_markdown(payload)
    assert_safe(html)


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)">x</a>',
        "<svg onload=alert(1)>",
    ],
)
def test_raw_markup_in_payload_is_escaped_text(payload: str) -> None:
    html = render_markdown(payload)
    assert "&lt;" in html
    assert re.search(r"<(script|img|svg|iframe)", html, re.IGNORECASE) is None


def test_safe_links_survive_next_to_unsafe_ones() -> None:
    html = render_markdown("[ok](https://ok.example) [bad](javascript:alert(1)) [rel](/x)")
    assert 'href="https://ok.example"' in html
    assert 'href="/x"' in html
    assert html.count("href=") == 2


# ---------------------------------------------------------------- property

FRAGMENTS = [
    "<", ">", "/", "script", "img", "svg", "a", "p", "iframe", " ", "\n", "\t", "=",
    "onerror=", "onload=", "href=", "src=", "style=", "javascript:", "JaVaScRiPt:",
    "vbscript:", "data:text/html,", "&#", "&#x", "106;", "6A;", "x09;", "&colon;", "&amp;",
    "[x](", "![x](", "[x]:", "[x]", ")", "(", '"', "'", "`", "```", "*", "_", "|", "-",
    "#", ">", "\\", "<!--", "-->", "alert(1)", "http://", "mailto:", "\x00", "\u200b",
]  # fmt: skip

html_ish = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=4)), max_size=40).map(
    "".join
)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.one_of(html_ish, st.text(max_size=200)))
def test_any_input_renders_safe(text: str) -> None:
    assert_safe(render_markdown(text))


# --- bounded work -------------------------------------------------------------------------
# The bound is counted in work, not seconds: the same text always renders to the same HTML,
# however busy the machine. No timing assertions; the figures are printed (pytest -s).

HOSTILE = {
    "definition list of 7,000 lines": "T\n" + ": \n" * 7_000,
    "40,000 runs of backticks": "``a` " * 40_000,
    "50,000 unclosed brackets": "[" * 50_000,
    "20,000 unclosed link targets": "[x](" * 20_000,
    "20,000 footnote openings": "[^" * 20_000,
}


def _work(text: str) -> tuple[int, int, bool]:
    """Block and inline work a text needs with no budget, and whether it exceeds its budget."""
    renderer = rendering._Renderer()
    renderer.md.reset()
    renderer.meter.start(text)
    renderer.scans.start(text)
    budgets = renderer.meter.block_budget, renderer.meter.inline_budget
    renderer.meter.block_budget = renderer.meter.inline_budget = 10**18
    renderer.md.convert(text)
    return renderer.meter.blocks, renderer.meter.inline, (
        renderer.meter.blocks > budgets[0] or renderer.meter.inline > budgets[1]
    )


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_texts_stop_within_budget_and_show_plain(name: str) -> None:
    text = HOSTILE[name]
    started = time.perf_counter()
    html = render_markdown(text)
    print(f"\n{name} ({len(text):,} characters): {time.perf_counter() - started:.3f} s")
    assert html == rendering._plain_paragraphs(text)
    assert_safe(html)
    # Stopped midway, the parser's state does not leak into the next document.
    assert render_markdown("- *a*\n- b") == "<ul>\n<li><em>a</em></li>\n<li>b</li>\n</ul>"


def test_the_same_hostile_text_always_gives_the_same_html_even_concurrently() -> None:
    text = HOSTILE["definition list of 7,000 lines"] + "\n\n*real* text"
    alone = render_markdown(text)
    results: list[str] = []

    def render() -> None:
        results.append(render_markdown(text))

    threads = [threading.Thread(target=render) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [alone] * 3


def _sentences(n: int, seed: int) -> list[str]:
    import random

    words = (
        "border customs agency officer risk analysis cargo transit liaison training manual "
        "procedure joint control point shared database exchange information seizure"
    ).split()
    rng = random.Random(seed)
    return [" ".join(rng.choice(words) for _ in range(rng.randint(6, 18))).capitalize() + "." for _ in range(n)]


def _ordinary_document(size: int) -> str:
    """Prose as recommendations are written: headings, paragraphs with emphasis, links and code,
    lists, tables, quotes, code blocks, definitions and footnotes."""
    s = iter(_sentences(size // 10, seed=size))
    blocks: list[str] = []
    for i in range(size):
        if sum(map(len, blocks)) + 2 * len(blocks) >= size:
            break
        kind = i % 10
        if kind == 0:
            blocks.append(f"## Section {i}")
        elif kind == 1:
            blocks.append("\n".join(f"- {next(s)}" for _ in range(5)))
        elif kind == 2:
            blocks.append("\n".join(f"{k}. **{next(s)}**" for k in range(1, 6)))
        elif kind == 3:
            rows = "\n".join(f"| KG{k} | {next(s)} | {k} |" for k in range(8))
            blocks.append("| Agency | Measure | Due |\n|:--|:--|--:|\n" + rows)
        elif kind == 4:
            blocks.append("> " + next(s) + " " + next(s))
        elif kind == 5:
            blocks.append("```\n" + next(s) + "\n" + next(s) + "\n```")
        elif kind == 6:
            blocks.append(f"Term {i}\n: {next(s)}\n\nA claim[^n{i}].\n\n[^n{i}]: {next(s)}")
        else:
            blocks.append(f"{next(s)} *{next(s)}* `code` [the manual](https://example.org/{i}) {next(s)}")
    return "\n\n".join(blocks)


def _nested_list(depth: int, width: int) -> str:
    lines: list[str] = []
    sentences = iter(_sentences(width ** (depth + 1), seed=depth))

    def items(level: int) -> None:
        for _ in range(width):
            lines.append("    " * level + f"- {next(sentences)}")
            if level + 1 < depth:
                items(level + 1)

    items(0)
    return "\n".join(lines)


ORDINARY = {
    "30 KB document": _ordinary_document(30_000),
    "200 KB document": _ordinary_document(200_000),
    "200 KB of paragraphs": "\n\n".join(" ".join(_sentences(4, seed=k)) for k in range(1_200))[:200_000],
    "table of 2,000 rows": "| a | b | c |\n|---|:-:|--:|\n"
    + "\n".join(f"| {s} | {k} | x |" for k, s in enumerate(_sentences(2_000, seed=1))),
    "lists nested 8 deep": _nested_list(8, 2),
    "quotes nested 10 deep": "\n".join("> " * d + s for d, s in enumerate(_sentences(10, seed=2), 1)),
    "300 links in one paragraph": " ".join(f"[ref {n}](https://example.org/{n})" for n in range(300)),
}


@pytest.mark.parametrize("name", ORDINARY)
def test_ordinary_texts_render_fully_within_budget(name: str) -> None:
    text = ORDINARY[name]
    blocks, inline, exceeded = _work(text)
    started = time.perf_counter()
    html = render_markdown(text)
    print(f"\n{name} ({len(text):,} characters): {blocks / len(text):.0f} block and "
          f"{inline / len(text):.0f} inline units a character, {time.perf_counter() - started:.3f} s")
    assert not exceeded and html
    assert max(blocks, inline) < len(text) * min(
        rendering.BLOCK_WORK_PER_CHARACTER, rendering.INLINE_WORK_PER_CHARACTER
    ) / 2, "less than half the budget: a margin for texts a little richer than these"


def test_the_corpora_of_the_tests_render_within_budget() -> None:
    from ..security.test_xss import CORPUS  # this file's payloads and more

    for text in CORPUS:
        assert not _work(text)[2], text


def test_the_budget_is_counted_in_work_not_time() -> None:
    # The same text costs the same count every time, so it renders (or falls back) alike.
    text = HOSTILE["definition list of 7,000 lines"][:9_000]
    assert _work(text) == _work(text)
