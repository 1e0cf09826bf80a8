"""Every endpoint of docs/api.md through HTTP: the success path and each error it can give."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from accord.web.api.openapi import openapi_document
from accord.workflow.models import AuditEvent, Credential
from accord.workflow.states import State

from ..factories import BODY
from ..helpers import snapshot

ERROR_KEYS = {"error"}


def error_of(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.json
    assert set(response.json) >= ERROR_KEYS and set(response.json["error"]) == {"code", "message"}
    assert response.json["error"]["message"].endswith((".", "?")), "a sentence for a person"
    if code:
        assert response.json["error"]["code"] == code
    return response.json


RECOMMENDATION_KEYS = {
    "id", "process", "title", "body", "body_html", "state", "proposing_agency", "addressed_agencies",
    "revision", "created_by", "created_at", "updated_at", "allowed_actions", "approvals", "merged_into",
}


# --- tokens --------------------------------------------------------------------------------


def test_a_token_for_a_password(api):
    answer = api.post("/tokens", json={"username": "kz_expert", "password": "correct horse battery staple"})
    assert answer.status_code == 201
    assert set(answer.json) == {"token", "expires_at"} and answer.json["expires_at"].endswith("Z")
    me = api.client.get("/api/v1/me", headers={"Authorization": f"Bearer {answer.json['token']}"})
    assert me.json == {
        "username": "kz_expert", "display_name": "kz_expert",
        "agency": {"code": "KZ-BS", "name": "Border Service of Kazakhstan", "kind": "national"},
        "roles": ["national_expert"],
    }


def test_tokens_are_stored_hashed_with_expiry_and_last_use(api, session):
    token = api.token("kz_expert")
    record = session.scalars(select(Credential)).one()
    assert token not in record.token_hash and len(record.token_hash) == 64
    assert record.expires_at > record.created_at
    assert record.last_used_at is None
    api.get("/me", as_="kz_expert")
    session.expire_all()
    assert session.scalars(select(Credential)).one().last_used_at is not None


def test_an_unknown_username_answers_exactly_like_a_wrong_password(api):
    wrong = api.post("/tokens", json={"username": "kz_expert", "password": "not the password"})
    unknown = api.post("/tokens", json={"username": "nobody_here", "password": "not the password"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json == unknown.json
    assert wrong.headers.get("WWW-Authenticate") == unknown.headers.get("WWW-Authenticate")


def test_failed_sign_ins_slow_down_further_ones(api, clock):
    for _ in range(4):
        assert api.post("/tokens", json={"username": "kg_expert", "password": "guess guess guess"}).status_code == 401
    limited = api.post("/tokens", json={"username": "kg_expert", "password": "correct horse battery staple"})
    error_of(limited, 429, "rate_limited")
    assert limited.headers["Retry-After"] == "1"
    clock.advance(1)
    assert api.post("/tokens", json={"username": "kg_expert", "password": "correct horse battery staple"}).status_code == 201
    # Unknown names are slowed down the same way, so the delay does not reveal which names exist.
    for _ in range(4):
        api.post("/tokens", json={"username": "ghost_user", "password": "guess guess guess"})
    assert api.post("/tokens", json={"username": "ghost_user", "password": "x"}).status_code == 429


def test_revocation_works_at_once(api):
    token = api.token("kz_expert")
    headers = {"Authorization": f"Bearer {token}"}
    assert api.client.delete("/api/v1/tokens/current", headers=headers).status_code == 204
    error_of(api.client.get("/api/v1/me", headers=headers), 401)


def test_a_disabled_users_tokens_stop_at_once(api, session, world):
    from accord.workflow import services
    from accord.workflow.actors import SYSTEM

    api.token("kz_expert")
    services.set_user_active(session, SYSTEM, "kz_expert", active=False)
    session.commit()
    error_of(api.get("/me", as_="kz_expert"), 401)


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer nonsense", "Basic a3o6eA==", "bearer "])
def test_missing_or_bad_tokens_are_401(api, header):
    headers = {"Authorization": header} if header else {}
    answer = api.client.get("/api/v1/recommendations", headers=headers)
    error_of(answer, 401)
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("body", ['{"username": 1, "password": "x"}', "[]", "nonsense", '{"username": "a"}'])
def test_malformed_sign_in_is_400(api, body):
    error_of(api.post("/tokens", data=body, content_type="application/json"), 400)


# --- bodies are JSON ------------------------------------------------------------------------

#: What a page on another site can send without asking first (a "simple" request: fetch with
#: mode "no-cors", or a form), and a body that says nothing of its type.
NOT_JSON = ["text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x", None]


def operations_with_a_body() -> list[tuple[str, str]]:
    return [(method.upper(), path.replace("{", "").replace("}", ""))
            for path, item in openapi_document()["paths"].items()
            for method, operation in item.items() if "requestBody" in operation]


@pytest.mark.parametrize("content_type", NOT_JSON, ids=str)
def test_a_body_not_sent_as_json_is_refused_with_415_and_changes_nothing(api, session, world, content_type):
    rec = world.bring_to(session, State.expert_consolidation)
    session.commit()
    operations = operations_with_a_body()
    assert ("POST", "/tokens") in operations and len(operations) >= 6
    api.token("kz_expert")  # signed in before the snapshot: signing in is an event
    before = snapshot(session)
    for method, path in operations:
        path = path.replace("rec_id", str(rec.id)).replace("thread_id", "1").replace("copy_id", "1")
        answer = api.call(method, path, as_="kz_expert", data='{"username": "kz_expert", "body": "x"}',
                          content_type=content_type)
        assert error_of(answer, 415, "unsupported_media_type"), (method, path)
    assert snapshot(session) == before


def test_json_is_json_whatever_its_parameters(api):
    answer = api.client.post("/api/v1/tokens", data='{"username": "kz_expert", "password": "correct horse battery staple"}',
                             content_type="application/json; charset=utf-8")
    assert answer.status_code == 201


def test_a_post_without_a_body_stays_valid(api, session, world):
    rec = world.bring_to(session, State.national_review)
    session.commit()
    thread = api.post(f"/recommendations/{rec.id}/threads", as_="kg_approver", json={"body": "Why?"}).json
    # No body and no Content-Type at all, as curl -X POST sends it.
    assert api.post(f"/threads/{thread['id']}/resolve", as_="kg_approver").json["resolved"] is True
    assert api.post(f"/threads/{thread['id']}/reopen", as_="kg_approver", content_type="text/plain").status_code == 200


# --- reference -----------------------------------------------------------------------------


def test_agencies_and_processes(api, world):
    agencies = api.get("/agencies", as_="kz_expert").json
    assert agencies["total"] == 6 and agencies["items"][0] == {
        "code": "EE-ASS", "name": "Estonian Academy of Security Sciences", "country": "Estonia", "kind": "eu"
    }
    processes = api.get("/processes", as_="kz_expert").json
    assert processes["items"] == [{"id": world.process.id, "title": world.process.title,
                                   "agencies": ["KG-BS", "KZ-BS", "LV-SBG", "UZ-CS"]}]
    assert api.get("/processes", as_="tj_approver").json["total"] == 0
    assert api.get("/processes", as_="auditor").json["total"] == 1


# --- recommendations -----------------------------------------------------------------------


def create(api, as_="kz_expert", **fields):
    # Ids are not reused after a rollback on PostgreSQL: ask which process the world has.
    process = api.get("/processes", as_="admin").json["items"][0]["id"]
    body = {"process": process, "title": "Joint patrols", "body": BODY, "addressed_agencies": ["KG-BS"], **fields}
    return api.post("/recommendations", as_=as_, json=body)


def test_create_and_read(api, world):
    created = create(api, process=world.process.id)
    assert created.status_code == 201
    rec = created.json
    assert set(rec) >= RECOMMENDATION_KEYS
    assert (rec["state"], rec["revision"], rec["proposing_agency"], rec["created_by"]) == ("draft", 1, "KZ-BS", "kz_expert")
    assert rec["addressed_agencies"] == ["KG-BS", "KZ-BS"]
    assert rec["allowed_actions"] == ["edit", "submit", "withdraw", "comment"]
    assert rec["body_html"].startswith("<p>Establish")
    assert api.get(f"/recommendations/{rec['id']}", as_="kz_expert").json == rec


@pytest.mark.parametrize(("fields", "status", "code"), [
    ({"title": ""}, 422, "title_required"),
    ({"title": 5}, 400, "wrong_type"),
    ({"addressed_agencies": ["NOPE"]}, 422, "unknown_agency"),
    ({"addressed_agencies": "KG-BS"}, 400, "wrong_type"),
    ({"addressed_agencies": [1]}, 400, "wrong_type"),
    ({"process": "one"}, 400, "wrong_type"),
    ({"process": 99999}, 422, "unknown_process"),
    ({"process": True}, 400, "wrong_type"),
])
def test_create_refuses_bad_input(api, fields, status, code):
    error_of(create(api, **fields), status, code)


def test_create_refused_for_the_wrong_role(api):
    error_of(create(api, as_="kz_approver"), 403)


def test_a_draft_of_another_agency_is_indistinguishable_from_a_missing_id(api):
    rec = create(api).json
    hidden = api.get(f"/recommendations/{rec['id']}", as_="kg_approver")
    missing = api.get("/recommendations/987654", as_="kg_approver")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json == missing.json
    for path in ("/revisions", "/revisions/1", "/threads", "/diff?from=1&to=1"):
        assert api.get(f"/recommendations/{rec['id']}{path}", as_="kg_approver").json == missing.json


def test_edit_saves_a_revision(api):
    rec = create(api).json
    edited = api.put(f"/recommendations/{rec['id']}", as_="kz_expert",
                     json={"title": rec["title"], "body": rec["body"] + "\n\nMore.", "base_revision": 1, "summary": "More"})
    assert edited.status_code == 200 and edited.json["revision"] == 2
    revisions = api.get(f"/recommendations/{rec['id']}/revisions", as_="kz_expert").json
    assert [r["number"] for r in revisions["items"]] == [1, 2]
    assert set(revisions["items"][1]) == {"number", "author", "created_at", "summary", "state"}
    second = api.get(f"/recommendations/{rec['id']}/revisions/2", as_="kz_expert").json
    assert {"number", "title", "body", "author", "created_at", "summary"} <= set(second)
    assert second["body"].endswith("More.")
    diff = api.get(f"/recommendations/{rec['id']}/diff?from=1&to=2", as_="kz_expert").json
    assert diff["from"] == 1 and diff["to"] == 2
    assert ["insert", "\n\nMore."] in diff["ops"]


def test_an_overlapping_edit_is_409_and_keeps_the_text(api):
    rec = create(api).json
    url = f"/recommendations/{rec['id']}"
    api.put(url, as_="kz_expert", json={"title": rec["title"], "body": BODY.replace("quarter", "month"), "base_revision": 1})
    mine = BODY.replace("quarter", "week")
    conflict = api.put(url, as_="kz_expert", json={"title": rec["title"], "body": mine, "base_revision": 1})
    body = error_of(conflict, 409, "edit_conflict")
    assert body["conflict"]["current_revision"] == 2
    copy = api.get(f"/conflict-copies/{body['conflict']['your_text_saved_as']}", as_="kz_expert").json
    assert copy["body"] == mine and copy["base_revision"] == 1
    assert api.delete(f"/conflict-copies/{copy['id']}", as_="kz_expert").status_code == 204
    error_of(api.get(f"/conflict-copies/{copy['id']}", as_="kz_approver"), 404)


@pytest.mark.parametrize(("body", "status"), [
    ({"title": "T", "body": "B"}, 400),
    ({"title": "T", "body": "B", "base_revision": "1"}, 400),
    ({"title": "T", "body": "B", "base_revision": 9}, 422),
    ({"title": "", "body": "B", "base_revision": 1}, 422),
])
def test_bad_edits(api, body, status):
    rec = create(api).json
    error_of(api.put(f"/recommendations/{rec['id']}", as_="kz_expert", json=body), status)


def test_the_whole_workflow_through_the_api(api):
    rec = create(api).json
    url = f"/recommendations/{rec['id']}"

    def act(action, as_, **extra):
        return api.post(f"{url}/transitions", as_=as_, json={"action": action, **extra})

    assert act("submit", "kz_expert").json["state"] == "national_review"
    assert act("request_changes", "kg_approver", reason="Say who chairs.").json["state"] == "draft"
    assert act("submit", "kz_expert").json["state"] == "national_review"
    assert act("endorse", "kz_approver").json["state"] == "expert_consolidation"
    error_of(act("adopt", "lv_expert"), 409, "guard_failed")
    for approver in ("kz_approver", "kg_approver"):
        approval = api.post(f"{url}/approvals", as_=approver, json={"decision": "approve", "revision": 1})
        assert approval.status_code == 201
        assert approval.json == {**approval.json, "decision": "approve", "revision": 1, "stale": False, "by": approver}
    adopted = act("adopt", "lv_expert")
    assert adopted.json["state"] == "adopted" and adopted.json["allowed_actions"] == []
    assert {a["agency"] for a in adopted.json["approvals"]} == {"KZ-BS", "KG-BS"}


@pytest.mark.parametrize(("payload", "status", "code"), [
    ({"action": "fly"}, 422, "unknown_action"),
    ({"action": 3}, 400, "wrong_type"),
    ({}, 400, "missing_field"),
    ({"action": "withdraw"}, 422, "reason_required"),
    ({"action": "endorse"}, 403, "forbidden"),
    ({"action": "return", "reason": "x"}, 403, "forbidden"),
])
def test_bad_transitions(api, payload, status, code):
    rec = create(api).json
    error_of(api.post(f"/recommendations/{rec['id']}/transitions", as_="kz_expert", json=payload), status, code)


def test_transition_in_the_wrong_state_is_409(api):
    rec = create(api).json
    api.post(f"/recommendations/{rec['id']}/transitions", as_="kz_expert", json={"action": "submit"})
    error_of(api.post(f"/recommendations/{rec['id']}/transitions", as_="kz_expert", json={"action": "submit"}),
             409, "wrong_state")


def test_approval_on_a_stale_revision_is_409(api, session, world):
    rec = world.bring_to(session, State.expert_consolidation)
    session.commit()
    error_of(api.post(f"/recommendations/{rec.id}/approvals", as_="kz_approver",
                      json={"decision": "approve", "revision": 2}), 409, "stale_revision")
    error_of(api.post(f"/recommendations/{rec.id}/approvals", as_="kz_approver",
                      json={"decision": "maybe", "revision": 1}), 422, "unknown_decision")
    error_of(api.post(f"/recommendations/{rec.id}/approvals", as_="kz_approver",
                      json={"decision": "object", "revision": 1}), 422, "reason_required")
    error_of(api.post(f"/recommendations/{rec.id}/approvals", as_="kz_approver",
                      json={"decision": "approve"}), 400, "missing_field")


def test_merge_through_the_api(api, session, world):
    source = world.bring_to(session, State.expert_consolidation)
    target = world.bring_to(session, State.expert_consolidation, title="Target")
    session.commit()
    merged = api.post(f"/recommendations/{source.id}/transitions", as_="lv_expert",
                      json={"action": "merge", "into": target.id})
    assert merged.json["state"] == "merged" and merged.json["merged_into"] == target.id
    assert api.get(f"/recommendations/{target.id}", as_="lv_expert").json["merged_from"] == [source.id]
    error_of(api.post(f"/recommendations/{target.id}/transitions", as_="lv_expert",
                      json={"action": "merge", "into": "x"}), 400, "wrong_type")


# --- lists, filters, pagination -------------------------------------------------------------


def test_list_filters_and_paginates(api, session, world):
    world.bring_to(session, State.national_review, title="Risk analysis")
    world.bring_to(session, State.expert_consolidation, title="Joint patrols")
    world.draft(session, title="Private idea")
    session.commit()
    everything = api.get("/recommendations", as_="kg_approver").json
    assert (everything["total"], everything["page"], everything["per_page"]) == (2, 1, 50)
    assert api.get("/recommendations?state=national_review", as_="kg_approver").json["total"] == 1
    assert api.get("/recommendations?q=patrol", as_="kg_approver").json["total"] == 1
    assert api.get("/recommendations?agency=KZ-BS", as_="kz_expert").json["total"] == 3
    assert api.get(f"/recommendations?process={world.process.id}", as_="kg_approver").json["total"] == 2
    page = api.get("/recommendations?per_page=1&page=2", as_="kg_approver").json
    assert (len(page["items"]), page["total"], page["page"]) == (1, 2, 2)
    error_of(api.get("/recommendations?per_page=201", as_="kg_approver"), 422)
    error_of(api.get("/recommendations?page=0", as_="kg_approver"), 422)
    error_of(api.get("/recommendations?page=x", as_="kg_approver"), 400)
    error_of(api.get("/recommendations?state=lost", as_="kg_approver"), 422)
    error_of(api.get("/recommendations?agency=NOPE", as_="kg_approver"), 422)


@pytest.mark.parametrize("number", ["%C2%B2", "%D9%A3", "1_0", "%201", "1e3", "1.0", "0x10"])
def test_a_number_in_a_query_is_plain_ascii_digits(api, world, number):
    """int() takes "٣" (3), " 1" and "1_0"; "²" passes str.isdigit() and fails int(): all are 400."""
    answer = error_of(api.get(f"/recommendations?process={number}", as_="kg_approver"), 400, "wrong_type")
    assert answer["error"]["message"] == "The parameter 'process' must be an integer."


@pytest.mark.parametrize("q", ["'; DROP TABLE recommendations; --", "%", "_", "\\", '" OR 1=1', "\u0000"])
def test_sql_metacharacters_in_filters(api, q):
    answer = api.get("/recommendations", as_="kz_expert", query_string={"q": q, "agency": "KZ-BS"})
    assert answer.status_code in (200, 422)


# --- threads -------------------------------------------------------------------------------


def test_threads_through_the_api(api, session, world):
    rec = world.bring_to(session, State.national_review)
    session.commit()
    thread = api.post(f"/recommendations/{rec.id}/threads", as_="kg_approver",
                      json={"body": "Why *quarterly*?", "quote": "every quarter"})
    assert thread.status_code == 201
    t = thread.json
    assert (t["revision"], t["quote"], t["resolved"], t["passage_changed"]) == (1, "every quarter", False, False)
    assert t["comments"][0]["body_html"] == "<p>Why <em>quarterly</em>?</p>"
    reply = api.post(f"/threads/{t['id']}/comments", as_="kz_expert", json={"body": "Momentum."})
    assert reply.status_code == 201 and reply.json["author"] == "kz_expert"
    assert api.post(f"/threads/{t['id']}/resolve", as_="kg_approver").json["resolved"] is True
    error_of(api.post(f"/threads/{t['id']}/resolve", as_="kg_approver"), 409)
    error_of(api.post(f"/threads/{t['id']}/comments", as_="kz_expert", json={"body": "x"}), 409)
    assert api.post(f"/threads/{t['id']}/reopen", as_="kz_expert").json["resolved"] is False
    listed = api.get(f"/recommendations/{rec.id}/threads", as_="uz_expert").json
    assert [len(x["comments"]) for x in listed["items"]] == [2]
    error_of(api.post(f"/threads/{t['id']}/comments", as_="tj_approver", json={"body": "x"}), 404)
    error_of(api.post(f"/threads/{t['id']}/comments", as_="auditor", json={"body": "x"}), 403)
    error_of(api.post("/threads/99999/reopen", as_="kz_expert"), 404)
    error_of(api.post(f"/recommendations/{rec.id}/threads", as_="kg_approver", json={"body": "x", "quote": "absent"}), 422)
    error_of(api.post(f"/recommendations/{rec.id}/threads", as_="kg_approver", json={"body": ["x"]}), 400)


# --- audit ---------------------------------------------------------------------------------


def test_audit_for_auditors_and_for_others(api, session, world):
    public = world.bring_to(session, State.national_review)
    private = world.draft(session, title="Private")
    session.commit()
    everything = api.get("/audit?per_page=200", as_="auditor").json
    assert everything["total"] == session.query(AuditEvent).count()  # token.issue included
    mine = api.get("/audit?per_page=200", as_="kg_approver").json
    seen = {e["recommendation"] for e in mine["items"]}
    assert seen == {public.id}, "only events of recommendations the caller may see"
    assert private.id not in seen
    filtered = api.get(f"/audit?recommendation={public.id}&action=submit", as_="auditor").json
    assert [e["action"] for e in filtered["items"]] == ["submit"]
    assert set(filtered["items"][0]) >= {"seq", "occurred_at", "actor", "action", "hash", "prev_hash", "payload"}
    assert api.get("/audit?actor=kz_expert&action=create", as_="auditor").json["total"] == 2
    assert api.get("/audit?since=2999-01-01T00:00:00Z", as_="auditor").json["total"] == 0
    error_of(api.get("/audit?since=yesterday", as_="auditor"), 400)


def test_audit_verify(api):
    verified = api.get("/audit/verify", as_="auditor").json
    assert verified["ok"] is True and verified["first_bad"] is None and len(verified["head"]) == 64
    assert verified["events"] > 0
    error_of(api.get("/audit/verify", as_="kz_expert"), 403)


# --- what never happens under /api/ ---------------------------------------------------------


def test_unknown_paths_and_methods_answer_json(api):
    error_of(api.get("/nowhere", as_="kz_expert"), 404, "not_found")
    error_of(api.call("PATCH", "/recommendations", as_="kz_expert"), 405, "method_not_allowed")


def test_oversized_bodies_are_413(api):
    answer = api.post("/recommendations", as_="kz_expert", data=b"{" + b" " * (3 * 1024 * 1024) + b"}",
                      content_type="application/json")
    error_of(answer, 413, "too_large")
