"""`accord demo --scale N`: a generated data set that is exactly what the services would write.

The bulk writer and the services are run on the same plan in two databases and compared row
by row; the generated data is then checked against the engine's own invariants, and a second
run, or a run on a database that is not the demo, is refused without changing anything.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict

import pytest
from sqlalchemy import select, text

from accord.config import demo, scale
from accord.workflow import audit, services
from accord.workflow.db import Database
from accord.workflow.models import Process, Role, User
from accord.workflow.states import State

from ..helpers import snapshot

N, SEED = 40, 7
USE_CASES = {
    "create", "edit", "submit", "request_changes", "endorse", "return", "adopt", "merge", "withdraw",
    "approve", "object", "thread.start", "comment", "thread.resolve", "thread.reopen",
}

#: Columns compared between the bulk writer and the services: all but the times and hashes
#: (the services take the time at each call), whose consistency is checked separately.
COMPARED = {
    "processes": "id, title",
    "process_agencies": "process_id, agency_id",
    "recommendations": "id, process_id, title, body, body_html, state, proposing_agency_id, revision, "
    "created_by_id, submitted_at IS NULL, merged_into_id, version",
    "recommendation_addressees": "recommendation_id, agency_id",
    "revisions": "id, recommendation_id, number, title, body, body_html, summary, author_id, state, base_number",
    "threads": "id, recommendation_id, revision_number, quote, created_by_id, resolved_at IS NULL, resolved_by_id",
    "comments": "id, thread_id, author_id, body, body_html",
    "approvals": "id, recommendation_id, agency_id, decision, revision_number, reason, user_id",
    "audit_events": "seq, actor, actor_id, actor_agency, action, recommendation_id, from_state, to_state, "
    "revision, reason, payload",
}
ORDER = {"process_agencies": "process_id, agency_id", "recommendation_addressees": "recommendation_id, agency_id",
         "audit_events": "seq"}


def table(database: Database, name: str) -> list[tuple]:
    with database.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(
            text(f"SELECT {COMPARED[name]} FROM {name} ORDER BY {ORDER.get(name, 'id')}")
        )]


def load_demo(database: Database) -> None:
    with database.write() as session:
        assert demo.load(session).loaded


@pytest.fixture
def generated(accord):
    result = accord("demo", "--scale", str(N), "--seed", str(SEED))
    assert result.status == 0, result.err
    return accord


def test_the_bulk_writer_writes_what_the_services_write(database_server):
    bulk, services_db = Database(database_server.new_database()), Database(database_server.new_database())
    try:
        for database in (bulk, services_db):
            load_demo(database)
        demo_events = len(table(bulk, "audit_events"))
        with bulk.write() as session:
            load = scale.prepare(session, N, SEED)
            scale.check_texts(load.plan)
            assert {step.action for step in load.plan.steps} == USE_CASES  # every one compared
            load.run()
        with services_db.write() as session:
            scale.replay(session, scale.plan(session, N, SEED))
        for name in COMPARED:
            assert table(bulk, name) == table(services_db, name), name
        assert len(table(bulk, "audit_events")) == demo_events + load.rows["audit_events"]
        for database in (bulk, services_db):
            with database.read() as session:
                assert audit.verify_chain(session).ok
    finally:
        bulk.dispose()
        services_db.dispose()


def test_the_plan_is_deterministic(database_server):
    database = Database(database_server.new_database())
    try:
        load_demo(database)
        with database.read() as session:
            world = scale.World.read(session)

        def steps(seed: int) -> list[tuple]:
            plan = scale.Plan(world, N, seed)
            return [(s.time, s.rec, s.action, s.actor, s.text, s.reason, s.quote, s.into) for s in plan.steps]

        assert steps(SEED) == steps(SEED)
        assert steps(SEED) != steps(SEED + 1)
    finally:
        database.dispose()


def rows(database: Database, sql: str) -> list:
    with database.engine.connect() as connection:
        return list(connection.execute(text(sql)))


def test_the_data_set_keeps_the_engines_invariants(generated):
    database = generated.database
    verified = generated("audit", "verify")
    assert verified.status == 0 and "Audit chain intact" in verified.out

    recs = {r.id: r for r in rows(database, "SELECT * FROM recommendations")}
    events = rows(database, "SELECT * FROM audit_events ORDER BY seq")
    first = next(e.seq for e in events if e.action == "process.add"
                 and json.loads(e.payload)["title"] == scale.PROCESSES[0][0])
    generated_ids = {e.recommendation_id for e in events if e.action == "create" and e.seq > first}
    assert len(generated_ids) == N
    assert {recs[i].state for i in generated_ids} == {s.value for s in State}

    # Every recommendation has the revisions 1..revision, the last one its current text.
    revisions = defaultdict(list)
    for r in rows(database, "SELECT recommendation_id, number, title, body FROM revisions ORDER BY id"):
        revisions[r.recommendation_id].append(r)
    for rec in recs.values():
        numbers = [r.number for r in revisions[rec.id]]
        assert numbers == list(range(1, rec.revision + 1))
        assert (revisions[rec.id][-1].title, revisions[rec.id][-1].body) == (rec.title, rec.body)

    by_rec = defaultdict(list)
    for event in events:
        if event.recommendation_id is not None:
            by_rec[event.recommendation_id].append(event)
    transitions = {"submit", "request_changes", "endorse", "return", "adopt", "merge", "withdraw"}
    for rec in recs.values():
        history = by_rec[rec.id]
        assert history[0].action == "create"
        moves = [e for e in history if e.action in transitions]
        # Each use case that changed the row bumped its version once: create, edits, transitions.
        assert rec.version == 1 + sum(e.action == "edit" for e in history) + len(moves)
        assert rec.state == (moves[-1].to_state if moves else "draft")
        submits = [e for e in moves if e.action == "submit"]
        if rec.state in ("national_review", "expert_consolidation", "adopted", "merged"):
            assert submits, rec.id
        assert (rec.submitted_at is not None) == bool(submits)
        assert (rec.merged_into_id is not None) == (rec.state == "merged")
        if rec.merged_into_id is not None:
            assert json.loads(moves[-1].payload)["into"] == rec.merged_into_id

    # Decisions come from addressed agencies; some are stale; adopted texts were approved.
    addressed = {(a.recommendation_id, a.agency_id) for a in rows(database, "SELECT * FROM recommendation_addressees")}
    approvals = rows(database, "SELECT * FROM approvals")
    assert all((a.recommendation_id, a.agency_id) in addressed for a in approvals)
    stale = [a for a in approvals if a.revision_number != recs[a.recommendation_id].revision]
    assert stale and any(recs[a.recommendation_id].state == "expert_consolidation" for a in stale)
    for rec in (r for r in recs.values() if r.state == "adopted"):
        latest = {}
        for a in sorted((a for a in approvals if a.recommendation_id == rec.id), key=lambda a: a.id):
            latest[a.agency_id] = a
        agencies = {agency for rec_id, agency in addressed if rec_id == rec.id}
        assert set(latest) == agencies
        assert all(a.decision == "approve" and a.revision_number == rec.revision for a in latest.values())

    # As many events as the rows imply.
    actions = Counter(e.action for e in events)
    threads = rows(database, "SELECT * FROM threads")
    comments = rows(database, "SELECT * FROM comments")
    assert actions["create"] == len(recs)
    assert actions["edit"] == sum(r.revision - 1 for r in recs.values())
    assert actions["approve"] + actions["object"] == len(approvals)
    assert actions["thread.start"] == len(threads)
    assert actions["comment"] == len(comments) - len(threads)
    assert actions["thread.resolve"] - actions["thread.reopen"] == sum(t.resolved_at is not None for t in threads)
    assert actions["process.add"] == 1 + len(scale.PROCESSES)
    assert actions["agency.add"] == len(demo.AGENCIES) and actions["user.add"] == len(demo.USERS)
    assert len(events) == sum(actions.values()) == events[-1].seq

    # The times: in the order of the chain, and each generated row's the time of the event
    # that made it (the services take the time twice, a few microseconds apart).
    times = [e.occurred_at for e in events]
    assert times == sorted(times)
    created = {e.recommendation_id: e.occurred_at for e in events if e.action == "create"}
    assert all(recs[i].created_at == created[i] for i in generated_ids)
    changed = {e.recommendation_id: e.occurred_at for e in events if e.action in transitions | {"create", "edit"}}
    assert all(recs[i].updated_at == changed[i] for i in generated_ids)
    started, settled = {}, {}
    for e in events:
        if e.action.startswith("thread."):
            thread = json.loads(e.payload)["thread"]
            if e.action == "thread.start":
                started[thread] = e.occurred_at
            settled[thread] = (e.occurred_at, e.actor_id) if e.action == "thread.resolve" else None
    for t in (t for t in threads if t.recommendation_id in generated_ids):
        assert t.created_at == started[t.id]
        assert (t.resolved_at, t.resolved_by_id) == (settled[t.id] or (None, None))

    # The engine reads it back.
    with database.read() as session:
        people = {u.username: u for u in session.scalars(select(User))}
        auditor = people["auditor"]
        listed = services.list_recommendations(session, auditor, per_page=200)
        assert listed.total == len(recs)
        for state in State:
            page = services.list_recommendations(session, auditor, state=state.value, per_page=200)
            assert page.total == sum(r.state == state.value for r in recs.values())
        expert = people["aigerim"]
        visible = services.list_recommendations(session, expert, per_page=200).total
        assert 0 < visible < len(recs)
        some = max(generated_ids)
        rec = services.get_recommendation(session, auditor, some)
        assert services.list_revisions(session, auditor, some).total == rec.revision
        services.list_threads(session, auditor, some)
        if rec.revision > 1:
            assert services.diff_revisions(session, auditor, some, 1, rec.revision)
        assert services.list_processes(session, auditor).total == 1 + len(scale.PROCESSES)
        assert session.scalar(select(Process.id).where(Process.title == scale.PROCESSES[0][0]))
        for role in (Role.national_expert, Role.approver, Role.eu_expert):
            someone = next(u for u in people.values() if role in u.roles)
            services.inbox(session, someone)


def test_a_second_run_changes_nothing(generated):
    database = generated.database
    with database.read() as session:
        before = snapshot(session)
    again = generated("demo", "--scale", "5")
    assert again.status == 2
    assert again.err.count("\n") == 1 and "loaded already" in again.err
    with database.read() as session:
        assert snapshot(session) == before


def test_an_empty_database_gets_the_demo_first(accord):
    result = accord("demo", "--scale", "3")
    assert result.status == 0, result.err
    assert result.out == ""
    assert "Demo data loaded" in result.err and "Generating 3 recommendations" in result.err
    with accord.database.read() as session:
        assert session.scalar(select(Process.id).where(Process.title == demo.PROCESS_TITLE))
        assert audit.verify_chain(session).ok


def test_a_database_that_is_not_the_demo_is_refused(accord):
    assert accord("agencies", "add", "KZ-BS", "--name", "Border Service", "--country", "Kazakhstan",
                  "--kind", "national").status == 0
    with accord.database.read() as session:
        before = snapshot(session)
    result = accord("demo", "--scale", "5")
    assert result.status == 2
    assert result.err.count("\n") == 1 and "does not hold the demo" in result.err
    with accord.database.read() as session:
        assert snapshot(session) == before


def test_a_disabled_demo_account_is_refused(accord):
    assert accord("demo").status == 0
    assert accord("users", "disable", "serik").status == 0
    result = accord("demo", "--scale", "5")
    assert result.status == 2 and "serik is disabled" in result.err


def test_seed_without_scale_is_bad_usage(accord):
    result = accord("demo", "--seed", "3")
    assert result.status == 2 and result.err.count("\n") == 1
