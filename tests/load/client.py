"""A small HTTP client for load runs: one keep-alive connection per client thread and server,
every request timed and recorded under a kind ("read detail", "edit", …), cookies kept for pages.
Given several servers (of one deployment), a client sends its requests to each in turn, so the
token or session one server issued is used on the others.

Nothing here asserts: the caller reads `Sample`s and `Stats` and decides.
"""

from __future__ import annotations

import http.client
import json
import math
import re
import time
import urllib.parse
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

#: What no user may ever read: SQLite's answer when a writer gave up waiting for the lock.
DATABASE_LOCKED = "database is locked"


@dataclass(frozen=True)
class Sample:
    kind: str
    method: str
    path: str
    status: int  # 0: no answer at all (the connection failed)
    server: int  # which of the client's servers answered (an index into its base URLs)
    seconds: float
    finished: float  # time.monotonic() when the answer was read
    locked: bool  # the answer mentioned "database is locked"
    error: str = ""  # a failed connection, or the start of a 5xx answer's body


@dataclass
class Answer:
    status: int
    body: bytes
    headers: http.client.HTTPMessage | None
    server: int = 0  # which of the client's servers answered

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def error_code(self) -> str | None:
        try:
            return self.json()["error"]["code"]
        except (ValueError, KeyError, TypeError):
            return None


class Client:
    """One person's connection to the servers (one or more base URLs of one deployment). Not
    thread-safe: one per thread."""

    def __init__(self, base_urls: str | Sequence[str], *, timeout: float = 60.0, first: int = 0) -> None:
        urls = [base_urls] if isinstance(base_urls, str) else list(base_urls)
        parts = [urllib.parse.urlsplit(url) for url in urls]
        self.servers = [(p.hostname or "127.0.0.1", p.port or 80) for p in parts]
        self.timeout = timeout
        self.samples: list[Sample] = []
        self.token: str | None = None
        self.cookies: dict[str, str] = {}
        self._connections: dict[int, http.client.HTTPConnection] = {}
        self._turn = first  # the server of the first request

    # --- the wire ---------------------------------------------------------------------------

    def _connect(self, server: int) -> http.client.HTTPConnection:
        if server not in self._connections:
            host, port = self.servers[server]
            self._connections[server] = http.client.HTTPConnection(host, port, timeout=self.timeout)
        return self._connections[server]

    def _close(self, server: int) -> None:
        if (connection := self._connections.pop(server, None)) is not None:
            connection.close()

    def close(self) -> None:
        for server in list(self._connections):
            self._close(server)

    def next_server(self) -> int:
        """The server whose turn it is (each in turn)."""
        server = self._turn % len(self.servers)
        self._turn += 1
        return server

    def request(
        self, kind: str, method: str, path: str, *, json_body: Any = None,
        form: dict[str, str] | None = None, headers: dict[str, str] | None = None, server: int | None = None,
    ) -> Answer:
        """Send one request to `server` (an index into the base URLs; by default each in turn)
        and record it. A connection that fails is recorded as status 0."""
        if server is None:
            server = self.next_server()
        sent_headers = {"Accept": "application/json" if path.startswith("/api/") else "text/html"}
        body: bytes | None = None
        if json_body is not None:
            body = json.dumps(json_body).encode()
            sent_headers["Content-Type"] = "application/json"
        elif form is not None:
            body = urllib.parse.urlencode(form).encode()
            sent_headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.token and path.startswith("/api/"):
            sent_headers["Authorization"] = f"Bearer {self.token}"
        if self.cookies:
            sent_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        sent_headers.update(headers or {})
        started = time.perf_counter()
        try:
            answer = self._exchange(server, method, path, body, sent_headers)
        except (OSError, http.client.HTTPException) as failure:
            self._close(server)
            seconds = time.perf_counter() - started
            self.samples.append(Sample(kind, method, path, 0, server, seconds, time.monotonic(), False,
                                       f"{type(failure).__name__}: {failure}"))
            return Answer(0, b"", None, server)
        seconds = time.perf_counter() - started
        locked = DATABASE_LOCKED.encode() in answer.body.lower()
        error = answer.text[:300] if answer.status >= 500 else ""
        self.samples.append(Sample(kind, method, path, answer.status, server, seconds, time.monotonic(),
                                   locked, error))
        self._keep_cookies(answer)
        return answer

    def _exchange(self, server: int, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> Answer:
        connection = self._connect(server)
        reused = connection.sock is not None
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            # The server closed an idle keep-alive connection just as it was reused: nothing
            # reached the application, so sending again on a new connection is safe.
            if not reused:
                raise
            self._close(server)
            connection = self._connect(server)
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
        data = response.read()
        if response.will_close:
            self._close(server)
        return Answer(response.status, data, response.headers, server)

    def _keep_cookies(self, answer: Answer) -> None:
        if answer.headers is None:
            return
        for header in answer.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if "max-age=0" in header.lower() or "expires=thu, 01 jan 1970" in header.lower():
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value

    # --- signing in -------------------------------------------------------------------------

    def sign_in_api(self, username: str, password: str) -> None:
        """A bearer token for the API calls that follow."""
        answer = self.request("sign in (API)", "POST", "/api/v1/tokens",
                              json_body={"username": username, "password": password})
        if answer.status != 201:
            raise RuntimeError(f"{username} could not sign in to the API: {answer.status} {answer.text[:200]}")
        self.token = answer.json()["token"]

    def sign_in_pages(self, username: str, password: str) -> None:
        """A browser session (cookie), through the real sign-in form and its CSRF token."""
        form = self.request("sign in (page)", "GET", "/sign-in")
        token = csrf_token(form.text)
        answer = self.request("sign in (page)", "POST", "/sign-in",
                              form={"csrf_token": token, "username": username, "password": password})
        if answer.status != 303:
            raise RuntimeError(f"{username} could not sign in to the pages: {answer.status}")


def csrf_token(html: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    if not found:
        raise RuntimeError("no CSRF token on the page")
    return found.group(1)


# --- figures ------------------------------------------------------------------------------


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values (0 for none)."""
    if not sorted_values:
        return 0.0
    rank = max(1, min(len(sorted_values), math.ceil(fraction * len(sorted_values))))
    return sorted_values[rank - 1]


@dataclass
class KindStats:
    kind: str
    count: int
    statuses: dict[int, int]
    p50_ms: float
    p99_ms: float
    per_second: float


@dataclass
class Stats:
    """Samples of one run, summed up per kind of request."""

    samples: list[Sample]
    seconds: float  # the wall-clock time the samples were taken over
    kinds: list[KindStats] = field(init=False)

    def __post_init__(self) -> None:
        by_kind: dict[str, list[Sample]] = defaultdict(list)
        for sample in self.samples:
            by_kind[sample.kind].append(sample)
        self.kinds = [self._kind(kind, samples) for kind, samples in sorted(by_kind.items())]

    def _kind(self, kind: str, samples: list[Sample]) -> KindStats:
        times = sorted(s.seconds for s in samples)
        statuses: dict[int, int] = defaultdict(int)
        for s in samples:
            statuses[s.status] += 1
        return KindStats(kind, len(samples), dict(sorted(statuses.items())), percentile(times, 0.5) * 1000,
                         percentile(times, 0.99) * 1000, len(samples) / self.seconds if self.seconds else 0)

    @property
    def total(self) -> int:
        return len(self.samples)

    @property
    def per_second(self) -> float:
        return self.total / self.seconds if self.seconds else 0.0

    def server_errors(self) -> list[Sample]:
        return [s for s in self.samples if s.status >= 500]

    def per_server(self) -> list[int]:
        """How many requests each server answered (or failed to)."""
        counts = Counter(s.server for s in self.samples)
        return [counts[n] for n in range(max(counts, default=-1) + 1)]

    def failed_connections(self) -> list[Sample]:
        return [s for s in self.samples if s.status == 0]

    def locked(self) -> list[Sample]:
        return [s for s in self.samples if s.locked]

    def overall(self, samples: Iterable[Sample] | None = None) -> tuple[float, float]:
        times = sorted(s.seconds for s in (self.samples if samples is None else samples))
        return percentile(times, 0.5) * 1000, percentile(times, 0.99) * 1000

    def table(self) -> str:
        width = max([len(k.kind) for k in self.kinds] + [len("all requests")])
        lines = [f"  {'request':<{width}}  {'count':>7}  {'per s':>7}  {'p50 ms':>8}  {'p99 ms':>8}  statuses"]
        for k in self.kinds:
            statuses = " ".join(f"{status or 'fail'}×{n}" for status, n in k.statuses.items())
            lines.append(f"  {k.kind:<{width}}  {k.count:>7,}  {k.per_second:>7.1f}  {k.p50_ms:>8.1f}  "
                         f"{k.p99_ms:>8.1f}  {statuses}")
        p50, p99 = self.overall()
        lines.append(f"  {'all requests':<{width}}  {self.total:>7,}  {self.per_second:>7.1f}  {p50:>8.1f}  {p99:>8.1f}")
        return "\n".join(lines)
