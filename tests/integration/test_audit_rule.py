"""Every change writes an audit event, by construction (workflow/audit_rule.py): a transaction
that changes data and appends no event is refused at commit (logged in production), whatever
writes it; bookkeeping tables are listed once; and the rule holds for every Session, the tests'
own included."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import event, func, insert, select, text
from sqlalchemy.orm import Session

from accord.workflow import audit, audit_rule, services
from accord.workflow.actors import SYSTEM
from accord.workflow.audit_actions import ENGLISH_LABELS, AuditAction
from accord.workflow.audit_rule import EXEMPT_TABLES, UnauditedChange
from accord.workflow.db import Database
from accord.workflow.models import Agency, AgencyKind, AuditEvent, Base, Comment, Decision, User
from accord.workflow.states import Transition

from ..factories import AGENCIES, build_world


@pytest.fixture
def world_database(fresh_database):
    with fresh_database.write() as session:
        world = build_world(session)
        rec = world.draft(session)
    return fresh_database, world, rec


def count(database: Database, model) -> int:
    with database.read() as session:
        return session.scalar(select(func.count()).select_from(model))


def forget_events(monkeypatch) -> None:
    """Every service as it would be if it forgot to write its event."""
    monkeypatch.setattr(audit, "record", lambda *args, **kwargs: None)


def test_a_service_that_forgets_its_event_is_refused_and_changes_nothing(world_database, monkeypatch):
    database, world, rec = world_database
    forget_events(monkeypatch)
    comments, events = count(database, Comment), count(database, AuditEvent)
    with pytest.raises(UnauditedChange, match="changed comments, threads and appended no audit event"), database.write() as session:
        services.start_thread(session, world["kz_expert"], rec.id, body="Forgotten.")
    assert (count(database, Comment), count(database, AuditEvent)) == (comments, events)


def test_in_production_it_is_logged_as_an_error_and_the_change_stands(world_database, monkeypatch, caplog):
    database, world, rec = world_database
    production = Database(database.url, strict_audit=False)
    forget_events(monkeypatch)
    comments = count(database, Comment)
    with caplog.at_level(logging.ERROR, logger="accord.audit"), production.write() as session:
        services.start_thread(session, world["kz_expert"], rec.id, body="Forgotten, but kept.")
    production.dispose()
    assert count(database, Comment) == comments + 1
    assert [r.levelno for r in caplog.records] == [logging.ERROR]
    assert "changed comments, threads and appended no audit event" in caplog.text


def test_core_statements_and_plain_sql_count_as_changes(world_database):
    database, _, _ = world_database
    changes = [
        lambda s: s.connection().execute(insert(Agency.__table__).values(
            code="XX-1", name="Core", country="Latvia", kind="eu")),
        lambda s: s.execute(text("UPDATE users SET display_name = 'Renamed' WHERE username = 'kz_expert'")),
        lambda s: s.execute(text("DELETE FROM user_roles WHERE user_id = (SELECT id FROM users WHERE username = 'admin')")),
    ]
    for change in changes:
        with pytest.raises(UnauditedChange), database.write() as session:
            change(session)
    with database.read() as session:
        assert session.scalar(select(User.display_name).where(User.username == "kz_expert")) == "kz_expert"


def test_an_event_in_the_same_transaction_satisfies_it_even_after_a_savepoint(world_database):
    database, world, rec = world_database
    with database.write() as session:
        with session.begin_nested():  # a savepoint's changes are weighed with the whole transaction
            session.add(Agency(code="XX-2", name="Nested", country="Latvia", kind=AgencyKind.eu))
        services.start_thread(session, world["kz_expert"], rec.id, body="With its event.")
    assert count(database, Agency) == len(AGENCIES) + 1


def test_reads_are_never_weighed(world_database):
    database, _, _ = world_database
    with database.read() as session:  # discarded at the end, never committed
        session.add(Agency(code="XX-3", name="Discarded", country="Latvia", kind=AgencyKind.eu))
        session.flush()
    assert count(database, Agency) == len(AGENCIES)


def test_a_narrow_exemption_names_its_reason(world_database, caplog):
    database, _, _ = world_database
    with caplog.at_level(logging.DEBUG, logger="accord.audit"), database.write() as session:
        audit_rule.exempt(session, "a test's own bulk path")
        session.add(Agency(code="XX-4", name="Exempt", country="Latvia", kind=AgencyKind.eu))
    assert "as exempt: a test's own bulk path" in caplog.text


# --- bookkeeping, listed once -------------------------------------------------------------------


def test_every_exempt_table_is_a_table_of_the_schema():
    assert set(EXEMPT_TABLES) <= set(Base.metadata.tables) | {"alembic_version"}
    assert audit_rule.AUDIT_TABLE not in EXEMPT_TABLES
    assert all(reason.strip() for reason in EXEMPT_TABLES.values())


def test_bookkeeping_writes_only_tables_listed_as_exempt(world_database):
    """Failed sign-ins, a token's use, a rehash on sign-in: every table they write is listed,
    and each listed table that Accord writes at run time is written by one of them."""
    database, world, _ = world_database
    written: set[str] = set()

    def note(connection, cursor, statement, *_):
        found = audit_rule.written_table(statement)
        if found:
            written.add(found[1])

    event.listen(database.engine, "before_cursor_execute", note)
    try:
        with database.write() as session:
            assert services.sign_in(session, "kz_expert", "wrong password", remote_addr="10.0.0.9") is None
        with database.write() as session:
            issued = services.issue_token(session, session.get(User, world["kz_expert"].id))
        written.clear()  # issuing writes its own event; the use of a token does not
        with database.write() as session:
            services.touch_token(session, issued.record.id)
        with database.write() as session:
            assert services.sign_in(session, "kz_expert", "wrong again", remote_addr="10.0.0.9") is None
    finally:
        event.remove(database.engine, "before_cursor_execute", note)
    assert written == set(EXEMPT_TABLES) - {"alembic_version"}


# --- on by default ------------------------------------------------------------------------------


def test_the_rule_is_on_for_the_tests_own_sessions(session: Session, connection_database):
    session.add(Agency(code="XX-5", name="Fixture", country="Latvia", kind=AgencyKind.eu))
    with pytest.raises(UnauditedChange):
        session.commit()
    session.rollback()
    with pytest.raises(UnauditedChange), connection_database.write() as application:
        application.add(Agency(code="XX-6", name="Application", country="Latvia", kind=AgencyKind.eu))


def test_a_database_is_strict_unless_told_it_is_production(database_server):
    database = Database(database_server.new_database())
    try:
        with pytest.raises(UnauditedChange), database.write() as session:
            session.add(Agency(code="XX-7", name="Default", country="Latvia", kind=AgencyKind.eu))
    finally:
        database.dispose()


# --- one enumeration of actions -----------------------------------------------------------------

#: The action of every event ever written: hashed into the chain, so never changed.
STORED_VALUES = {
    "create", "edit", "edit_conflict", "conflict_copy.discard",
    "submit", "request_changes", "endorse", "return", "adopt", "merge", "withdraw",
    "approve", "object", "thread.start", "comment", "thread.resolve", "thread.reopen",
    "agency.add", "process.add", "user.add", "user.enable", "user.disable",
    "user.password_change", "user.set_password",
    "session.start", "session.end", "token.issue", "token.revoke",
}


def test_the_stored_values_never_change():
    assert {action.value for action in AuditAction} == STORED_VALUES


def test_every_transition_and_decision_is_an_action_of_its_own_name():
    assert {t.value for t in Transition} | {d.value for d in Decision} <= STORED_VALUES
    assert AuditAction(Transition.return_) is AuditAction.return_


def test_every_action_has_its_own_label():
    labels = [action.label for action in AuditAction]
    assert all(label.strip() for label in labels) and len(set(labels)) == len(labels)
    assert ENGLISH_LABELS["thread.start"] == "Thread started"


def test_no_free_string_reaches_the_chain(session, world):
    with pytest.raises(ValueError):
        audit.record(session, SYSTEM, "agency.remove")


def test_every_event_the_services_write_is_an_audit_action(database_server):
    """The demo's history, written through the services."""
    from accord.config import demo

    database = Database(database_server.new_database())
    try:
        with database.write() as session:
            demo.load(session)
        with database.read() as session:
            actions = set(session.scalars(select(AuditEvent.action).distinct()))
        assert actions <= STORED_VALUES and {"create", "thread.start", "agency.add"} <= actions
    finally:
        database.dispose()
