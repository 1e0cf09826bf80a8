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

import atexit
import html
import logging
import multiprocessing
import multiprocessing.pool
import re
import threading
import unicodedata
from collections.abc import Callable
from typing import Any

import markdown
import nh3
from markdown.extensions import Extension
from markdown.inlinepatterns import LinkInlineProcessor, ReferenceInlineProcessor

__all__ = ["render_markdown"]

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
# of one document together at _LINK_SCAN_BUDGET; past either limit a "[" is shown as
# text instead of starting a link. Real links are far below both.
_MAX_LINK_SPAN = 2_000
_LINK_SCAN_BUDGET = 1_000_000
# Footnote references ("[^id]") are matched by a regex with the same flaw, in C.
_FOOTNOTE_REF = re.compile(r"\[\^([^\]]{0,200})\]", re.DOTALL | re.UNICODE)


class _BoundedScans(Extension):
    """Caps the link and footnote scans described above (see _MAX_LINK_SPAN)."""

    def __init__(self) -> None:
        super().__init__()
        self.remaining = _LINK_SCAN_BUDGET

    def reset(self) -> None:  # called by Markdown.reset(), before every document
        self.remaining = _LINK_SCAN_BUDGET

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (library API)
        md.registerExtension(self)
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


def _build_markdown() -> markdown.Markdown:
    return markdown.Markdown(
        extensions=[*_EXTENSIONS, _EscapeRawHtml(), _BoundedScans()],
        extension_configs=_EXTENSION_CONFIGS,
        output_format="html",
    )


class _PerThreadMarkdown(threading.local):
    # markdown.Markdown keeps per-document state (footnotes, abbreviations, the HTML
    # stash), so one instance must not be shared between threads. threading.local runs
    # __init__ once per thread; the instance created at import below also makes a broken
    # configuration fail at start-up rather than on the first request.
    def __init__(self) -> None:
        self.md = _build_markdown()


_local = _PerThreadMarkdown()


#: Texts up to this size render in this process: every input measured, hostile ones included,
#: renders in a few seconds at most at this size.
INLINE_LIMIT = 20_000
#: Longer texts render in a worker process, stopped after this many seconds: Python-Markdown
#: is super-linear on some crafted inputs (a minute and more at 200 KB), and a save must not
#: hold the database's write lock, or a CPU, that long.
RENDER_TIMEOUT = 3.0

_pool_lock = threading.Lock()
_pool: multiprocessing.pool.Pool | None = None


def _convert(text: str) -> str:
    """Markdown to (unsanitized) HTML, in whichever process runs it."""
    try:
        # reset() first, not after: a previous conversion that raised left its state.
        return _local.md.reset().convert(text)
    except RecursionError:
        # Thousands of nested list items or quotes exhaust Python's stack inside
        # Python-Markdown. Such text was not written by a person: show it as plain
        # paragraphs rather than fail the page, and start the next document afresh.
        log.warning("Markdown nested too deeply; rendered as plain text")
        _local.md = _build_markdown()
        return _plain_paragraphs(text)


def _worker_pool() -> multiprocessing.pool.Pool:
    global _pool
    with _pool_lock:
        if _pool is None:
            # spawn, not fork: the servers that call this run threads.
            _pool = multiprocessing.get_context("spawn").Pool(processes=2)
        return _pool


def _stop_pool() -> None:
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.terminate()
            _pool = None


atexit.register(_stop_pool)


def _convert_bounded(text: str) -> str:
    if len(text) <= INLINE_LIMIT:
        return _convert(text)
    pending = _worker_pool().apply_async(_convert, (text,))
    try:
        return pending.get(RENDER_TIMEOUT)
    except multiprocessing.TimeoutError:
        # Stop the stuck worker (and with it the pool: a new one starts on the next call).
        # The text is kept and shown as plain paragraphs; nothing typed is lost.
        log.warning("Markdown of %d characters took over %.0f s; rendered as plain text", len(text), RENDER_TIMEOUT)
        _stop_pool()
        return _plain_paragraphs(text)


def render_markdown(text: str) -> str:
    """Render user-written Markdown to HTML that is safe to embed in a page.

    Raw HTML in ``text`` is escaped (shown literally), never interpreted. Images are not
    in the allow-list and are removed. Links keep only http, https, mailto or relative
    targets and always get ``rel="noopener noreferrer nofollow"``. A long text whose
    rendering takes more than RENDER_TIMEOUT seconds is shown as plain paragraphs.
    """
    rendered = _convert_bounded(text)
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
