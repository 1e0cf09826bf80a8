"""The application's routes, read from `app.url_map`, so that a route added later is covered,
or fails the coverage tests until someone says how to call it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flask import Flask
from werkzeug.routing import AnyConverter, Rule

#: Routes no test here calls: what they serve holds nothing of anyone's.
EXEMPT = {
    "static": "the stylesheet and scripts, the same for everyone",
}


@dataclass(frozen=True)
class Route:
    endpoint: str
    method: str
    rule: str
    #: Parameters naming something stored (ids, usernames), as opposed to a fixed choice
    #: such as <any(csv, jsonl):fmt>.
    ids: frozenset[str]
    choices: dict[str, tuple[str, ...]]

    @property
    def is_api(self) -> bool:
        return self.rule.startswith("/api/")

    @property
    def reads(self) -> bool:
        return self.method == "GET"

    def __str__(self) -> str:
        return f"{self.method} {self.rule}"


def _route(rule: Rule, method: str) -> Route:
    converters = rule._converters  # werkzeug keeps the converter of each parameter here
    choices = {
        name: tuple(sorted(converter.items))
        for name, converter in converters.items()
        if isinstance(converter, AnyConverter)
    }
    ids = frozenset(name for name, converter in converters.items() if not isinstance(converter, AnyConverter))
    return Route(rule.endpoint, method, rule.rule, ids, choices)


def routes(app: Flask) -> Iterator[Route]:
    """Every (endpoint, method) of the application but the exempt ones."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint in EXEMPT:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield _route(rule, method)


def build(app: Flask, endpoint: str, method: str, values: dict[str, Any]) -> str:
    """The path of `endpoint` with these values; those that are not parameters of the route
    become the query string."""
    return app.url_map.bind("localhost").build(endpoint, values, method=method)
