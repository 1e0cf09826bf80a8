"""`accord audit verify` and `accord audit export`, on intact and on tampered chains."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import text

from accord.workflow.audit import HASHED_COLUMNS, event_hash
from accord.workflow.models import AuditEvent

from ..integration.test_audit_chain import populate


def drop_audit_triggers(database) -> None:
    """What an attacker with database access would do first."""
    with database.engine.begin() as connection:
        if database.engine.dialect.name == "postgresql":
            connection.execute(text("DROP TRIGGER audit_events_append_only ON audit_events"))
        else:
            for suffix in ("no_update", "no_delete", "no_replace"):
                connection.execute(text(f"DROP TRIGGER audit_events_{suffix}"))


def sql(database, statement: str, **params) -> None:
    with database.engine.begin() as connection:
        connection.execute(text(statement), params)


@pytest.fixture
def chain(accord):
    populate(accord.database)
    with accord.database.engine.connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM audit_events")).scalar()
    assert count > 20
    return accord


def test_verify_an_intact_chain(chain):
    result = chain("audit", "verify")
    assert result.status == 0, result.err
    assert "Audit chain intact" in result.out


def test_verify_names_an_altered_event(chain):
    drop_audit_triggers(chain.database)
    sql(chain.database, "UPDATE audit_events SET reason = 'nothing to see' WHERE seq = 7")
    result = chain("audit", "verify")
    assert result.status == 1
    assert result.err.startswith("accord: Audit chain broken at event 7:")
    assert len(result.err.strip().splitlines()) == 1


def test_verify_names_the_event_after_a_removed_one(chain):
    drop_audit_triggers(chain.database)
    sql(chain.database, "DELETE FROM audit_events WHERE seq = 12")
    result = chain("audit", "verify")
    assert result.status == 1
    assert "event 13: expected sequence number 12" in result.err


def test_verify_names_the_first_of_two_reordered_events(chain):
    drop_audit_triggers(chain.database)
    columns = "occurred_at, actor, actor_id, actor_agency, action, recommendation_id, from_state, to_state, revision, reason, payload"
    with chain.database.engine.begin() as connection:
        a = connection.execute(text(f"SELECT {columns} FROM audit_events WHERE seq = 15")).one()._asdict()
        b = connection.execute(text(f"SELECT {columns} FROM audit_events WHERE seq = 16")).one()._asdict()
        assignments = ", ".join(f"{c} = :{c}" for c in a)
        connection.execute(text(f"UPDATE audit_events SET {assignments} WHERE seq = 15"), b)
        connection.execute(text(f"UPDATE audit_events SET {assignments} WHERE seq = 16"), a)
    result = chain("audit", "verify")
    assert result.status == 1
    assert "event 15:" in result.err


def test_verify_catches_a_forged_event_whose_own_hash_was_recomputed(chain):
    """The forger rewrites event 9 and gives it a matching hash: event 10 no longer links."""
    drop_audit_triggers(chain.database)
    with chain.database.read() as session:
        event = session.get(AuditEvent, 9)
        fields = {name: getattr(event, name) for name in HASHED_COLUMNS}
    fields["reason"] = "forged"
    sql(
        chain.database,
        "UPDATE audit_events SET reason = 'forged', hash = :hash WHERE seq = 9",
        hash=event_hash(fields),
    )
    result = chain("audit", "verify")
    assert result.status == 1
    assert "event 10: its prev_hash is not the previous event's hash" in result.err


def test_export_jsonl_lets_anyone_recompute_the_chain(chain, tmp_path):
    out = tmp_path / "audit.jsonl"
    result = chain("audit", "export", "--format", "jsonl", "--output", str(out))
    assert result.status == 0, result.err
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [e["seq"] for e in lines] == list(range(1, len(lines) + 1))
    previous = "0" * 64
    for event in lines:
        assert event["prev_hash"] == previous
        previous = event["hash"]


def test_export_csv_to_stdout(chain):
    result = chain("audit", "export", "--format", "csv")
    assert result.status == 0, result.err
    table = list(csv.DictReader(io.StringIO(result.out)))
    assert table[0]["action"] == "agency.add"
    assert {"seq", "occurred_at", "actor", "action", "payload", "prev_hash", "hash"} <= set(table[0])
    # each action as people read it, in English from the command line
    assert table[0]["action_label"] == "Agency added"
    assert {row["action_label"] for row in table if row["action"] == "thread.start"} == {"Thread started"}


def test_export_rejects_an_unknown_format(chain):
    result = chain("audit", "export", "--format", "xml")
    assert result.status == 2
    assert result.err.count("\n") == 1 and "xml" in result.err
