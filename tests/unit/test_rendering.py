"""render_markdown: ordinary Markdown works, and nothing executable ever comes out.

The safety checks parse the *output* with the standard library's HTML parser, so they
judge what a browser would build, not what the input looked like.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
    text = " ".join(f"[ref {n}](https://example.org/{n})" for n in range(3_000))
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


# --- bounded time -------------------------------------------------------------------------


def test_a_long_text_renders_in_a_worker_like_any_other():
    from accord.workflow import rendering

    text = "A paragraph with **bold** words and a [link](https://example.org).\n\n" * 400
    assert len(text) > rendering.INLINE_LIMIT
    html = render_markdown(text)
    assert html.count("<strong>bold</strong>") == 400 and 'rel="noopener noreferrer nofollow"' in html


def test_a_text_that_would_take_minutes_is_shown_plain_within_the_limit():
    """Python-Markdown is quadratic on backtick runs: 200 KB took 2.6 s here, so 500 KB takes
    about 16 s (and far more on a busy machine); the save must not wait for it."""
    import time

    from accord.workflow import rendering

    hostile = "``a` " * 100_000
    started = time.monotonic()
    html = render_markdown(hostile)
    elapsed = time.monotonic() - started
    assert elapsed < rendering.RENDER_TIMEOUT + 10  # the limit, plus starting a worker
    assert html.startswith("<p>``a`") and "<code>" not in html
    # The pool is back for the next text.
    assert "<em>x</em>" in render_markdown("*x*\n\n" + "word " * 5_000)
