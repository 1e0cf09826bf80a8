"""Markdown to safe HTML for recommendation text.

Two layers, on purpose:

1. Markdown is configured so that raw HTML in the source is never passed through:
   it comes out as escaped text (``<b>`` is shown, not interpreted).
2. Whatever Markdown produces is then sanitized by nh3 (ammonia) against an explicit
   allow-list of tags, attributes and URL schemes.

Either layer alone should be enough; both together mean a bug or a new feature in one
of the libraries does not become a stored XSS in a document many agencies open.
"""

from __future__ import annotations

import html
import logging
import re
import threading
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any

import markdown
import nh3
from markdown.extensions import Extension
from markdown.inlinepatterns import LinkInlineProcessor, ReferenceInlineProcessor

__all__ = ["RenderBudgetExceeded", "render_markdown"]

log = logging.getLogger(__name__)

# "extra" minus md_in_html (its only job is to process raw HTML blocks, which we refuse)
# and minus attr_list (it only lets authors set ids, classes and attributes, all of which
# the sanitizer removes again: keeping it would add parsing surface for no visible effect).
_EXTENSIONS: list[str | Extension] = [
    "abbr",
    "def_list",
    "fenced_code",
    "footnotes",
    "tables",
    "sane_lists",
]
# Column alignment as an `align` attribute instead of `style="text-align: …"`:
# `style` is never allowed through the sanitizer.
_EXTENSION_CONFIGS = {"tables": {"use_align_attribute": True}}

_ALLOWED_TAGS = frozenset(
    {
        "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6",
        "ul", "ol", "li", "blockquote", "pre", "code", "em", "strong", "a",
        "table", "thead", "tbody", "tr", "th", "td",
        "del", "sup", "sub", "abbr", "dl", "dt", "dd",
    }
)  # fmt: skip
# `rel` must not be listed here: nh3 sets it itself from `link_rel` (and refuses both).
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}}
# `align` is only meaningful with these values; anything else is dropped.
_ALIGN_VALUES = {"left", "center", "right"}
_ALLOWED_ATTRIBUTE_VALUES = {"th": {"align": _ALIGN_VALUES}, "td": {"align": _ALIGN_VALUES}}
# Relative URLs (footnote anchors such as "#fn:1", "/path") are kept: they cannot carry
# a scheme. Anything with a scheme outside this set loses its href.
_URL_SCHEMES = {"http", "https", "mailto"}
# nofollow: user-written links must not lend the agencies' site reputation to spam;
# noopener/noreferrer: a linked page can neither script the opener nor learn our URLs.
_LINK_REL = "noopener noreferrer nofollow"
# Tags whose *content* is dropped with them (not just unwrapped). Raw HTML never reaches
# nh3 as markup, so this is defence in depth should that ever change.
_DROP_WITH_CONTENT = {"script", "style"}


_URL_ATTRIBUTES = frozenset({"href", "src"})
_SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):")


def _url_scheme(url: str) -> str | None:
    """The scheme a permissive reader could see in ``url``, or None if it is relative.

    Browsers drop tabs and newlines anywhere in a URL and control characters around it;
    old ones were laxer still. Dropping every whitespace and control character before
    looking for the scheme errs on the side of seeing one.
    """
    squeezed = "".join(
        c for c in url if not (c.isspace() or unicodedata.category(c).startswith("C"))
    )
    match = _SCHEME.match(squeezed.lower())
    return match.group(1) if match else None


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    # nh3's own scheme check follows the URL standard, under which "java script:x" is a
    # harmless relative URL. We refuse it anyway: a URL that even looks like it carries a
    # forbidden scheme is never what an author of a recommendation meant.
    if attribute in _URL_ATTRIBUTES:
        scheme = _url_scheme(value)
        if scheme is not None and scheme not in _URL_SCHEMES:
            return None
    return value


class _EscapeRawHtml(Extension):
    """Turn off raw-HTML passthrough: block-level HTML and inline tags become text.

    Markdown 3 has no "safe mode" any more; removing the two processors that recognise
    HTML is the supported way. The serializer then escapes ``<`` like any other text.
    Autolinks (``<https://…>``) are separate processors and keep working.
    """

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (library API)
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")


# Python-Markdown finds the end of a link's [text] and (target) by walking the rest of
# the paragraph character by character, once per "[": measured, 16,000 "[" take 50 s and
# 200 KB would take hours. Each walk is capped at _MAX_LINK_SPAN characters and all walks
# of one document together at _LINK_SCAN_PER_CHARACTER times its length (plus a constant);
# past either limit a "[" is shown as text instead of starting a link. Real links are far below
# both (each character of a real link is walked once). The walk is Python, ~1 µs a character.
_MAX_LINK_SPAN = 2_000
_LINK_SCAN_PER_CHARACTER = 2
_LINK_SCAN_CONSTANT = 20_000
# Footnote references ("[^id]") are matched by a regex with the same flaw, in C.
_FOOTNOTE_REF = re.compile(r"\[\^([^\]]{0,200})\]", re.DOTALL | re.UNICODE)


class _BoundedScans(Extension):
    """Caps the link and footnote scans described above (see _MAX_LINK_SPAN)."""

    def __init__(self) -> None:
        super().__init__()
        self.start("")

    def start(self, text: str) -> None:
        self.remaining = _LINK_SCAN_CONSTANT + _LINK_SCAN_PER_CHARACTER * len(text)

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (library API)
        # Links, images and their reference forms all inherit these scanners.
        for processor in md.inlinePatterns:
            if isinstance(processor, LinkInlineProcessor):
                names = ["getText", "getLink"]
                if isinstance(processor, ReferenceInlineProcessor):
                    names.append("evalId")
                for name in names:
                    setattr(processor, name, self._bounded(getattr(processor, name), name))
        if "footnote" in md.inlinePatterns:
            md.inlinePatterns["footnote"].compiled_re = _FOOTNOTE_REF

    def _bounded(self, scan: Callable[..., Any], name: str) -> Callable[..., Any]:
        # The three scanners read data from `index` onwards only, so they can be given a
        # short slice starting there; the end position they return is shifted back.
        end_at = {"getText": 1, "getLink": 2, "evalId": 1}[name]

        def bounded(data: str, index: int, *rest: Any) -> Any:
            window = data[index : index + min(_MAX_LINK_SPAN, max(self.remaining, 0))]
            result = list(scan(window, 0, *rest))
            end = result[end_at]
            if end < 0:
                # getLink's fallback for an unclosed title returns -1, meaning "the end of
                # the paragraph" by way of negative indexing. In a window that would point
                # back into the link and make Markdown render the rest again, once per
                # link (a 20 KB input grew to 9 MB). Refuse the link instead.
                result[-1] = False
                end = len(window)
            self.remaining -= end
            result[end_at] = index + max(result[end_at], 0)
            return tuple(result)

        return bounded


class RenderBudgetExceeded(Exception):
    """Rendering one text did more work than its budget allows (see _WorkMeter)."""


#: Work allowed per character of the text, by kind (see _WorkMeter), and a constant for short
#: texts. Ordinary texts spend at most BLOCK_WORK and INLINE_WORK units a character
#: (measured on the demo, the tests' corpora and generated 200 KB texts with tables, nested
#: lists and dense inline markup; tests/unit/test_rendering.py keeps them under these); the
#: known hostile texts grow quadratically and reach the budget within ~0.1 s of work.
BLOCK_WORK_PER_CHARACTER = 300
INLINE_WORK_PER_CHARACTER = 300
WORK_CONSTANT = 100_000


class _WorkMeter(Extension):
    """A deterministic bound on the work of rendering one text, counted in characters examined.

    Two kinds of work are counted, each against its own budget proportional to the text's
    length (plus WORK_CONSTANT):

    - blocks: the block parser offers every block to each block processor in turn (`test`,
      then `run`); each call is charged the length of the block. A processor that takes one
      line and puts the rest of the block back (a definition list of thousands of lines)
      makes this quadratic.
    - inline: the inline processor scans a text node with each pattern and rebuilds the whole
      node around every match; each scan is charged the characters it passed and each match
      a quarter of the length of the node (a copy in C). Thousands of matches in one
      paragraph (runs of backticks) make this quadratic.

    Past either budget rendering stops with RenderBudgetExceeded. The same text always costs
    the same, whatever else the machine is doing, so the outcome (and the stored HTML) is a
    function of the text alone.
    """

    def __init__(self) -> None:
        super().__init__()
        self.start("")

    def start(self, text: str) -> None:
        self.blocks = self.inline = 0
        self.block_budget = WORK_CONSTANT + BLOCK_WORK_PER_CHARACTER * len(text)
        self.inline_budget = WORK_CONSTANT + INLINE_WORK_PER_CHARACTER * len(text)

    def charge_blocks(self, work: int) -> None:
        self.blocks += work + 1  # +1: no call is free, even on an empty block
        if self.blocks > self.block_budget:
            raise RenderBudgetExceeded(f"block parsing needed over {self.block_budget} units")

    def charge_inline(self, work: int) -> None:
        self.inline += work + 1
        if self.inline > self.inline_budget:
            raise RenderBudgetExceeded(f"inline parsing needed over {self.inline_budget} units")

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (library API)
        # Registered last, so it sees the processors every other extension added.
        for preprocessor in md.preprocessors:
            _shadow_method(preprocessor, "run", self._metered_lines(preprocessor.run))
        for processor in md.parser.blockprocessors:
            _shadow_method(processor, "test", self._metered_block_test(processor.test))
            _shadow_method(processor, "run", self._metered_block_run(processor.run))
        for pattern in md.inlinePatterns:
            _shadow_method(pattern, "getCompiledRegExp", self._metered_regex(pattern.getCompiledRegExp))

    def _metered_lines(self, run: Callable[[list[str]], list[str]]) -> Callable[[list[str]], list[str]]:
        def metered(lines: list[str]) -> list[str]:
            self.charge_blocks(sum(map(len, lines)))
            return run(lines)

        return metered

    def _metered_block_test(self, test: Callable[[Any, str], bool]) -> Callable[[Any, str], bool]:
        def metered(parent: Any, block: str) -> bool:
            self.charge_blocks(len(block))
            return test(parent, block)

        return metered

    def _metered_block_run(self, run: Callable[[Any, list[str]], Any]) -> Callable[[Any, list[str]], Any]:
        def metered(parent: Any, blocks: list[str]) -> Any:
            self.charge_blocks(len(blocks[0]) if blocks else 0)
            return run(parent, blocks)

        return metered

    def _metered_regex(self, compiled: Callable[[], re.Pattern[str]]) -> Callable[[], _MeteredPattern]:
        return lambda: _MeteredPattern(compiled(), self)


def _shadow_method(instance: object, name: str, replacement: Callable[..., Any]) -> None:
    """Replaces one method of one of Markdown's processor objects (an attribute of the instance
    shadows its class's method); the class and its other instances are untouched."""
    setattr(instance, name, replacement)


#: Rebuilding a text node around a match is a copy in C, several times cheaper per character
#: than the other work counted. With INLINE_WORK_PER_CHARACTER, it lets one paragraph hold
#: about a thousand inline elements (links, emphasis, code) however long it is.
_REBUILD_DISCOUNT = 4


class _MeteredPattern:
    """An inline pattern's regex whose scans are charged to the meter. The inline processor
    calls `finditer(data, start)` and rebuilds `data` around the first match it accepts."""

    __slots__ = ("_compiled", "_meter")

    def __init__(self, compiled: re.Pattern[str], meter: _WorkMeter) -> None:
        self._compiled, self._meter = compiled, meter

    def finditer(self, data: str, pos: int = 0) -> Iterator[re.Match[str]]:
        for match in self._compiled.finditer(data, pos):
            self._meter.charge_inline(match.end() - pos + len(data) // _REBUILD_DISCOUNT)
            pos = match.end()
            yield match
        self._meter.charge_inline(len(data) - pos)

    def match(self, data: str, pos: int = 0) -> re.Match[str] | None:  # older patterns' call
        self._meter.charge_inline(len(data))
        return self._compiled.match(data, pos)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._compiled, name)


class _Renderer:
    """One Markdown converter with its meter. Python-Markdown keeps per-document state
    (footnotes, abbreviations, the HTML stash), so each thread has its own (see _local)."""

    def __init__(self) -> None:
        self.meter, self.scans = _WorkMeter(), _BoundedScans()
        self.md = markdown.Markdown(
            extensions=[*_EXTENSIONS, _EscapeRawHtml(), self.scans, self.meter],
            extension_configs=_EXTENSION_CONFIGS,
            output_format="html",
        )

    def convert(self, text: str) -> str:
        """Markdown to (unsanitized) HTML, or RenderBudgetExceeded."""
        # reset() first, not after: a previous conversion that raised left its state.
        self.md.reset()
        self.meter.start(text)
        self.scans.start(text)
        return self.md.convert(text)


class _PerThreadRenderer(threading.local):
    # threading.local runs __init__ once per thread; the instance created at import below also
    # makes a broken configuration fail at start-up rather than on the first request.
    def __init__(self) -> None:
        self.renderer = _Renderer()


_local = _PerThreadRenderer()


def _convert(text: str) -> str:
    """Markdown to (unsanitized) HTML within the work budget, else the text as plain paragraphs
    (the text itself is kept whole: nothing typed is lost)."""
    try:
        return _local.renderer.convert(text)
    except RenderBudgetExceeded:
        log.warning("Markdown of %d characters exceeded its work budget; rendered as plain text", len(text))
    except RecursionError:
        # Thousands of nested list items or quotes exhaust Python's stack inside
        # Python-Markdown. Such text was not written by a person: show it as plain
        # paragraphs rather than fail the page.
        log.warning("Markdown nested too deeply; rendered as plain text")
    # Stopped midway, the parser keeps state that reset() does not clear (the block parser's
    # nesting): the next document starts with a new one.
    _local.renderer = _Renderer()
    return _plain_paragraphs(text)


def render_markdown(text: str) -> str:
    """Render user-written Markdown to HTML that is safe to embed in a page.

    Raw HTML in ``text`` is escaped (shown literally), never interpreted. Images are not
    in the allow-list and are removed. Links keep only http, https, mailto or relative
    targets and always get ``rel="noopener noreferrer nofollow"``. A text whose rendering
    needs more work than its budget (see _WorkMeter) is shown as plain paragraphs. The result
    is a function of ``text`` alone.
    """
    rendered = _convert(text)
    return nh3.clean(
        rendered,
        tags=set(_ALLOWED_TAGS),
        clean_content_tags=set(_DROP_WITH_CONTENT),
        attributes={tag: set(attrs) for tag, attrs in _ALLOWED_ATTRIBUTES.items()},
        tag_attribute_values=_ALLOWED_ATTRIBUTE_VALUES,
        url_schemes=set(_URL_SCHEMES),
        link_rel=_LINK_REL,
        attribute_filter=_filter_attribute,
        strip_comments=True,
    )


def _plain_paragraphs(text: str) -> str:
    paragraphs = re.split(r"\n[ \t]*\n", text)
    return "\n".join(
        "<p>" + html.escape(p.strip("\n")).replace("\n", "<br>\n") + "</p>"
        for p in paragraphs
        if p.strip()
    )
