"""The permission matrix through HTTP: each action answers each of its outcomes in docs/design.md's
table with the contract's status (200/201, 404, 403 or 409), a refusal changes nothing, and
`allowed_actions` lists exactly the actions the same user would be allowed.

Every action × user × state is checked against the policy itself in
tests/unit/test_policy_matrix.py; here one request per action and outcome proves the API hands
the service's answer on as the contract says."""

from __future__ import annotations

import pytest

from accord.workflow import services
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
    one_case_per_outcome,
    visible,
)
from ..factories import USERS
from ..helpers import snapshot

STATUS = {OK: (200, 201), HIDDEN: (404,), FORBIDDEN: (403,), WRONG_STATE: (409,)}


def request_for(action: str, rec, thread_id: int, target_id: int | None) -> tuple[str, str, dict]:
    base = f"/recommendations/{rec.id}"
    if action == "edit":
        return "PUT", base, {"title": rec.title, "body": rec.body + "\n\nMore.", "base_revision": rec.revision}
    if action in ("approve", "object"):
        return "POST", f"{base}/approvals", {"decision": action, "revision": rec.revision, "reason": "Reasons."}
    if action == "comment":
        return "POST", f"{base}/threads", {"body": "A remark."}
    if action == "resolve":
        return "POST", f"/threads/{thread_id}/resolve", {}
    body = {"action": action, "reason": "Reasons."}
    if target_id is not None:
        body["into"] = target_id
    return "POST", f"{base}/transitions", body


@pytest.mark.parametrize(
    ("action", "outcome", "user", "state"), one_case_per_outcome(),
    ids=lambda value: getattr(value, "value", value),
)
def test_each_action_answers_the_designed_status(api, session, world, action, outcome, user, state):
    rec = world.draft(session)
    thread = services.start_thread(session, world["kz_expert"], rec.id, body="Opening remark.")
    move_to(session, world, rec, state, approved=(action == "adopt"))
    target = None
    if action == "merge" and state is State.expert_consolidation:
        target = world.bring_to(session, State.expert_consolidation, title="Target").id
    session.commit()
    api.token(user)  # signed in before the snapshot: the sign-in is not what is compared
    before = snapshot(session)
    method, path, body = request_for(action, rec, thread.id, target)
    answer = api.call(method, path, as_=user, json=body)
    assert answer.status_code in STATUS[outcome], (user, outcome, answer.json)
    after = snapshot(session)
    if outcome == OK:
        assert after["counts"]["audit_events"] == before["counts"]["audit_events"] + 1
    else:
        assert after == before, "a refused request changed something"


@pytest.mark.parametrize("state", STATES, ids=lambda s: s.value)
def test_allowed_actions_through_http(api, session, world, state):
    rec = move_to(session, world, world.draft(session), state, approved=True)
    session.commit()
    for user in USERS:
        answer = api.get(f"/recommendations/{rec.id}", as_=user)
        if not visible(user, state):
            assert answer.status_code == 404
            continue
        want = {a for a in ACTIONS if a != "resolve" and expected(a, user, state) == OK}
        want.discard("approve")  # both agencies approved already; approving again changes nothing
        assert set(answer.json["allowed_actions"]) == want, user
