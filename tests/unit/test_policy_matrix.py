"""Every action × every kind of user × every state, against the table of DESIGN.md.

The expectations below are transcribed from DESIGN.md independently of `workflow.policy`, and
each case runs the real service: allowed actions succeed and write one audit event; refused ones
answer 404 (not visible), 403 (not allowed) or 409 (wrong state) and change nothing at all.
"""

from __future__ import annotations

import pytest

from workflow import services
from workflow.errors import Conflict, NotFound, PermissionDenied
from workflow.models import AuditEvent
from workflow.policy import allowed_actions
from workflow.states import State

from ..factories import USERS
from ..helpers import snapshot

OK, HIDDEN, FORBIDDEN, WRONG_STATE = "ok", "404", "403", "409"

# Who each test user is, relative to the standard recommendation (proposed by KZ-BS, addressed
# to KZ-BS and KG-BS, in a process of KZ-BS, KG-BS, UZ-CS and LV-SBG).
RELATION = {
    "kz_expert": "proposing", "kz_approver": "proposing",
    "kg_expert": "addressed", "kg_approver": "addressed",
    "uz_expert": "participant", "uz_approver": "participant",
    "tj_approver": "outsider", "ee_expert": "outsider",
    "lv_expert": "participant", "auditor": "participant", "admin": "participant",
}
ROLE = {name: roles[0] for name, (_, roles) in USERS.items()}

TERMINAL = {State.adopted, State.withdrawn, State.merged}

# DESIGN.md, "The state machine": action → (who may, in which states).
DESIGN_TABLE = {
    "submit": (lambda r, rel: r == "national_expert" and rel == "proposing", {State.draft}),
    "request_changes": (
        lambda r, rel: r == "approver" and rel in ("proposing", "addressed"), {State.national_review}
    ),
    "endorse": (lambda r, rel: r == "approver" and rel == "proposing", {State.national_review}),
    "return": (lambda r, rel: r == "eu_expert", {State.expert_consolidation}),
    "adopt": (lambda r, rel: r == "eu_expert", {State.expert_consolidation}),
    "merge": (lambda r, rel: r == "eu_expert", {State.expert_consolidation}),
    "withdraw": (
        lambda r, rel: r in ("national_expert", "approver") and rel == "proposing",
        {State.draft, State.national_review},
    ),
    "approve": (lambda r, rel: r == "approver" and rel in ("proposing", "addressed"), {State.expert_consolidation}),
    "object": (lambda r, rel: r == "approver" and rel in ("proposing", "addressed"), {State.expert_consolidation}),
    "comment": (lambda r, rel: r in ("national_expert", "approver", "eu_expert"), set(State) - TERMINAL),
    "resolve": (lambda r, rel: r in ("national_expert", "approver", "eu_expert"), set(State) - TERMINAL),
}


#: States the standard recommendation reaches through national review (`_move` withdraws it
#: while still a draft, so it never got there).
REACHED_REVIEW = {State.national_review, State.expert_consolidation, State.adopted, State.merged}


def visible(user: str, state: State) -> bool:
    """DESIGN.md, "Who sees what": a draft only to its agency and auditors; "from national
    review on", to every user of the process."""
    if ROLE[user] == "auditor" or RELATION[user] == "proposing":
        return True
    return state in REACHED_REVIEW and RELATION[user] != "outsider"


def expected(action: str, user: str, state: State) -> str:
    if not visible(user, state):
        return HIDDEN
    if action == "edit":
        if ROLE[user] == "national_expert" and RELATION[user] == "proposing":
            return OK if state is State.draft else WRONG_STATE
        if ROLE[user] == "eu_expert":
            return OK if state is State.expert_consolidation else WRONG_STATE
        return FORBIDDEN
    who, states = DESIGN_TABLE[action]
    if not who(ROLE[user], RELATION[user]):
        return FORBIDDEN
    return OK if state in states else WRONG_STATE


ACTIONS = ["edit", *DESIGN_TABLE]
STATES = list(State)


def perform(session, world, action: str, user: str, rec, thread_id: int, merge_target_id: int | None):
    actor = world[user]
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
    world_rec = _move(session, world, rec, state, approved=(action == "adopt"))
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


def _move(session, world, rec, state: State, *, approved: bool):
    """Take the standard draft to `state` (as world.bring_to does, on an existing draft)."""
    fire = lambda action, by, **kw: services.perform_transition(session, world[by], rec.id, action, **kw)  # noqa: E731
    if state is State.draft:
        return rec
    if state is State.withdrawn:
        return fire("withdraw", "kz_expert", reason="Superseded.")
    fire("submit", "kz_expert")
    if state is State.national_review:
        return rec
    fire("endorse", "kz_approver")
    if approved or state in (State.adopted,):
        for approver in ("kz_approver", "kg_approver"):
            services.record_decision(session, world[approver], rec.id, "approve", revision=rec.revision)
    if state is State.expert_consolidation:
        return rec
    if state is State.adopted:
        return fire("adopt", "lv_expert")
    target = world.bring_to(session, State.expert_consolidation, title="Merge target")
    return fire("merge", "lv_expert", into=target.id)


@pytest.mark.parametrize("state", STATES, ids=lambda s: s.value)
@pytest.mark.parametrize("user", list(USERS))
def test_allowed_actions_list_exactly_what_the_design_allows(session, world, user, state):
    rec = _move(session, world, world.draft(session), state, approved=True)
    if not visible(user, state):
        assert allowed_actions(world[user], rec) == []
        return
    listed = set(allowed_actions(world[user], rec))
    want = {
        action for action in ACTIONS
        if action != "resolve" and expected(action, user, state) == OK
    }
    # The approvals are already given: repeating the same decision is refused, so `approve`
    # still shows (the agency could re-approve only after an edit) — see record_decision.
    assert listed == want


def test_refused_action_writes_no_event(session, world):
    rec = world.draft(session)
    session.commit()
    count = session.query(AuditEvent).count()
    with pytest.raises(PermissionDenied):
        services.perform_transition(session, world["kz_approver"], rec.id, "submit")
    session.rollback()
    assert session.query(AuditEvent).count() == count
