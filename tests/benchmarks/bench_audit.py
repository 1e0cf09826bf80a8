"""Audit chain verification speed: builds a chain of N events, then verifies it.

    python -m tests.benchmarks.bench_audit [--events 100000] [--database-url URL]

The chain is written in bulk (as one transaction, hashes computed exactly as `audit.record`
computes them), so only verification is measured.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert

from workflow import audit, schema
from workflow.db import Database
from workflow.models import AuditEvent, utcnow

from ._common import Figure, print_table


def build_chain(database: Database, count: int, batch: int = 10_000) -> float:
    started = time.perf_counter()
    prev_hash, moment = audit.GENESIS_HASH, utcnow()
    with database.write() as session:
        rows = []
        for seq in range(1, count + 1):
            fields = {
                "seq": seq,
                "occurred_at": moment + timedelta(milliseconds=seq),
                "actor": "bench",
                "actor_id": None,
                "actor_agency": "LV-SBG",
                "action": "comment",
                "recommendation_id": None,
                "from_state": None,
                "to_state": None,
                "revision": seq % 17,
                "reason": None,
                "payload": audit.canonical_json({"thread": seq // 5, "comment": seq}),
                "prev_hash": prev_hash,
            }
            fields["hash"] = prev_hash = audit.event_hash(fields)
            rows.append(fields)
            if len(rows) == batch:
                session.execute(insert(AuditEvent), rows)
                rows = []
        if rows:
            session.execute(insert(AuditEvent), rows)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--database-url", help="an empty database (default: a new SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        database = Database(args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}")
        schema.upgrade(database.engine)
        built = build_chain(database, args.events)
        started = time.perf_counter()
        with database.read() as session:
            result = audit.verify_chain(session)
        elapsed = time.perf_counter() - started
        database.dispose()
    assert result.ok and result.events == args.events, result
    print_table(f"Audit chain of {args.events:,} events ({database.engine.dialect.name})", [
        Figure("write the chain (bulk)", built, "s", note=f"{args.events / built:,.0f} events/s"),
        Figure("verify the chain", elapsed, "s", note=f"{args.events / elapsed:,.0f} events/s"),
    ])


if __name__ == "__main__":
    main()
