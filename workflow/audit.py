"""The hash-chained audit log: append, verify, export.

Each event's hash is SHA-256 over the canonical JSON (sorted keys, no spaces, UTF-8) of every
other column, `prev_hash` included, so altering, removing or reordering any event breaks the
chain from that point on.

Appends are serialized so two writers can never fork the chain: on PostgreSQL by a
transaction-scoped advisory lock taken just before reading the head (held until commit); on
SQLite by the write transaction itself, which holds the database's single write lock from its
BEGIN IMMEDIATE. Unique constraints on `seq`, `hash` and `prev_hash` hold the rule in the
database too, should anything bypass the lock.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from .actors import Actor
from .models import AuditEvent, Recommendation, utcnow

GENESIS_HASH = "0" * 64

#: Any constant: the key of the advisory lock that serializes appends on PostgreSQL.
_CHAIN_LOCK_KEY = 0x_ACC0_2D_A0D17

HASHED_COLUMNS = (
    "seq",
    "occurred_at",
    "actor",
    "actor_id",
    "actor_agency",
    "action",
    "recommendation_id",
    "from_state",
    "to_state",
    "revision",
    "reason",
    "payload",
    "prev_hash",
)


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _format_time(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def event_hash(fields: dict[str, Any]) -> str:
    """SHA-256 over the canonical JSON of an event's fields (everything but `hash`)."""
    document = {name: fields[name] for name in HASHED_COLUMNS}
    document["occurred_at"] = _format_time(document["occurred_at"])
    return hashlib.sha256(canonical_json(document).encode()).hexdigest()


def _lock_chain(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK_KEY})


def record(
    session: Session,
    actor: Actor,
    action: str,
    *,
    recommendation: Recommendation | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    revision: int | None = None,
    reason: str | None = None,
    payload: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction.

    Call it last in a use case: pending changes are flushed first (so optimistic-lock conflicts
    surface before the chain is locked), and the lock is then held only until commit.
    """
    session.flush()
    _lock_chain(session)
    head = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (head.seq + 1, head.hash) if head else (1, GENESIS_HASH)
    fields: dict[str, Any] = {
        "seq": seq,
        "occurred_at": utcnow(),
        "actor": actor.username,
        "actor_id": actor.id,
        "actor_agency": actor.agency.code if actor.agency else None,
        "action": action,
        "recommendation_id": recommendation.id if recommendation else None,
        "from_state": from_state,
        "to_state": to_state,
        "revision": revision,
        "reason": reason,
        "payload": canonical_json(payload or {}),
        "prev_hash": prev_hash,
    }
    event = AuditEvent(**fields, hash=event_hash(fields))
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class Verification:
    ok: bool
    events: int
    head: str | None
    first_bad: int | None
    problem: str | None = None


def verify_chain(session: Session, *, batch_size: int = 5_000) -> Verification:
    """Walk the chain in order and name the first event that does not match.

    An event is bad when its sequence number is not the next one (a removed or reordered row),
    its `prev_hash` is not the previous event's hash, or its own hash does not match its fields.
    """
    columns = [getattr(AuditEvent, name) for name in HASHED_COLUMNS] + [AuditEvent.hash]
    rows = session.execute(
        select(*columns).order_by(AuditEvent.seq).execution_options(yield_per=batch_size)
    )
    expected_seq, prev_hash, count = 1, GENESIS_HASH, 0
    for row in rows:
        fields = row._asdict()
        problem = None
        if fields["seq"] != expected_seq:
            problem = f"expected sequence number {expected_seq}, found {fields['seq']}"
        elif fields["prev_hash"] != prev_hash:
            problem = "its prev_hash is not the previous event's hash"
        elif event_hash(fields) != fields["hash"]:
            problem = "its hash does not match its contents"
        if problem:
            rows.close()
            return Verification(False, count, prev_hash, fields["seq"], problem)
        expected_seq, prev_hash, count = expected_seq + 1, fields["hash"], count + 1
    return Verification(True, count, prev_hash if count else None, None)


#: Columns of an export, in order: everything hashed, and the hash, so anyone can re-verify it.
EXPORT_COLUMNS = (*HASHED_COLUMNS, "hash")


def event_document(event: AuditEvent) -> dict[str, Any]:
    """An event as plain JSON-ready data (payload parsed), for exports and the API."""
    document = {name: getattr(event, name) for name in EXPORT_COLUMNS}
    document["occurred_at"] = _format_time(event.occurred_at)
    document["payload"] = json.loads(event.payload)
    return document


def iter_events(session: Session, *, batch_size: int = 5_000) -> Iterator[AuditEvent]:
    yield from session.scalars(
        select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=batch_size)
    )


EXPORT_FORMATS = ("jsonl", "csv")


def export_events(events: Iterable[AuditEvent], out: IO[str], fmt: str) -> int:
    """Write events as JSON lines or CSV; returns how many were written."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS) if fmt == "csv" else None
    if writer:
        writer.writeheader()
    count = 0
    for event in events:
        document = event_document(event)
        if writer:
            document["payload"] = event.payload  # the canonical text, exactly as hashed
            writer.writerow(document)
        else:
            out.write(canonical_json(document) + "\n")
        count += 1
    return count
