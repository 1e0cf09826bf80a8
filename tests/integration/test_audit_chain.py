"""The audit chain: every change appends a linked event; the database refuses to rewrite it or
the history it vouches for; verification names the first event that does not match."""

from __future__ import annotations

import itertools
import json
import sqlite3

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from accord.workflow import audit, services
from accord.workflow.models import content_hash
from accord.workflow.states import State

from ..factories import build_world
from ..helpers import events

IMMUTABLE = ["audit_events", "revisions", "comments", "approvals"]
#: A column of each table to try to rewrite.
COLUMN = {"audit_events": "reason", "revisions": "summary", "comments": "body", "approvals": "reason"}
PRIMARY_KEY = {"audit_events": "seq", "revisions": "id", "comments": "id", "approvals": "id"}


def test_every_change_appends_one_linked_event(session, world):
    before = len(events(session))
    rec = world.bring_to(session, State.adopted)
    chain = events(session)
    assert [e.action for e in chain[before:]] == [
        "create", "submit", "endorse", "approve", "approve", "adopt"
    ]
    assert all(e.recommendation_id == rec.id for e in chain[before:])
    for previous, event in itertools.pairwise(chain):
        assert event.seq == previous.seq + 1
        assert event.prev_hash == previous.hash
    adopt = chain[-1]
    assert (adopt.from_state, adopt.to_state, adopt.revision) == ("expert_consolidation", "adopted", 1)
    assert (adopt.actor, adopt.actor_agency) == ("lv_expert", "LV-SBG")
    payload = json.loads(adopt.payload)
    assert payload["content_hash"] == content_hash(rec.title, rec.body)
    assert [a["agency"] for a in payload["approvals"]] == ["KG-BS", "KZ-BS"]
    assert audit.verify_chain(session).ok


def test_verification_of_an_intact_chain(session, world):
    world.bring_to(session, State.merged)
    result = audit.verify_chain(session)
    assert result.ok and result.first_bad is None
    assert result.events == len(events(session))
    assert result.head == events(session)[-1].hash


def populate(database):
    """A world, an adopted recommendation and a thread: a row in every immutable table."""
    with database.write() as session:
        world = build_world(session)
        world.bring_to(session, State.adopted)  # approvals and revisions
        discussed = world.bring_to(session, State.national_review)
        services.start_thread(session, world["kg_approver"], discussed.id, body="Noted.")
    return database


def rows(database, table: str) -> list:
    with database.engine.connect() as connection:
        return connection.execute(text(f"SELECT * FROM {table} ORDER BY {PRIMARY_KEY[table]}")).all()


def assert_refused(database, table: str, sql: str) -> None:
    before = rows(database, table)
    with pytest.raises(DatabaseError, match="append-only"), database.engine.begin() as connection:
        connection.execute(text(sql))
    assert rows(database, table) == before


SQLITE_ATTACKS = {
    "update": "UPDATE {t} SET {c} = 'forged'",
    "delete": "DELETE FROM {t}",
    "insert or replace": "INSERT OR REPLACE INTO {t} SELECT * FROM {t} WHERE {pk} = (SELECT min({pk}) FROM {t})",
    "replace": "REPLACE INTO {t} SELECT * FROM {t} WHERE {pk} = (SELECT max({pk}) FROM {t})",
    "upsert": "INSERT INTO {t} SELECT * FROM {t} WHERE true ON CONFLICT DO UPDATE SET {c} = 'forged'",
}

PG_ATTACKS = {
    "update": "UPDATE {t} SET {c} = 'forged'",
    "delete": "DELETE FROM {t}",
    "truncate": "TRUNCATE {t} CASCADE",
    "upsert": "INSERT INTO {t} SELECT * FROM {t} ON CONFLICT ({pk}) DO UPDATE SET {c} = 'forged'",
}


@pytest.fixture
def populated(fresh_database):
    return populate(fresh_database)


@pytest.mark.parametrize("table", IMMUTABLE)
def test_the_database_refuses_to_rewrite_history(populated, dialect, table):
    attacks = SQLITE_ATTACKS if dialect == "sqlite" else PG_ATTACKS
    for sql in attacks.values():
        assert_refused(populated, table, sql.format(t=table, c=COLUMN[table], pk=PRIMARY_KEY[table]))


@pytest.mark.parametrize("table", IMMUTABLE)
def test_sqlite_refuses_replace_even_without_recursive_triggers(populated, dialect, table):
    """Another program's connection (the sqlite3 shell, say) has recursive triggers off, so
    REPLACE would delete without firing delete triggers; the insert trigger still refuses."""
    if dialect != "sqlite":
        pytest.skip("a SQLite connection of another program")
    raw = sqlite3.connect(populated.url.database)
    try:
        assert raw.execute("PRAGMA recursive_triggers").fetchone() == (0,)
        before = raw.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            raw.execute(f"INSERT OR REPLACE INTO {table} SELECT * FROM {table} WHERE rowid = 1")
        raw.rollback()
        assert raw.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall() == before
    finally:
        raw.close()
