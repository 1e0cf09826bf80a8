"""Whether a whole page (not a rendered fragment) could run anything a user wrote.

A page may load scripts only from /static/ and never has inline script, event-handler
attributes, `style` or `srcdoc` attributes, URLs with other schemes than http, https and
mailto (the one exception: the empty `data:,` favicon of base.html), or elements that run or
embed things (iframe, object, embed, svg, math, base, meta refresh, style …). The page
templates themselves keep to this (the Content-Security-Policy forbids the rest anyway), so
whatever breaks it came from text a person typed.
"""

from __future__ import annotations

from html.parser import HTMLParser

from ..unit.test_rendering import URL_ATTRIBUTES, url_scheme

SAFE_SCHEMES = {"http", "https", "mailto"}

#: Elements no page of Accord has; any one of them came from text a person typed.
FORBIDDEN_ELEMENTS = {
    "iframe", "frame", "frameset", "object", "embed", "applet", "svg", "math", "base", "style",
    "img", "image", "video", "audio", "source", "track", "picture", "portal", "template",
    "noscript", "xmp", "plaintext", "listing", "marquee", "isindex", "param", "details",
}  # fmt: skip

#: Attributes that carry code or a document of their own.
FORBIDDEN_ATTRIBUTES = {"style", "srcdoc", "formaction", "xmlns", "xlink:href", "background", "dynsrc", "lowsrc"}


class PageAuditor(HTMLParser):
    def __init__(self) -> None:
        # convert_charrefs: text and attribute values arrive unescaped, as a browser sees them
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_script = False
        self.scripts = 0

    def _tag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "script":
            self.scripts += 1
            if not values.get("src", "").startswith("/static/"):
                self.problems.append(f"<script> not from /static/: {values}")
            self._in_script = True
        if tag in FORBIDDEN_ELEMENTS:
            self.problems.append(f"element <{tag}>")
        if tag == "meta" and ("http-equiv" in values or set(values) - {"charset", "name", "content"}):
            self.problems.append(f"<meta> {values}")
        if tag == "link" and not (
            (values.get("rel") == "stylesheet" and values.get("href", "").startswith("/static/"))
            or (values.get("rel") == "icon" and values.get("href") == "data:,")
        ):
            self.problems.append(f"<link> {values}")
        for name, value in values.items():
            if name.startswith("on"):
                self.problems.append(f"event attribute {name} on <{tag}>")
            if name in FORBIDDEN_ATTRIBUTES:
                self.problems.append(f"attribute {name} on <{tag}>")
            if name in URL_ATTRIBUTES and not (tag == "link" and value == "data:,"):
                scheme = url_scheme(value)
                if scheme is not None and scheme not in SAFE_SCHEMES:
                    self.problems.append(f"{name}={value!r} (scheme {scheme!r}) on <{tag}>")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, attrs)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, attrs)
        self._in_script = False

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.problems.append(f"inline script {data[:80]!r}")

    def handle_comment(self, data: str) -> None:
        self.problems.append(f"comment {data[:80]!r}")  # no template has one: conditional comments, <!--><script>


def page_problems(html: str) -> list[str]:
    auditor = PageAuditor()
    auditor.feed(html)
    auditor.close()
    return auditor.problems


def assert_page_safe(html: str, where: str = "") -> None:
    problems = page_problems(html)
    assert not problems, f"{where}: {problems[:5]}"
