"""The fast verification writes exactly the text `event_hash` hashes, and so reaches exactly the
answer of the reference walk, on ordinary and on unusual events, intact or tampered."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, text

from accord.workflow import audit
from accord.workflow.models import AuditEvent
from accord.workflow.validation import DB_INT_MAX

TRICKY_TEXT = [
    "", "plain", 'quote " inside', "back\\slash", "new\nline\r\ttab", "\x00nul\x01\x1f\x7f",
    "Jānis Ozols — Kalniņa", "Согласовано с таможней", "国境管理", "emoji 🛂✅", "\u2028\u2029",
    '{"nested":"json","n":1}', "\\u0041 not an escape", "'single'", "</script>",
]


def document(fields: dict) -> dict:
    """What event_hash hashes, built the way it builds it."""
    doc = {name: fields[name] for name in audit.HASHED_COLUMNS}
    doc["occurred_at"] = doc["occurred_at"].isoformat(timespec="microseconds")
    return doc


def random_event(rng: random.Random) -> dict:
    def maybe(value):
        return None if rng.random() < 0.3 else value

    def some_text():
        return rng.choice(TRICKY_TEXT) + "".join(chr(rng.randrange(0x20, 0x3000)) for _ in range(rng.randrange(4)))

    def big_int():
        return rng.choice([0, 1, -1, 7, 2**31 - 1, 2**63, -(2**70), 10**30, rng.randrange(-10**6, 10**6)])

    zone = timezone(timedelta(minutes=rng.randrange(-12 * 60, 14 * 60)))
    return {
        "seq": big_int(),
        "occurred_at": datetime(rng.randrange(1, 10_000), rng.randrange(1, 13), rng.randrange(1, 29),
                                rng.randrange(24), rng.randrange(60), rng.randrange(60),
                                rng.choice([0, 5, 500_000, rng.randrange(1_000_000)]), tzinfo=rng.choice([UTC, zone])),
        "actor": some_text(),
        "actor_id": maybe(big_int()),
        "actor_agency": maybe(some_text()),
        "action": some_text(),
        "recommendation_id": maybe(big_int()),
        "from_state": maybe(some_text()),
        "to_state": maybe(some_text()),
        "revision": maybe(big_int()),
        "reason": maybe(some_text()),
        "payload": audit.canonical_json({"reason": maybe(some_text()), "n": big_int()}),
        "prev_hash": rng.choice([audit.GENESIS_HASH, some_text()]),
    }


def test_event_text_is_the_canonical_json_of_many_events():
    rng = random.Random(2019)
    for _ in range(20_000):
        fields = random_event(rng)
        assert audit.event_text(fields) == audit.canonical_json(document(fields))
        assert hashlib.sha256(audit.event_text(fields).encode()).hexdigest() == audit.event_hash(fields)


@settings(max_examples=300, deadline=None)
@given(
    strings=st.lists(st.one_of(st.none(), st.text()), min_size=7, max_size=7),
    numbers=st.lists(st.one_of(st.none(), st.integers()), min_size=3, max_size=3),
    seq=st.integers(),
    moment=st.datetimes(timezones=st.just(UTC)),
    actor=st.text(),
    action=st.text(),
)
def test_event_text_for_any_text_and_integers(strings, numbers, seq, moment, actor, action):
    actor_agency, from_state, to_state, reason, payload, prev_hash, _ = strings
    fields = {
        "seq": seq, "occurred_at": moment, "actor": actor, "actor_id": numbers[0],
        "actor_agency": actor_agency, "action": action, "recommendation_id": numbers[1],
        "from_state": from_state, "to_state": to_state, "revision": numbers[2], "reason": reason,
        "payload": payload or "{}", "prev_hash": prev_hash or audit.GENESIS_HASH,
    }
    assert audit.event_text(fields) == audit.canonical_json(document(fields))


@pytest.mark.parametrize("column, value", [
    ("actor_id", True), ("revision", 2.5), ("seq", "7"), ("actor", 5), ("reason", b"bytes"),
])
def test_values_no_database_column_holds_are_refused_not_misencoded(column, value):
    fields = random_event(random.Random(1))
    fields[column] = value
    with pytest.raises(TypeError):
        audit.event_text(fields)


# --- the two walks on a real chain -------------------------------------------------------------


def write_chain(database, events: list[dict]) -> None:
    prev = audit.GENESIS_HASH
    rows = []
    for seq, event in enumerate(events, start=1):
        fields = {"seq": seq, "actor_id": None, "recommendation_id": None, **event, "prev_hash": prev}
        fields["hash"] = prev = audit.event_hash(fields)
        rows.append(fields)
    with database.write() as session:
        session.connection().execute(insert(AuditEvent.__table__), rows)


def unusual_events(dialect: str) -> list[dict]:
    """Events with every kind of text a column can hold (PostgreSQL refuses NUL in text)."""
    texts = TRICKY_TEXT if dialect == "sqlite" else [t.replace("\x00", "") for t in TRICKY_TEXT]
    rng = random.Random(7)
    start = datetime(2019, 11, 12, 9, 30, tzinfo=UTC)
    events = []
    for i in range(300):
        moment = start + timedelta(seconds=i, microseconds=rng.choice([0, 10, 500_000, 123_456]))
        if i == 5:  # where PostgreSQL's fast path steps aside (readable in any time zone)
            moment = datetime(1, 1, 1, 15, 0, tzinfo=UTC)
        if i == 6:
            moment = datetime(9999, 12, 31, 9, 0, 0, 999_999, tzinfo=UTC)
        events.append({
            "occurred_at": moment,
            "actor": rng.choice(texts[1:]),
            "actor_agency": rng.choice([None, "LV-SBG", "Ā-1"]),
            "action": rng.choice(["comment", "approve", 'we"ird\\action']),
            "from_state": rng.choice([None, "draft"]),
            "to_state": rng.choice([None, "national_review", "\x01"]),
            "revision": rng.choice([None, 0, 1, DB_INT_MAX, -DB_INT_MAX]),
            "reason": rng.choice([None, *texts]),
            "payload": audit.canonical_json({"text": rng.choice(texts), "n": rng.randrange(10**9)}),
        })
    return events


def both(database) -> audit.Verification:
    with database.read() as session:
        fast = audit.verify_chain(session)
    with database.read() as session:
        reference = audit.verify_chain_reference(session)
    assert fast == reference
    return fast


def tamper(database, sql: str, **params) -> None:
    with database.engine.begin() as connection:
        if database.engine.dialect.name == "postgresql":
            connection.execute(text("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events"))
        else:
            for suffix in ("no_update", "no_delete", "no_replace"):
                connection.execute(text(f"DROP TRIGGER IF EXISTS audit_events_{suffix}"))
        connection.execute(text(sql), params)


@pytest.fixture
def chain(fresh_database, dialect):
    write_chain(fresh_database, unusual_events(dialect))
    return fresh_database


def test_an_intact_chain_of_unusual_events(chain, monkeypatch):
    result = both(chain)
    assert result.ok and result.events == 300
    # Ordinary events never need the reference path: count how often it is taken.
    calls = []
    original = audit.event_hash
    monkeypatch.setattr(audit, "event_hash", lambda fields: calls.append(fields["seq"]) or original(fields))
    with chain.read() as session:
        assert audit.verify_chain(session).ok
    assert calls == ([6, 7] if chain.engine.dialect.name == "postgresql" else [])


def test_an_empty_chain(fresh_database):
    assert both(fresh_database) == audit.Verification(True, 0, None, None)


@pytest.mark.parametrize("sql, first_bad", [
    ("UPDATE audit_events SET reason = 'forged \"quote\"' WHERE seq = 40", 40),
    ("UPDATE audit_events SET actor = 'Jānis' WHERE seq = 1", 1),
    ("UPDATE audit_events SET revision = NULL WHERE seq = 77 AND revision IS NOT NULL", None),
    ("DELETE FROM audit_events WHERE seq = 120", 121),
    ("DELETE FROM audit_events WHERE seq = 300", None),
    ("UPDATE audit_events SET prev_hash = '" + "f" * 64 + "' WHERE seq = 200", 200),
    ("UPDATE audit_events SET seq = seq + 1000 WHERE seq = 150", 151),
    ("UPDATE audit_events SET occurred_at = occurred_at + interval '1 microsecond' WHERE seq = 9", 9),
])
def test_tampered_chains_get_the_same_answer(chain, dialect, sql, first_bad):
    if "interval" in sql and dialect == "sqlite":
        sql = "UPDATE audit_events SET occurred_at = '2019-11-12 09:30:09.000001' WHERE seq = 9"
    tamper(chain, sql)
    result = both(chain)
    if first_bad is not None:
        assert not result.ok and result.first_bad == first_bad


def test_sqlite_values_in_other_layouts_or_types_take_the_reference_path(chain, dialect):
    """SQLite stores what it is given: a time written by hand, a number of another type. The
    reference reads those through SQLAlchemy; the fast path must agree, whatever they are."""
    if dialect != "sqlite":
        pytest.skip("PostgreSQL's columns are typed")
    tamper(chain, "UPDATE audit_events SET occurred_at = '2019-11-12T09:30:10' WHERE seq = 10")
    tamper(chain, "UPDATE audit_events SET revision = 2.5 WHERE seq = 11")
    tamper(chain, "UPDATE audit_events SET occurred_at = '2019-11-12 09:30:12.5+02:00' WHERE seq = 12")
    assert both(chain).first_bad == 10  # altered, so the hashes no longer match: both say where
    rehash_all(chain)  # a forger rewrites the chain over what the reference reads
    assert both(chain).ok


def rehash_all(database) -> None:
    """Recompute every hash and link from what the ORM reads (a forger's full rewrite)."""
    from sqlalchemy import select

    with database.read() as session:
        columns = [getattr(AuditEvent, name) for name in audit.HASHED_COLUMNS]
        events = [row._asdict() for row in session.execute(select(*columns).order_by(AuditEvent.seq))]
    prev = audit.GENESIS_HASH
    with database.engine.begin() as connection:
        for fields in events:
            fields["prev_hash"] = prev
            prev = audit.event_hash(fields)
            connection.execute(
                text("UPDATE audit_events SET prev_hash = :p, hash = :h WHERE seq = :s"),
                {"p": fields["prev_hash"], "h": prev, "s": fields["seq"]},
            )


def test_a_time_that_python_cannot_read_fails_as_the_reference_fails(chain, dialect):
    if dialect != "sqlite":
        pytest.skip("PostgreSQL only stores valid times")
    tamper(chain, "UPDATE audit_events SET occurred_at = '2019-02-30 09:30:00.000000' WHERE seq = 3")
    with chain.read() as session, pytest.raises(ValueError):
        audit.verify_chain_reference(session)
    with chain.read() as session, pytest.raises(ValueError):
        audit.verify_chain(session)


def test_postgresql_in_another_date_style_fails_as_the_reference_fails(chain, dialect):
    """The times then come in another layout: the fast path steps aside for the reference's,
    which the driver cannot read in that style either."""
    if dialect != "postgresql":
        pytest.skip("a PostgreSQL setting")
    for verify in (audit.verify_chain_reference, audit.verify_chain):
        with chain.read() as session:
            session.execute(text("SET DateStyle = 'SQL, DMY'"))
            with pytest.raises(NotImplementedError, match="DateStyle"):
                verify(session)
