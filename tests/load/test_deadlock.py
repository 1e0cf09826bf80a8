"""The deadlock the load run found on PostgreSQL, pinned down without load.

A writer locks a recommendation's row, then waits for the audit chain's lock; another holds
the chain's lock and inserts an audit event (or a comment) referencing that recommendation.
With the row locked `FOR UPDATE` the second one's foreign-key check waits for the first:
a deadlock, answered 503. Locked `FOR NO KEY UPDATE`, references go through, and writers of
the recommendation itself still queue behind each other.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from accord.workflow import audit, services
from accord.workflow.models import AuditEvent, User
from accord.workflow.services._common import load_recommendation
from accord.workflow.states import State

from ..factories import build_world

pytestmark = pytest.mark.concurrency


def _user(session, username: str) -> User:
    return session.scalar(select(User).where(User.username == username))


def test_a_locked_recommendation_can_still_be_referenced(fresh_database, dialect):
    if dialect != "postgresql":
        pytest.skip("SQLite has one writer at a time: no row locks to order")
    with fresh_database.write() as session:
        world = build_world(session)
        rec = world.bring_to(session, State.national_review)
        thread = services.start_thread(session, world["kg_approver"], rec.id, body="Who chairs it?")
    with fresh_database.write() as holder:
        load_recommendation(holder, _user(holder, "kz_approver"), rec.id, lock=True)  # as a transition does
        with fresh_database.write() as other:
            other.execute(text("SET LOCAL lock_timeout = '5s'"))  # the old lock waited forever here
            comment = services.add_comment(other, _user(other, "kz_expert"), thread.id, body="The host agency.")
        with fresh_database.read() as session:
            assert session.scalar(select(AuditEvent.recommendation_id).where(
                AuditEvent.payload.contains(f'"comment":{comment.id}'))) == rec.id
        # The holder goes on, appending to the chain after the other writer.
        audit.record(holder, _user(holder, "kz_approver"), "endorse", recommendation=rec)
