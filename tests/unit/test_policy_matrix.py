"""Every action × every kind of user × every state, against the table of docs/design.md.

The expectations below are transcribed from docs/design.md independently of `workflow.policy`, and
each case runs the real service: allowed actions succeed and write one audit event; refused ones
answer 404 (not visible), 403 (not allowed) or 409 (wrong state) and change nothing at all.
"""

from __future__ import annotations

import pytest

from accord.workflow import services
from accord.workflow.actors import SYSTEM
from accord.workflow.errors import Conflict, NotFound, PermissionDenied
from accord.workflow.models import AuditEvent
from accord.workflow.policy import allowed_actions
from accord.workflow.states import State

from ..design import (
    ACTIONS,
    FORBIDDEN,
    HIDDEN,
    OK,
    STATES,
    WRONG_STATE,
    expected,
    move_to,
    visible,
)
from ..factories import PASSWORD, USERS
from ..helpers import snapshot


def perform(session, world, action: str, user, rec, thread_id: int, merge_target_id: int | None):
    actor = world[user] if isinstance(user, str) else user
    if action == "edit":
        return services.edit_recommendation(
            session, actor, rec.id, title=rec.title, body=rec.body + "\n\nOne more sentence.",
            base_revision=rec.revision,
        )
    if action in ("approve", "object"):
        return services.record_decision(
            session, actor, rec.id, action, revision=rec.revision, reason="Our reasons."
        )
    if action == "comment":
        return services.start_thread(session, actor, rec.id, body="A remark.")
    if action == "resolve":
        return services.resolve_thread(session, actor, thread_id)
    return services.perform_transition(
        session, actor, rec.id, action, reason="Our reasons.", into=merge_target_id
    )


OUTCOME_OF = {NotFound: HIDDEN, PermissionDenied: FORBIDDEN, Conflict: WRONG_STATE}


@pytest.mark.parametrize("state", STATES, ids=lambda s: s.value)
@pytest.mark.parametrize("user", list(USERS))
@pytest.mark.parametrize("action", ACTIONS)
def test_policy_matches_design(session, world, action, user, state):
    # Approvals are only in place where the adoption guard needs them, so that an `approve`
    # in consolidation is a new decision.
    rec = world.draft(session)
    thread = services.start_thread(session, world["kz_expert"], rec.id, body="Opening remark.")
    world_rec = move_to(session, world, rec, state, approved=(action == "adopt"))
    merge_target = None
    if action == "merge" and state is State.expert_consolidation:
        merge_target = world.bring_to(session, State.expert_consolidation, title="Target").id
    session.commit()
    want = expected(action, user, state)

    before = snapshot(session)
    if want == OK:
        perform(session, world, action, user, world_rec, thread.id, merge_target)
        session.commit()
        after = snapshot(session)
        assert after["counts"]["audit_events"] == before["counts"]["audit_events"] + 1
        return
    with pytest.raises((NotFound, PermissionDenied, Conflict)) as refused:
        perform(session, world, action, user, world_rec, thread.id, merge_target)
    session.rollback()
    assert OUTCOME_OF[type(refused.value)] == want, refused.value.message
    assert snapshot(session) == before, "a refused action changed something"


@pytest.mark.parametrize("state", STATES, ids=lambda s: s.value)
@pytest.mark.parametrize("user", list(USERS))
def test_allowed_actions_list_exactly_what_the_design_allows(session, world, user, state):
    rec = move_to(session, world, world.draft(session), state, approved=True)
    if not visible(user, state):
        assert allowed_actions(world[user], rec) == []
        return
    listed = set(allowed_actions(world[user], rec))
    want = {
        action for action in ACTIONS
        if action != "resolve" and expected(action, user, state) == OK
    }
    # Both agencies already approved this revision: approving it again would change nothing,
    # so it is not offered (objecting still is).
    want.discard("approve")
    assert listed == want


def test_refused_action_writes_no_event(session, world):
    rec = world.draft(session)
    session.commit()
    count = session.query(AuditEvent).count()
    with pytest.raises(PermissionDenied):
        services.perform_transition(session, world["kz_approver"], rec.id, "submit")
    session.rollback()
    assert session.query(AuditEvent).count() == count


@pytest.mark.parametrize(("role", "agency"), [
    ("national_expert", "KG-BS"), ("approver", "KG-BS"),  # an addressed agency
    ("national_expert", "UZ-CS"),  # an agency that only takes part
    ("eu_expert", "LV-SBG"),
])
def test_an_auditor_who_also_drafts_reads_a_private_draft_but_acts_on_nothing(session, world, role, agency):
    """The auditor's reading right does not become a writing right: every action on another
    agency's private draft is refused (403) and changes nothing; once the draft is submitted,
    the drafting role acts as it always did."""
    actor = services.add_user(session, SYSTEM, username=f"auditing_{role}_{agency[:2].lower()}",
                              agency_code=agency, roles=["auditor", role], password=PASSWORD)
    rec = world.draft(session)
    thread = services.start_thread(session, world["kz_expert"], rec.id, body="Opening remark.")
    session.commit()
    assert services.get_recommendation(session, actor, rec.id).id == rec.id
    assert [t.id for t in services.list_threads(session, actor, rec.id).items] == [thread.id]
    assert allowed_actions(actor, rec) == []
    before = snapshot(session)
    for action in ACTIONS:
        with pytest.raises(PermissionDenied, match="Auditors read another agency's private draft"):
            perform(session, world, action, actor, rec, thread.id, None)
        session.rollback()
        with pytest.raises(PermissionDenied):
            services.add_comment(session, actor, thread.id, body="A reply.")
        session.rollback()
    assert snapshot(session) == before
    services.perform_transition(session, world["kz_expert"], rec.id, "submit")
    session.commit()
    assert "comment" in allowed_actions(actor, rec)
    services.add_comment(session, actor, thread.id, body="Now that it is submitted.")
    services.resolve_thread(session, actor, thread.id)
