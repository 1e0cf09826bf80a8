"""Pages and API answers kept for as long as the data they show has not changed.

Every change to Accord's data writes at least one audit event in the change's own transaction
(`workflow.audit_rule` refuses, or in production logs, a commit without one; the tables it
exempts are never read by a kept view), and sequence numbers only grow
(`services.last_change`). So a read view that depends on nothing but the data, the person
asking, their language and the address gives the same answer until that number moves. Such
views are marked `@kept_while_unchanged(viewer)`: their 200 answers are kept under (view,
address, person, language) with the number beside them, and served again while a one-row
lookup still finds the same number. Sign-in, the visibility rules and the policy are still
applied: the person's session is checked before the view runs, and the person is part of the
key (their agency and roles are data, covered by the number).

Why this is safe without reading the number and the answer in one transaction: the number is
read first, the answer after, so a kept answer is never older than the number it is kept
under; and anyone who reads the same number later reads it while nothing has changed since.

What is not data stays out: the CSRF token of a browser session is kept as a marker and put
back on the way out; a page carrying a flashed message is neither served from nor kept.

Each worker process keeps its own answers, least recently used dropped first beyond a budget
in bytes (ACCORD_ANSWER_CACHE_MB, 0 turns the cache off). An entry costs its key (the address
is in it) as well as its body, so the budget holds whatever addresses are asked for; and an
address longer than any of Accord's own links (MAX_KEPT_ADDRESS) is answered but never kept.
"""

from __future__ import annotations

import secrets
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import Flask, Response, current_app, g, make_response, request, session
from flask_babel import get_locale
from flask_wtf.csrf import generate_csrf

from accord.workflow import services
from accord.workflow.actors import Actor

EXTENSION = "accord.answer_cache"

#: (endpoint, address, the viewer's id or None for a visitor, language)
Key = tuple[str, str, int | None, str]

#: Path and query string, in characters, beyond which an answer is not kept. Accord's own links
#: (filters, pages, a diff's two numbers) stay within a few hundred; anything longer is made
#: up, and keeping it would only let someone fill the budget with a few large keys.
MAX_KEPT_ADDRESS = 2048

#: What an entry takes beyond its strings and body: its key tuple, the `Kept`, the link in the
#: ordered dictionary and its share of the table (~220 bytes measured with tracemalloc on
#: CPython 3.11; tests/pages/test_answer_cache.py checks the total against tracemalloc).
ENTRY_OVERHEAD = 256


@dataclass(frozen=True, slots=True)
class Kept:
    change: int  # `services.last_change` when the answer was made
    body: bytes
    content_type: str
    #: Where the session's CSRF token stood in the body (pages only).
    has_csrf_marker: bool


class AnswerCache:
    """Answers by key, each valid for one state of the data; least recently used dropped
    first once the entries (keys and bodies, `cost`) exceed `budget` bytes. Safe to share
    between a worker's threads."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.size = 0
        self.hits = self.misses = 0
        #: Stands for the CSRF token in kept pages: random, so no content can contain it.
        self.marker = secrets.token_hex(16).encode()
        self._entries: OrderedDict[Key, Kept] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Key, change: int) -> Kept | None:
        with self._lock:
            kept = self._entries.get(key)
            if kept is None or kept.change != change:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return kept

    def put(self, key: Key, kept: Kept) -> None:
        if cost(key, kept) > self.budget:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.size -= cost(key, old)
            if old is not None and old.change > kept.change:
                kept = old  # a slower request of an older state must not replace a newer answer
            self._entries[key] = kept
            self.size += cost(key, kept)
            while self.size > self.budget:
                dropped_key, dropped = self._entries.popitem(last=False)
                self.size -= cost(dropped_key, dropped)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.size = 0

    def __len__(self) -> int:
        return len(self._entries)


def cost(key: Key, kept: Kept) -> int:
    """The bytes an entry holds: its key's parts, its body and type, and the bookkeeping."""
    return ENTRY_OVERHEAD + sum(map(sys.getsizeof, (*key, kept.body, kept.content_type)))


def init_app(app: Flask, budget_bytes: int) -> None:
    app.extensions[EXTENSION] = AnswerCache(budget_bytes) if budget_bytes > 0 else None


def answer_cache(app: Flask | None = None) -> AnswerCache | None:
    return (app or current_app).extensions.get(EXTENSION)


def kept_while_unchanged(viewer: Callable[[], Actor]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Keep the view's 200 answers while the data is unchanged (see the module). `viewer`
    gives the person the answer is made for; the view must depend on nothing else than the
    data, that person, the language and the address (path and query)."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            cache = answer_cache()
            if (cache is None or request.method != "GET" or session.get("_flashes")
                    or len(request.path) + len(request.query_string) > MAX_KEPT_ADDRESS):
                return view(*args, **kwargs)
            database = current_app.extensions["accord.database"]
            with database.read() as reading:
                change = services.last_change(reading)
            key = (request.endpoint or "", request.url, viewer().id, str(get_locale()))
            kept = cache.get(key, change)
            if kept is not None:
                return _served(kept, cache)
            response = make_response(view(*args, **kwargs))
            if _keepable(response):
                cache.put(key, _keep(response, change, cache))
            return response

        # For the tests that list them (mypy knows no attributes of functions beyond their own).
        wrapper.keeps_answers = True  # type: ignore[attr-defined]
        return wrapper

    return decorator


#: Headers a kept answer may have: it is served again with its body and type only.
_PLAIN_HEADERS = frozenset({"content-type", "content-length"})


def _keepable(response: Response) -> bool:
    """A whole 200 answer with nothing but a body and its type (no cookie, download name, …)."""
    return (response.status_code == 200 and not response.direct_passthrough
            and all(name.lower() in _PLAIN_HEADERS for name, _ in response.headers))


def _keep(response: Response, change: int, cache: AnswerCache) -> Kept:
    body = response.get_data()
    token = g.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
    marked = bool(token) and token.encode() in body
    if marked:
        body = body.replace(token.encode(), cache.marker)
    return Kept(change, body, response.content_type, marked)


def _served(kept: Kept, cache: AnswerCache) -> Response:
    body = kept.body.replace(cache.marker, generate_csrf().encode()) if kept.has_csrf_marker else kept.body
    return Response(body, content_type=kept.content_type)
