"""The permission matrix through HTTP: every action × every user × every state answers what
docs/design.md says (200/201, 404, 403 or 409), and `allowed_actions` lists exactly the actions the
same user would be allowed."""

from __future__ import annotations

import pytest

from accord.workflow import services
from accord.workflow.states import State

from ..design import ACTIONS, FORBIDDEN, HIDDEN, OK, STATES, WRONG_STATE, expected, move_to, visible
from ..factories import USERS

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


@pytest.mark.parametrize("state", STATES, ids=lambda s: s.value)
@pytest.mark.parametrize("action", ACTIONS)
def test_every_user_gets_the_designed_answer(api, session, world, connection, action, state):
    rec = world.draft(session)
    thread = services.start_thread(session, world["kz_expert"], rec.id, body="Opening remark.")
    move_to(session, world, rec, state, approved=(action == "adopt"))
    target = None
    if action == "merge" and state is State.expert_consolidation:
        target = world.bring_to(session, State.expert_consolidation, title="Target").id
    session.commit()
    for user in USERS:
        api.token(user)  # signed in before the savepoint, so the sign-in is not what is undone
        method, path, body = request_for(action, rec, thread.id, target)
        savepoint = connection.begin_nested()
        answer = api.call(method, path, as_=user, json=body)
        savepoint.rollback()
        want = expected(action, user, state)
        assert answer.status_code in STATUS[want], (user, want, answer.json)


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
