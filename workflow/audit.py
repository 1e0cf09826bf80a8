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
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from .actors import Actor
from .audit_actions import ENGLISH_LABELS, AuditAction
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


def lock_chain(session: Session) -> None:
    """Take the lock that serializes appends, until the transaction ends (see the module)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK_KEY})


def record(
    session: Session,
    actor: Actor,
    action: AuditAction,
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
    surface before the chain is locked), and the lock is then held only until commit. The action
    is one of `AuditAction` (ValueError for any other: no free string reaches the chain).
    """
    action = AuditAction(action)
    session.flush()
    lock_chain(session)
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
        "action": action.value,
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


_SEQUENCE_PROBLEM = "expected sequence number {expected}, found {found}"
_LINK_PROBLEM = "its prev_hash is not the previous event's hash"
_CONTENT_PROBLEM = "its hash does not match its contents"


def verify_chain_reference(session: Session, *, batch_size: int = 5_000) -> Verification:
    """The plain walk over ORM rows: one dict and one `event_hash` per event.

    `verify_chain` gives the same answer faster; this one stays as the definition it is
    measured and tested against (`python -m tests.benchmarks.bench_audit`).
    """
    rows = session.execute(
        select(*_VERIFIED_COLUMNS).order_by(AuditEvent.seq).execution_options(yield_per=batch_size)
    )
    expected_seq, prev_hash, count = 1, GENESIS_HASH, 0
    for row in rows:
        fields = row._asdict()
        problem = None
        if fields["seq"] != expected_seq:
            problem = _SEQUENCE_PROBLEM.format(expected=expected_seq, found=fields["seq"])
        elif fields["prev_hash"] != prev_hash:
            problem = _LINK_PROBLEM
        elif event_hash(fields) != fields["hash"]:
            problem = _CONTENT_PROBLEM
        if problem:
            rows.close()
            return Verification(False, count, prev_hash, fields["seq"], problem)
        expected_seq, prev_hash, count = expected_seq + 1, fields["hash"], count + 1
    return Verification(True, count, prev_hash if count else None, None)


_VERIFIED_COLUMNS = [getattr(AuditEvent, name) for name in HASHED_COLUMNS] + [AuditEvent.hash]

_escape = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) uses for str
_int_text = int.__repr__  # what json.dumps uses for int; refuses anything that is not an int


def _text_or_null(value: Any) -> str:
    return "null" if value is None else _escape(value)


def _int_or_null(value: Any) -> str:
    if value is None:
        return "null"
    if type(value) is not int:  # a bool is an int to Python, but JSON writes it as true/false
        raise TypeError(f"not an integer: {value!r}")
    return _int_text(value)


def event_text(fields: dict[str, Any]) -> str:
    """`canonical_json` of an event's hashed document, written directly, keys in sorted order.

    The fields hold what the database hands back: text or None in the text columns, int or None
    in the integer ones, a datetime in `occurred_at` (whose ISO text needs no escaping). Anything
    else raises TypeError. The result is the exact text `event_hash` hashes
    (tests/unit/test_audit_canonical.py compares the two); `verify_chain` writes the same text
    inline, from the raw columns.
    """
    return (
        f'{{"action":{_escape(fields["action"])},"actor":{_escape(fields["actor"])},'
        f'"actor_agency":{_text_or_null(fields["actor_agency"])},'
        f'"actor_id":{_int_or_null(fields["actor_id"])},'
        f'"from_state":{_text_or_null(fields["from_state"])},'
        f'"occurred_at":"{_format_time(fields["occurred_at"])}",'
        f'"payload":{_escape(fields["payload"])},"prev_hash":{_escape(fields["prev_hash"])},'
        f'"reason":{_text_or_null(fields["reason"])},'
        f'"recommendation_id":{_int_or_null(fields["recommendation_id"])},'
        f'"revision":{_int_or_null(fields["revision"])},"seq":{_int_or_null(fields["seq"])},'
        f'"to_state":{_text_or_null(fields["to_state"])}}}'
    )


class _Unusual(Exception):
    """A value the fast path does not handle: the reference path takes that event."""


#: The raw columns read by `verify_chain`, in this order.
_RAW_COLUMNS = (
    "seq", "occurred_at", "actor", "actor_id", "actor_agency", "action", "recommendation_id",
    "from_state", "to_state", "revision", "reason", "payload", "prev_hash", "hash",
)

# PostgreSQL gives the time as the text of its UTC wall-clock time, in the range where the
# driver's datetime (in any session time zone) is sure to hold it; outside that range the
# column is NULL and the event takes the reference path, which fails or succeeds as before.
_PG_TIME = (
    "CASE WHEN occurred_at >= '0001-01-02 00:00:00+00' AND occurred_at < '9999-12-31 00:00:00+00' "
    "THEN (occurred_at AT TIME ZONE 'UTC')::text END AS occurred_at"
)
_PG_INTEGER_OIDS = frozenset({21, 23, 20})  # int2, int4, int8
_PG_TEXT_OIDS = frozenset({25, 1043})  # text, varchar


def verify_chain(session: Session, *, batch_size: int = 5_000) -> Verification:
    """Walk the chain in order and name the first event that does not match.

    An event is bad when its sequence number is not the next one (a removed or reordered row),
    its `prev_hash` is not the previous event's hash, or its own hash does not match its fields.

    The answer is `verify_chain_reference`'s, reached about five times faster: rows come
    straight from the driver's cursor in large batches (no ORM rows, no type processing), and
    each event's canonical JSON is written directly, keys in sorted order, with the escaping
    function json.dumps itself uses and the time formatted from its raw text (SQLite's,
    validated; PostgreSQL's UTC wall-clock time). An event with any unusual value (a type the
    schema does not give, a time in another layout or out of range), and any event whose hash
    does not match, is hashed again the reference way, so the fast path can only agree with it.
    """
    connection = session.connection()  # the session's own transaction, so its own snapshot
    dialect = connection.dialect.name
    pg = dialect == "postgresql"
    columns = ", ".join(_PG_TIME if pg and name == "occurred_at" else name for name in _RAW_COLUMNS)
    statement = f"SELECT {columns} FROM audit_events ORDER BY seq"
    fetch_size = max(batch_size, 20_000)
    dbapi_error = connection.dialect.loaded_dbapi.Error
    # A server-side cursor on PostgreSQL (the chain never sits in memory whole), in binary (the
    # driver reads it faster; text comes back as the same str); SQLite's cursors step through
    # the table as they are read anyway.
    raw = connection.connection
    cursor = raw.cursor(name="accord_verify_chain", binary=True) if pg else raw.cursor()
    try:
        cursor.execute(statement)
    except dbapi_error as error:
        cursor.close()
        raise DBAPIError.instance(statement, None, error, dbapi_error) from error
    if pg and not _pg_types_as_expected(cursor.description):
        cursor.close()
        return verify_chain_reference(session, batch_size=batch_size)

    def reference_digest(seq: int) -> str:
        row = session.execute(select(*_VERIFIED_COLUMNS).where(AuditEvent.seq == seq)).one()
        return event_hash(row._asdict())

    expected_seq, prev_hash, count = 1, GENESIS_HASH, 0
    sha256, escape, int_text, from_iso = hashlib.sha256, _escape, _int_text, datetime.fromisoformat
    try:
        while rows := cursor.fetchmany(fetch_size):
            for (seq, when, actor, actor_id, actor_agency, action, recommendation_id, from_state,
                 to_state, revision, reason, payload, stored_prev, stored_hash) in rows:
                if seq != expected_seq:
                    problem = _SEQUENCE_PROBLEM.format(expected=expected_seq, found=seq)
                    return Verification(False, count, prev_hash, seq, problem)
                if stored_prev != prev_hash:
                    return Verification(False, count, prev_hash, seq, _LINK_PROBLEM)
                try:
                    # The text of a UTC time, "YYYY-MM-DD HH:MM:SS.ffffff", is what
                    # _format_time writes but for the "T" and the offset: from SQLite when
                    # Python reads it as a valid naive time; from PostgreSQL (always valid)
                    # once the trailing zeros it drops from the fraction are put back.
                    if pg:
                        if when is None:
                            raise _Unusual
                        if len(when) != 26:
                            when = _pad_pg_time(when)
                        if when[4:20:3] != "-- ::.":
                            raise _Unusual
                    elif len(when) != 26 or when[4:20:3] != "-- ::." or from_iso(when).tzinfo is not None:
                        raise _Unusual
                    time_text = f"{when[:10]}T{when[11:]}+00:00"
                    # event_text, inlined: this runs once per event. prev_hash is the
                    # previous event's verified hash (64 hex digits): nothing to escape.
                    text = (
                        f'{{"action":{escape(action)},"actor":{escape(actor)},'
                        f'"actor_agency":{"null" if actor_agency is None else escape(actor_agency)},'
                        f'"actor_id":{"null" if actor_id is None else int_text(actor_id)},'
                        f'"from_state":{"null" if from_state is None else escape(from_state)},'
                        f'"occurred_at":"{time_text}","payload":{escape(payload)},'
                        f'"prev_hash":"{prev_hash}",'
                        f'"reason":{"null" if reason is None else escape(reason)},'
                        f'"recommendation_id":{"null" if recommendation_id is None else int_text(recommendation_id)},'
                        f'"revision":{"null" if revision is None else int_text(revision)},'
                        f'"seq":{int_text(seq)},'
                        f'"to_state":{"null" if to_state is None else escape(to_state)}}}'
                    )
                    digest = sha256(text.encode()).hexdigest()
                except (_Unusual, TypeError, ValueError):
                    digest = reference_digest(seq)
                if digest != stored_hash and reference_digest(seq) != stored_hash:
                    return Verification(False, count, prev_hash, seq, _CONTENT_PROBLEM)
                expected_seq, prev_hash, count = expected_seq + 1, stored_hash, count + 1
    except dbapi_error as error:
        raise DBAPIError.instance(statement, None, error, dbapi_error) from error
    finally:
        cursor.close()
    return Verification(True, count, prev_hash if count else None, None)


def _pad_pg_time(when: str) -> str:
    """PostgreSQL's "2019-11-12 09:30:00.5" or "2019-11-12 09:30:00" as "…00.500000"."""
    if len(when) == 19:
        return when + ".000000"
    if 21 <= len(when) < 26 and when[19] == ".":
        return when.ljust(26, "0")
    raise _Unusual


def _pg_types_as_expected(description: Any) -> bool:
    """Whether PostgreSQL hands back the types the fast path reads (the schema's own)."""
    kinds = {column.name: column.type_code for column in description}
    integers = ("seq", "actor_id", "recommendation_id", "revision")
    return all(kinds[name] in _PG_INTEGER_OIDS for name in integers) and all(
        kinds[name] in _PG_TEXT_OIDS for name in _RAW_COLUMNS if name not in integers
    )


#: Columns of an export, in order: everything hashed, and the hash, so anyone can re-verify it;
#: then whether the event's words were withheld from the one who exported it, and how its
#: action reads (`AuditAction.label`, in the exporter's language).
EXPORT_COLUMNS = (*HASHED_COLUMNS, "hash", "withheld", "action_label")

#: Payload keys that hold words people wrote (a thread's quoted passage), withheld with the
#: reason from those who may read every event but not every recommendation.
PAYLOAD_WORDS = ("quote",)


def event_document(
    event: AuditEvent, *, withhold: bool = False, labels: Mapping[str, str] = ENGLISH_LABELS
) -> dict[str, Any]:
    """An event as plain JSON-ready data (payload parsed), for exports and the API; its
    action's label is looked up in `labels` (by stored value; English unless given).

    With `withhold`, without the words people wrote (its reason and any quoted passage, as
    null) and marked `withheld`: who did what, when, on which revision, and the hashes stay.
    Such an event does not re-verify from the document; the server's verification still
    covers it, and auditors read it whole.
    """
    document = {name: getattr(event, name) for name in (*HASHED_COLUMNS, "hash")}
    document["occurred_at"] = _format_time(event.occurred_at)
    document["payload"] = json.loads(event.payload)
    document["withheld"] = withhold
    document["action_label"] = labels.get(event.action, event.action)
    if withhold:
        document["reason"] = None
        for key in PAYLOAD_WORDS:
            if document["payload"].get(key) is not None:
                document["payload"][key] = None
    return document


def csv_row(
    event: AuditEvent, *, withhold: bool = False, labels: Mapping[str, str] = ENGLISH_LABELS
) -> dict[str, Any]:
    """An event as a row of EXPORT_COLUMNS: its payload as the canonical text, exactly as
    hashed (unless withheld)."""
    row = event_document(event, withhold=withhold, labels=labels)
    row["payload"] = canonical_json(row["payload"]) if withhold else event.payload
    return row


def iter_events(session: Session, *, batch_size: int = 5_000) -> Iterator[AuditEvent]:
    yield from session.scalars(
        select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=batch_size)
    )


EXPORT_FORMATS = ("jsonl", "csv")


def export_events(
    events: Iterable[AuditEvent], out: IO[str], fmt: str, *, labels: Mapping[str, str] = ENGLISH_LABELS
) -> int:
    """Write events as JSON lines or CSV, actions labelled from `labels`; returns how many
    were written."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS) if fmt == "csv" else None
    if writer:
        writer.writeheader()
    count = 0
    for event in events:
        if writer:
            writer.writerow(csv_row(event, labels=labels))
        else:
            out.write(canonical_json(event_document(event, labels=labels)) + "\n")
        count += 1
    return count
