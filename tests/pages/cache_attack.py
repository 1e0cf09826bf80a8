"""Reads of a kept answer under thousands of absurd addresses, in a process of its own, with its
resident memory before and after (issue 11, item 10: 6,000 reads with a 250 KB query string
once grew a server from 89 MB to 1,563 MB, the keys being kept but not counted).

    python -m tests.pages.cache_attack DATABASE_URL [--requests 6000] [--query-kb 250] [--budget-mb 32]

DATABASE_URL names an empty migrated database. Prints one JSON object: the statuses answered,
the cache's accounted size and entries, its budget, and the process's resident memory (MB)
before and after. Requests go straight to the WSGI application (no HTTP, no test client, whose
own handling of a 250 KB address is slower than Accord's).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
from collections import Counter
from typing import Any

from accord.config.settings import Settings
from accord.web import create_app
from accord.web.answer_cache import answer_cache
from accord.workflow import passwords
from accord.workflow.db import Database
from accord.workflow.states import State

from ..factories import PASSWORD, build_world


def resident_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def call(app: Any, path: str, query: str, token: str) -> int:
    """One GET through the WSGI interface; its status code (the body is read and dropped)."""
    statuses: list[str] = []
    environ = {
        "REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "PATH_INFO": path, "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "5000", "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "127.0.0.1:5000", "HTTP_ACCEPT": "application/json",
        "HTTP_AUTHORIZATION": f"Bearer {token}", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr, "wsgi.multithread": False, "wsgi.multiprocess": False,
        "wsgi.run_once": False, "wsgi.version": (1, 0),
    }
    body = app(environ, lambda status, headers, exc_info=None: statuses.append(status))
    try:
        for _ in body:
            pass
    finally:
        getattr(body, "close", lambda: None)()
    return int(statuses[0].split()[0])


def attack(database_url: str, *, requests: int, query_bytes: int, budget_mb: int) -> dict[str, Any]:
    passwords.use_fast_hashing_for_tests()
    database = Database(database_url)
    with database.write() as session:
        world = build_world(session)
        rec_id = world.bring_to(session, State.expert_consolidation).id
    with tempfile.TemporaryDirectory() as instance:
        settings = Settings.from_env({"ACCORD_INSTANCE_PATH": instance, "ACCORD_ANSWER_CACHE_MB": str(budget_mb)})
        app = create_app(settings, database=database)
        token = app.test_client().post("/api/v1/tokens", json={"username": "kz_approver", "password": PASSWORD}).json["token"]
        path = f"/api/v1/recommendations/{rec_id}"
        call(app, path, "", token)  # the usual address, kept: the one entry that should stay
        padding = "x" * query_bytes
        before = resident_mb()
        started = time.perf_counter()
        statuses = Counter(call(app, path, f"n={n}&pad={padding}", token) for n in range(requests))
        seconds = time.perf_counter() - started
        cache = answer_cache(app)
        assert cache is not None
        return {
            "requests": requests, "query_bytes": query_bytes, "statuses": dict(statuses),
            "seconds": round(seconds, 1), "budget": cache.budget, "accounted": cache.size,
            "entries": len(cache), "rss_before_mb": round(before, 1), "rss_after_mb": round(resident_mb(), 1),
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.pages.cache_attack", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("database_url")
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--query-kb", type=int, default=250)
    parser.add_argument("--budget-mb", type=int, default=32)
    args = parser.parse_args(argv)
    outcome = attack(args.database_url, requests=args.requests, query_bytes=args.query_kb * 1000,
                     budget_mb=args.budget_mb)
    print(json.dumps(outcome))
    return 0


if __name__ == "__main__":
    sys.exit(main())
