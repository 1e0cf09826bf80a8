"""Measuring one kind of request at a time with a fixed number of concurrent connections.

Each connection is a thread with a keep-alive connection of its own (`tests.load.client`),
sending its next request as soon as the last one is answered. Requests answered during the
warm-up are not counted; throughput is the requests answered in the window that follows,
divided by its length, and latency the p50 and p99 of those same requests.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from tests.load.client import Client, Sample, Stats


@dataclass
class Identity:
    """A signed-in person whose token and cookies every connection may use."""

    username: str
    token: str | None = None
    cookies: dict[str, str] = field(default_factory=dict)

    @classmethod
    def sign_in(cls, base_url: str, username: str, password: str, *, pages: bool) -> Identity:
        client = Client(base_url)
        try:
            if pages:
                client.sign_in_pages(username, password)
            else:
                client.sign_in_api(username, password)
        finally:
            client.close()
        return cls(username, client.token, dict(client.cookies))

    def wear(self, client: Client) -> None:
        client.token, client.cookies = self.token, dict(self.cookies)


class Target:
    """What one connection of a measurement sends; `step` answers False once it ran dry."""

    name: str
    server: str = "accord"  # which server it is sent to: "accord" or "floor"
    goal: float | None = None  # the throughput ratio to the floor it should reach

    def connection(self, index: int) -> Callable[[Client, random.Random], bool]:
        raise NotImplementedError


@dataclass
class Reads(Target):
    """GET one of `paths` again and again, as one of `people` (by connection, in turn)."""

    name: str
    paths: Sequence[str]
    people: Sequence[Identity] = ()
    server: str = "accord"
    goal: float | None = None

    def connection(self, index: int) -> Callable[[Client, random.Random], bool]:
        person = self.people[index % len(self.people)] if self.people else None
        worn = person is None

        def step(client: Client, rng: random.Random) -> bool:
            nonlocal worn
            if not worn:
                person.wear(client)
                worn = True
            client.request(self.name, "GET", rng.choice(self.paths))
            return True

        return step


@dataclass
class ReadsWhileWriting(Reads):
    """Reads as above while one of the connections also posts a comment on the read
    recommendation every `every` seconds, as `writer` (the comments are not counted): every
    comment changes the data, so kept answers are made anew after each."""

    writer: Identity | None = None
    thread_id: int = 0
    every: float = 0.5

    def connection(self, index: int) -> Callable[[Client, random.Random], bool]:
        read = super().connection(index)
        if index != 0:
            return read
        last = 0.0

        def step(client: Client, rng: random.Random) -> bool:
            nonlocal last
            if time.monotonic() - last >= self.every:
                last = time.monotonic()
                reader = (client.token, client.cookies)
                self.writer.wear(client)
                client.request("write", "POST", f"/api/v1/threads/{self.thread_id}/comments",
                               json_body={"body": f"Noted at {last:.3f}."})
                client.token, client.cookies = reader
                return True
            return read(client, rng)

        return step


class ApproveAdopt(Target):
    """For each recommendation of the supply: every addressed agency approves the current
    revision, then an EU expert adopts it. Each request is one transition (an approval or the
    adoption), all counted under one name. The connections share the supply, across rounds."""

    def __init__(self, name: str, supply: Sequence[int], approvers: Sequence[Identity], adopter: Identity,
                 *, revision: int = 1) -> None:
        self.name, self.approvers, self.adopter, self.revision = name, approvers, adopter, revision
        self.supply = deque(supply)

    def connection(self, index: int) -> Callable[[Client, random.Random], bool]:
        def step(client: Client, rng: random.Random) -> bool:
            try:
                rec_id = self.supply.popleft()  # atomic: no two connections get the same one
            except IndexError:
                return False
            for approver in self.approvers:
                approver.wear(client)
                client.request(self.name, "POST", f"/api/v1/recommendations/{rec_id}/approvals",
                               json_body={"decision": "approve", "revision": self.revision})
            self.adopter.wear(client)
            client.request(self.name, "POST", f"/api/v1/recommendations/{rec_id}/transitions",
                           json_body={"action": "adopt"})
            return True

        return step


@dataclass
class Measurement:
    target: Target
    stats: Stats
    refused: list[Sample]  # answers that were not 2xx (a benchmark of failures measures nothing)
    ran_dry: bool

    @property
    def per_second(self) -> float:
        return self.stats.per_second

    @property
    def p50_ms(self) -> float:
        return self.stats.overall()[0]

    @property
    def p99_ms(self) -> float:
        return self.stats.overall()[1]

    @classmethod
    def combined(cls, rounds: Sequence[Measurement]) -> Measurement:
        """The rounds of one target as one: all their requests over all their windows."""
        stats = Stats([s for m in rounds for s in m.stats.samples], sum(m.stats.seconds for m in rounds))
        return cls(rounds[0].target, stats, [s for m in rounds for s in m.refused], any(m.ran_dry for m in rounds))


def measure(base_url: str, target: Target, *, connections: int, seconds: float, warmup: float,
            seed: int = 2019) -> Measurement:
    clients = [Client(base_url) for _ in range(connections)]
    steps = [target.connection(n) for n in range(connections)]
    started = time.monotonic()
    window_start, deadline = started + warmup, started + warmup + seconds
    dry_at: list[float] = []

    def run(n: int) -> None:
        rng = random.Random(seed + n)
        try:
            while time.monotonic() < deadline:
                if not steps[n](clients[n], rng):
                    dry_at.append(time.monotonic())
                    return
        finally:
            clients[n].close()

    threads = [threading.Thread(target=run, args=(n,), name=f"bench-{n}") for n in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    window_end = min([deadline, *dry_at])
    window = [s for c in clients for s in c.samples
              if window_start <= s.finished <= window_end and s.kind == target.name]
    stats = Stats(window, max(window_end - window_start, 1e-9))
    refused = [s for c in clients for s in c.samples if not 200 <= s.status < 300]
    return Measurement(target, stats, refused, ran_dry=bool(dry_at) and min(dry_at) < deadline)
