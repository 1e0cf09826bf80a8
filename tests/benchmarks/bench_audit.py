"""Audit chain verification speed: builds a chain of N events, then verifies it both ways.

    python -m tests.benchmarks.bench_audit [--events 1000000] [--database-url URL] [--repeat 3]
    python -m tests.benchmarks.bench_audit --existing --database-url URL   # a chain already there

The chain is written in bulk (one transaction, hashes computed exactly as `audit.record`
computes them), so only verification is measured: the old per-row path
(`audit.verify_chain_reference`: ORM rows, a dict and json.dumps per event) beside the new one
(`audit.verify_chain`), on the same chain, each the best of `--repeat` runs. The events vary
like real ones: transitions with states and reasons (some with quotes, newlines and non-ASCII
text), decisions, comments, edits, administration without a recommendation or a revision.
With --existing the database's own chain is verified instead (say, after `accord demo --scale`).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert

from accord.migrations import schema
from accord.workflow import audit
from accord.workflow.db import Database
from accord.workflow.models import AuditEvent, utcnow

from ._common import Figure, print_table

ACTORS = [("aigerim", "KZ-BS"), ("dilnoza", "UZ-BT"), ("ilze", "LV-SBG"), ("kadri", "EE-ASS"),
          ("janis", "LV-SRS"), ("system", None)]
REASONS = [None, None, None, "Say who chairs the annual meeting.",
           "Weekly meetings are too frequent; propose \"monthly\".\nSee the minutes.",
           "Согласовано с таможней — Jānis Ozols, Kalniņa"]


def _shape(seq: int, rng: random.Random) -> dict:
    """One event's varying fields, in the proportions of a real chain."""
    actor, agency = rng.choice(ACTORS)
    digest = f"{rng.getrandbits(256):064x}"
    kind = rng.random()
    if kind < 0.45:
        return dict(actor=actor, actor_agency=agency, action="comment", from_state=None, to_state=None,
                    revision=None, reason=None, payload={"thread": seq // 5, "comment": seq})
    if kind < 0.7:
        revision = rng.randint(1, 30)
        return dict(actor=actor, actor_agency=agency, action="edit", from_state=None, to_state=None,
                    revision=revision, reason=None,
                    payload={"previous_revision": revision - 1, "base_revision": revision - 1,
                             "merged": False, "content_hash": digest})
    if kind < 0.85:
        return dict(actor=actor, actor_agency=agency, action=rng.choice(["approve", "object"]),
                    from_state=None, to_state=None, revision=rng.randint(1, 30),
                    reason=rng.choice(REASONS), payload={"content_hash": digest})
    if kind < 0.98:
        action, source, target = rng.choice([
            ("submit", "draft", "national_review"), ("endorse", "national_review", "expert_consolidation"),
            ("request_changes", "national_review", "draft"), ("adopt", "expert_consolidation", "adopted"),
        ])
        return dict(actor=actor, actor_agency=agency, action=action, from_state=source, to_state=target,
                    revision=rng.randint(1, 30), reason=rng.choice(REASONS), payload={"content_hash": digest})
    return dict(actor="system", actor_agency=None, action="user.add", from_state=None, to_state=None,
                revision=None, reason=None,
                payload={"username": f"user{seq}", "agency": "KZ-BS", "roles": ["national_expert"]})


def build_chain(database: Database, count: int, batch: int = 10_000) -> float:
    started = time.perf_counter()
    prev_hash, moment, rng = audit.GENESIS_HASH, utcnow(), random.Random(2019)
    with database.write() as session:
        connection = session.connection()
        rows = []
        for seq in range(1, count + 1):
            shape = _shape(seq, rng)
            fields = {
                "seq": seq,
                "occurred_at": moment + timedelta(microseconds=seq * 1_000 + rng.randrange(1_000)),
                "actor_id": None,
                "recommendation_id": None,
                **shape,
                "payload": audit.canonical_json(shape["payload"]),
                "prev_hash": prev_hash,
            }
            fields["hash"] = prev_hash = audit.event_hash(fields)
            rows.append(fields)
            if len(rows) == batch:
                connection.execute(insert(AuditEvent.__table__), rows)
                rows = []
        if rows:
            connection.execute(insert(AuditEvent.__table__), rows)
    return time.perf_counter() - started


def measure(database: Database, verify, repeat: int) -> tuple[float, audit.Verification]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        with database.read() as session:
            result = verify(session)
        best = min(best, time.perf_counter() - started)
    assert result is not None
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--database-url", help="an empty database (default: a new SQLite file)")
    parser.add_argument("--existing", action="store_true", help="verify the chain already in --database-url")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each verification; the best counts")
    parser.add_argument("--skip-reference", action="store_true", help="measure the new path only")
    args = parser.parse_args()
    if args.existing and not args.database_url:
        parser.error("--existing needs --database-url")
    with tempfile.TemporaryDirectory() as tmp:
        database = Database(args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}")
        figures = []
        if not args.existing:
            schema.upgrade(database.engine)
            built = build_chain(database, args.events)
            figures.append(Figure("write the chain (bulk)", built, "s", note=f"{args.events / built:,.0f} events/s"))
        new_time, new = measure(database, audit.verify_chain, args.repeat)
        if not args.skip_reference:
            old_time, old = measure(database, audit.verify_chain_reference, args.repeat)
            assert old == new, (old, new)
            figures.append(Figure("verify, old per-row path (ORM rows, json.dumps)", old_time, "s",
                                  note=f"{old.events / old_time:,.0f} events/s"))
        figures.append(Figure("verify, new path (raw cursor, direct canonical text)", new_time, "s",
                              ratio=old_time / new_time if not args.skip_reference else None,
                              note=f"{new.events / new_time:,.0f} events/s"))
        dialect = database.engine.dialect.name
        database.dispose()
    assert new.ok and (args.existing or new.events == args.events), new
    print_table(f"Audit chain of {new.events:,} events ({dialect}), best of {args.repeat}", figures)


if __name__ == "__main__":
    main()
