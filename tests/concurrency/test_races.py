"""Races, with real concurrent connections: one winner per transition, edits merged or kept,
and one unbroken audit chain however many writers append at once."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from accord.workflow import audit, services
from accord.workflow.errors import Conflict
from accord.workflow.models import AuditEvent, ConflictCopy, Recommendation, User
from accord.workflow.states import State

from ..factories import build_world

pytestmark = pytest.mark.concurrency


def _user(session, username: str) -> User:
    return session.scalar(select(User).where(User.username == username))


def run_together(database, jobs):
    """Run each job (a function of a session) in its own thread and write transaction, all
    released at the same moment; returns each job's result or the domain error it raised."""
    barrier = threading.Barrier(len(jobs))

    def run(job):
        barrier.wait()
        try:
            with database.write() as session:
                return job(session)
        except Conflict as exc:
            return exc

    with ThreadPoolExecutor(len(jobs)) as pool:
        return list(pool.map(run, jobs))


@pytest.fixture
def world_db(fresh_database):
    with fresh_database.write() as session:
        world = build_world(session)
    fresh_database.world = world
    return fresh_database


def _create(database, state: State, **kwargs) -> int:
    with database.write() as session:
        return database.world.bring_to(session, state, **kwargs).id


def test_two_people_firing_the_same_transition_one_wins(world_db):
    for _ in range(5):
        rec_id = _create(world_db, State.national_review)
        outcomes = run_together(world_db, [
            lambda s, rec_id=rec_id: services.perform_transition(s, _user(s, "kz_approver"), rec_id, "endorse").state,
            lambda s, rec_id=rec_id: services.perform_transition(s, _user(s, "kz_approver"), rec_id, "endorse").state,
        ])
        wins = [o for o in outcomes if o == State.expert_consolidation]
        losses = [o for o in outcomes if isinstance(o, Conflict)]
        assert len(wins) == 1 and len(losses) == 1, outcomes
        assert losses[0].code == "wrong_state"
    with world_db.read() as session:
        endorsements = session.scalar(select(func.count()).where(AuditEvent.action == "endorse"))
        assert endorsements == 5
        assert audit.verify_chain(session).ok


def test_conflicting_transitions_at_once_one_wins(world_db):
    """An endorsement and a withdrawal race: the loser finds the state changed."""
    rec_id = _create(world_db, State.national_review)
    outcomes = run_together(world_db, [
        lambda s: services.perform_transition(s, _user(s, "kz_approver"), rec_id, "endorse").state,
        lambda s: services.perform_transition(
            s, _user(s, "kz_expert"), rec_id, "withdraw", reason="Overtaken by events."
        ).state,
    ])
    assert sum(isinstance(o, Conflict) for o in outcomes) == 1
    with world_db.read() as session:
        final = session.get(Recommendation, rec_id).state
        assert final in outcomes


PARAGRAPHS = ["First paragraph.", "Second paragraph.", "Third paragraph."]


def _edit(rec_id: int, body: str, username: str = "kz_expert"):
    def job(session):
        return services.edit_recommendation(
            session, _user(session, username), rec_id, title="Shared text", body=body,
            base_revision=1, summary=f"by {username}",
        )
    return job


def test_two_edits_of_different_passages_from_one_base_are_merged(world_db):
    rec_id = _create(world_db, State.draft, title="Shared text", body="\n\n".join(PARAGRAPHS))
    mine = "\n\n".join(["First paragraph, amended.", *PARAGRAPHS[1:]])
    theirs = "\n\n".join([*PARAGRAPHS[:2], "Third paragraph, amended."])
    outcomes = run_together(world_db, [_edit(rec_id, mine), _edit(rec_id, theirs)])
    assert [o.saved for o in outcomes] == [True, True]
    assert sorted(o.merged for o in outcomes) == [False, True]
    with world_db.read() as session:
        rec = session.get(Recommendation, rec_id)
        assert rec.revision == 3
        assert rec.body == "First paragraph, amended.\n\nSecond paragraph.\n\nThird paragraph, amended."


def test_two_edits_of_the_same_passage_keep_the_losers_text(world_db):
    rec_id = _create(world_db, State.draft, title="Shared text", body="\n\n".join(PARAGRAPHS))
    one = "\n\n".join(["First paragraph, as Aigerim wants it.", *PARAGRAPHS[1:]])
    two = "\n\n".join(["First paragraph, as Dana wants it.", *PARAGRAPHS[1:]])
    outcomes = run_together(world_db, [_edit(rec_id, one), _edit(rec_id, two)])
    saved = [o for o in outcomes if o.saved]
    conflicts = [o for o in outcomes if o.conflict is not None]
    assert len(saved) == 1 and len(conflicts) == 1
    with world_db.read() as session:
        rec = session.get(Recommendation, rec_id)
        assert rec.revision == 2
        copy = session.get(ConflictCopy, conflicts[0].conflict.id)
        # Nothing typed is lost: the winner's text is the recommendation, the loser's is kept.
        assert {rec.body, copy.body} == {one, two}
        assert copy.base_revision == 1 and copy.conflicting_revision == 2
        assert audit.verify_chain(session).ok


@pytest.mark.parametrize("writers", [8])
def test_concurrent_appends_leave_one_unbroken_chain(world_db, writers):
    rec_id = _create(world_db, State.national_review)
    per_writer = 15
    with world_db.read() as session:
        before = session.scalar(select(func.count()).select_from(AuditEvent))
    users = ["kz_expert", "kg_expert", "uz_expert", "lv_expert", "kz_approver", "kg_approver", "uz_approver", "kg_expert"]

    def writer(index: int):
        barrier.wait()
        for n in range(per_writer):
            with world_db.write() as session:
                services.start_thread(session, _user(session, users[index]), rec_id, body=f"Remark {index}.{n}")

    barrier = threading.Barrier(writers)
    with ThreadPoolExecutor(writers) as pool:
        list(pool.map(writer, range(writers)))
    with world_db.read() as session:
        chain = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
        assert len(chain) == before + writers * per_writer
        assert [e.seq for e in chain] == list(range(1, len(chain) + 1))
        assert audit.verify_chain(session).ok
        by_actor = Counter(e.actor for e in chain[before:])
        assert sum(by_actor.values()) == writers * per_writer
