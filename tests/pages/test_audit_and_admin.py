"""The audit page and the administration pages, through the Flask test client: who may open
them, what they show, what each form changes (always with its audit event) and what a refused
form leaves untouched."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.workflow import audit
from accord.workflow.models import Agency, AuditEvent, Process, Role, User
from accord.workflow.states import State

from ..helpers import events
from .conftest import PageClient


def text(response) -> str:
    return response.get_data(as_text=True)


def shown_events(response) -> list[int]:
    return [int(seq) for seq in re.findall(r'<tr id="event-(\d+)"', text(response))]


def admin_state(session: Session) -> dict[str, Any]:
    """What a refused administration form must leave as it was."""
    session.expire_all()
    return {
        "agencies": session.execute(select(Agency.code, Agency.name, Agency.kind).order_by(Agency.code)).all(),
        "users": session.execute(select(User.username, User.active, User.agency_id).order_by(User.username)).all(),
        "processes": session.execute(select(Process.id, Process.title).order_by(Process.id)).all(),
        "events": session.scalar(select(func.count()).select_from(AuditEvent)),
        "head": session.scalar(select(AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)),
    }


def last_event(session: Session) -> AuditEvent:
    session.expire_all()
    return session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).one()


# --- the audit page -----------------------------------------------------------------------------


def test_an_auditor_reads_the_chain_and_its_verification(as_user, session, world):
    rec = world.bring_to(session, State.adopted)
    session.commit()
    page = as_user("auditor").get("/audit?verify=1")
    assert page.status_code == 200
    chain = events(session)
    body = text(page)
    assert f"The chain of {len(chain)} events verifies" in body
    assert chain[-1].hash in body  # the head
    assert shown_events(page) == [e.seq for e in chain]
    adopt = next(e for e in chain if e.action == "adopt")
    row = body.split(f'<tr id="event-{adopt.seq}"')[1].split("</tr>")[0]
    assert "lv_expert" in row and "LV-SBG" in row and f'href="/recommendations/{rec.id}"' in row
    assert "Expert consolidation → Adopted" in row and adopt.hash[:12] in row
    # the filters offer the actions and agencies present
    assert '<option value="adopt"' in body and '<option value="LV-SBG"' in body
    assert 'href="/audit"' in body  # the navigation links the page


def test_administrators_read_it_too(as_user):
    page = as_user("admin").get("/audit?verify=1")
    assert page.status_code == 200 and "verifies" in text(page)


def test_the_chain_is_verified_when_asked_not_on_every_view(as_user, session, world, monkeypatch):
    """Verifying walks every event: a button does it, keeping the filters and the page."""
    world.bring_to(session, State.adopted)
    session.commit()
    auditor = as_user("auditor")

    def walked(session):
        raise AssertionError("the chain was walked without being asked")

    with monkeypatch.context() as patched:
        patched.setattr(audit, "verify_chain", walked)
        body = text(auditor.get("/audit?action=approve&page=1"))
    assert "Verify the chain now" in body and "verifies" not in body
    form = body.split('<section class="card verification"')[1].split("</form>")[0]
    for field in ('name="action" value="approve"', 'name="page" value="1"', 'name="verify" value="1"'):
        assert field in form
    verified = text(auditor.get("/audit?action=approve&page=1&verify=1"))
    assert f"The chain of {len(events(session))} events verifies" in verified


@pytest.mark.parametrize("path", ["/audit", "/audit/export.csv", "/audit/export.jsonl"])
@pytest.mark.parametrize("username", ["kz_expert", "kz_approver", "lv_expert"])
def test_everyone_else_is_refused(as_user, username, path):
    answer = as_user(username).get(path)
    assert answer.status_code == 403
    assert "Only auditors and administrators" in text(answer)
    assert "attachment" not in answer.headers.get("Content-Disposition", "")


def test_signed_out_visitors_are_sent_to_sign_in(app, world, session):
    session.commit()
    answer = app.test_client().get("/audit")
    assert answer.status_code == 302 and "/sign-in" in answer.headers["Location"]


def test_the_navigation_offers_audit_and_administration_by_role(as_user):
    assert 'href="/audit"' in text(as_user("auditor").get("/"))
    assert 'href="/admin"' not in text(as_user("auditor").get("/"))
    assert 'href="/admin"' in text(as_user("admin").get("/"))
    plain = text(as_user("kz_expert").get("/"))
    assert 'href="/audit"' not in plain and 'href="/admin"' not in plain


def test_filters(as_user, session, world):
    first = world.bring_to(session, State.adopted)
    second = world.bring_to(session, State.national_review, title="Second")
    session.commit()
    auditor = as_user("auditor")
    chain = events(session)

    def seqs(**where: Any) -> list[int]:
        return [e.seq for e in chain if all(getattr(e, k) == v for k, v in where.items())]

    by_rec = auditor.get(f"/audit?recommendation={second.id}")
    assert shown_events(by_rec) == seqs(recommendation_id=second.id) and len(seqs(recommendation_id=second.id)) == 2
    assert shown_events(auditor.get(f"/audit?recommendation=%23{first.id}")) == seqs(recommendation_id=first.id)
    assert shown_events(auditor.get("/audit?actor=kz_approver")) == seqs(actor="kz_approver")
    assert shown_events(auditor.get("/audit?agency=KG-BS")) == seqs(actor_agency="KG-BS")
    assert shown_events(auditor.get("/audit?agency=kg-bs")) == seqs(actor_agency="KG-BS")
    assert shown_events(auditor.get("/audit?action=submit")) == seqs(action="submit")
    combined = auditor.get(f"/audit?action=approve&agency=KG-BS&recommendation={first.id}")
    assert shown_events(combined) == seqs(action="approve", actor_agency="KG-BS", recommendation_id=first.id)
    assert len(shown_events(combined)) == 1
    # the form keeps the filters, and the exports carry them
    body = text(combined)
    assert '<option value="approve" selected>' in body and '<option value="KG-BS" selected>' in body
    assert f'value="{first.id}"' in body
    assert f"/audit/export.csv?recommendation={first.id}&amp;agency=KG-BS&amp;action=approve" in body


def test_date_filters_are_whole_utc_days(as_user, session):
    auditor = as_user("auditor")
    everything = shown_events(auditor.get("/audit"))
    today = datetime.now(UTC).date()
    yesterday, tomorrow = today - timedelta(days=1), today + timedelta(days=1)
    assert shown_events(auditor.get(f"/audit?from={today}&to={today}")) == everything
    assert shown_events(auditor.get(f"/audit?to={today}")) == everything
    assert shown_events(auditor.get(f"/audit?from={tomorrow}")) == []
    empty = auditor.get(f"/audit?from={yesterday}&to={yesterday}")
    assert empty.status_code == 200 and shown_events(empty) == []
    assert "No event matches these filters." in text(empty)


def test_extreme_but_valid_filters_answer_normally(as_user):
    auditor = as_user("auditor")
    everything = shown_events(auditor.get("/audit"))
    assert shown_events(auditor.get("/audit?from=0001-01-01&to=9999-12-31")) == everything
    assert auditor.get("/audit?page=999999999").status_code == 200
    assert shown_events(auditor.get("/audit?recommendation=999999999")) == []


@pytest.mark.parametrize("query", ["recommendation=abc", "recommendation=99999999999999999999",
                                   "recommendation=%C2%B2", "from=12/31/2024", "to=tomorrow",
                                   "page=%C2%B2", "page=0", "page=1e3"])
def test_malformed_filters_are_refused_with_a_sentence(as_user, query):
    answer = as_user("auditor").get(f"/audit?{query}")
    assert answer.status_code == 422
    assert "YYYY-MM-DD" in text(answer) or "must be a number" in text(answer)


def test_pagination_keeps_the_filters(as_user, session, world):
    for n in range(7):
        world.bring_to(session, State.adopted, title=f"Recommendation {n}")
    session.commit()
    auditor = as_user("auditor")
    chain = events(session)
    assert len(chain) > 50
    first = auditor.get("/audit")
    assert shown_events(first) == [e.seq for e in chain[:50]]
    assert "Page 1 of 2" in text(first)
    second = auditor.get("/audit?page=2")
    assert shown_events(second) == [e.seq for e in chain[50:]]
    approvals = [e.seq for e in chain if e.action == "approve"]  # 14
    filtered = auditor.get("/audit?action=approve&page=1")
    assert shown_events(filtered) == approvals and "Page 1 of" not in text(filtered)
    assert 'href="/audit?page=2"' in text(first)


def test_a_broken_chain_is_named_at_the_top(as_user, session, monkeypatch):
    head = events(session)[3].hash
    monkeypatch.setattr(
        audit, "verify_chain",
        lambda session: audit.Verification(False, 4, head, 5, "its hash does not match its contents"),
    )
    body = text(as_user("auditor").get("/audit?verify=1"))
    assert "The chain is broken at event 5." in body
    assert "The 4 events before it verify." in body
    assert "its hash does not match its contents" in body and head in body
    assert "verification-broken" in body


def test_csv_export(as_user, session, world):
    rec = world.bring_to(session, State.adopted)
    session.commit()
    answer = as_user("auditor").get(f"/audit/export.csv?recommendation={rec.id}")
    assert answer.status_code == 200
    assert answer.mimetype == "text/csv"
    disposition = answer.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and disposition.endswith('.csv"')
    rows = list(csv.DictReader(io.StringIO(text(answer))))
    wanted = [e for e in events(session) if e.recommendation_id == rec.id]
    assert [int(r["seq"]) for r in rows] == [e.seq for e in wanted]
    assert [r["action"] for r in rows] == ["create", "submit", "endorse", "approve", "approve", "adopt"]
    assert [r["hash"] for r in rows] == [e.hash for e in wanted]
    assert list(rows[0]) == list(audit.EXPORT_COLUMNS)
    # exactly what `accord audit export` writes for the same events
    expected = io.StringIO()
    audit.export_events(wanted, expected, "csv")
    assert text(answer) == expected.getvalue()


def test_jsonl_export_of_the_whole_chain_reverifies(as_user, session, world):
    world.bring_to(session, State.merged)
    session.commit()
    answer = as_user("admin").get("/audit/export.jsonl")
    assert answer.status_code == 200
    assert answer.mimetype == "application/x-ndjson"
    assert answer.headers["Content-Disposition"].startswith("attachment;")
    assert answer.headers["Content-Disposition"].endswith('.jsonl"')
    lines = text(answer).splitlines()
    chain = events(session)
    documents = [json.loads(line) for line in lines]
    assert [d["seq"] for d in documents] == [e.seq for e in chain]
    for document in documents:  # anyone can re-verify the export
        fields = {**document, "payload": audit.canonical_json(document["payload"])}
        fields["occurred_at"] = datetime.fromisoformat(document["occurred_at"])
        assert audit.event_hash(fields) == document["hash"]
    expected = io.StringIO()
    audit.export_events(chain, expected, "jsonl")
    assert text(answer) == expected.getvalue()


def test_exports_follow_the_filters_and_stream(as_user, session, world, monkeypatch):
    from accord.workflow.services import audit_log

    monkeypatch.setattr(audit_log, "EXPORT_BATCH", 3)
    for n in range(4):
        world.bring_to(session, State.national_review, title=f"Filtered {n}")
    session.commit()
    auditor = as_user("auditor")
    answer = auditor.get("/audit/export.jsonl?action=submit", buffered=False)
    assert answer.is_streamed
    lines = answer.get_data(as_text=True).splitlines()
    answer.close()
    assert [json.loads(line)["action"] for line in lines] == ["submit"] * 4
    streamed = auditor.get("/audit/export.csv?action=create", buffered=False)
    chunks = list(streamed.response)
    streamed.close()
    assert len(chunks) == 2  # the header and the first three rows, then the fourth
    empty = auditor.get("/audit/export.csv?actor=nobody")
    assert text(empty).splitlines() == [",".join(audit.EXPORT_COLUMNS)]


# --- administration: who may open it ------------------------------------------------------------

ADMIN_PAGES = ["/admin", "/admin/agencies", "/admin/users", "/admin/processes"]

ADMIN_POSTS = {
    "/admin/agencies": {"code": "KZ-NEW", "name": "New", "country": "Kazakhstan", "kind": "national"},
    "/admin/users": {"username": "newbie", "agency_code": "KZ-BS", "roles": ["national_expert"],
                     "password": "a long enough passphrase 42"},
    "/admin/processes": {"title": "Another workshop", "agencies": ["KZ-BS"]},
    "/admin/users/kg_expert/disable": {},
}


@pytest.mark.parametrize("username", ["auditor", "kz_expert", "lv_expert"])
def test_non_administrators_get_403_everywhere(as_user, session, username):
    client = as_user(username)
    for path in ADMIN_PAGES:
        answer = client.get(path)
        assert answer.status_code == 403, path
        assert "Only an administrator may do this." in text(answer)
    before = admin_state(session)
    for path, form in ADMIN_POSTS.items():
        answer = client.post(path, form)
        assert answer.status_code == 403, path
        assert "Nothing was changed." in text(answer)
    assert admin_state(session) == before


def test_the_overview_counts_and_links(as_user):
    page = as_user("admin").get("/admin")
    assert page.status_code == 200
    body = text(page)
    assert "6 agencies" in body and "11 users" in body and "11 active" in body and "1 process" in body
    for path in ADMIN_PAGES[1:]:
        assert f'href="{path}"' in body
    assert 'aria-current="page">Administration' in body


def test_the_lists_show_what_there_is(as_user, world):
    admin = as_user("admin")
    agencies = text(admin.get("/admin/agencies"))
    assert "Estonian Academy of Security Sciences" in agencies and "EU body" in agencies
    users = text(admin.get("/admin/users"))
    row = users.split('<tr id="user-kz_approver">')[1].split("</tr>")[0]
    assert "KZ-BS" in row and "Approver" in row and "active" in row and "/admin/users/kz_approver/disable" in row
    assert '<legend>Roles</legend>' in users and 'for="role-eu_expert"' in users
    assert "EU bodies only" in users and "national agencies only" in users
    assert "/admin/users/admin/disable" not in users  # no button to lock oneself out
    processes = text(admin.get("/admin/processes"))
    assert world.process.title in processes and "KG-BS, KZ-BS, LV-SBG, UZ-CS" in processes
    assert '<legend>Agencies taking part</legend>' in processes


def test_get_changes_nothing(as_user, session):
    admin = as_user("admin")
    before = admin_state(session)
    for path in ADMIN_PAGES:
        assert admin.get(path, query_string=ADMIN_POSTS.get(path, {})).status_code == 200
    assert admin.get("/admin/users/kg_expert/disable").status_code == 405
    assert admin_state(session) == before


# --- agencies -----------------------------------------------------------------------------------


def test_adding_an_agency(as_user, session):
    admin = as_user("admin")
    answer = admin.post("/admin/agencies", {"code": "kz-src", "name": "State Revenue Committee",
                                            "country": "Kazakhstan", "kind": "national"})
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/admin/agencies")
    page = text(admin.get("/admin/agencies"))
    assert "The agency KZ-SRC is added." in page and "State Revenue Committee" in page
    session.expire_all()
    agency = session.scalar(select(Agency).where(Agency.code == "KZ-SRC"))
    assert agency.kind.value == "national" and agency.country == "Kazakhstan"
    event = last_event(session)
    assert (event.action, event.actor, event.actor_agency) == ("agency.add", "admin", "LV-SBG")
    assert json.loads(event.payload)["code"] == "KZ-SRC"
    assert audit.verify_chain(session).ok


@pytest.mark.parametrize(("form", "status", "sentence"), [
    ({"code": "KZ-BS", "name": "Twice", "country": "Kazakhstan", "kind": "national"}, 409,
     "An agency with the code KZ-BS exists already."),
    ({"code": "K", "name": "Too short", "country": "Kazakhstan", "kind": "national"}, 422,
     "An agency code is 2 to 32 capital letters"),
    ({"code": "KZ-X", "name": "", "country": "Kazakhstan", "kind": "national"}, 422, "The name must not be empty."),
    ({"code": "KZ-X", "name": "Odd kind", "country": "Kazakhstan", "kind": "galactic"}, 422, "Unknown kind"),
])
def test_a_refused_agency_keeps_what_was_typed(as_user, session, form, status, sentence):
    admin = as_user("admin")
    before = admin_state(session)
    answer = admin.post("/admin/agencies", form)
    assert answer.status_code == status
    body = text(answer)
    assert sentence in body and 'role="alert"' in body
    assert f'value="{form["code"]}"' in body and f'value="{form["country"]}"' in body
    if form["name"]:
        assert f'value="{form["name"]}"' in body
    assert admin_state(session) == before


# --- users --------------------------------------------------------------------------------------


def test_adding_a_user(app, as_user, session):
    admin = as_user("admin")
    answer = admin.post("/admin/users", {
        "username": "Gulnara", "display_name": "Gulnara Ospanova", "agency_code": "KZ-BS",
        "roles": ["national_expert", "approver"], "password": "steppe wind over the border post",
    })
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/admin/users")
    page = text(admin.get("/admin/users"))
    assert "The user gulnara is added." in page and "Gulnara Ospanova" in page
    session.expire_all()
    user = session.scalar(select(User).where(User.username == "gulnara"))
    assert user.agency.code == "KZ-BS" and user.roles == {Role.national_expert, Role.approver} and user.active
    event = last_event(session)
    assert (event.action, event.actor) == ("user.add", "admin")
    assert json.loads(event.payload) == {"username": "gulnara", "agency": "KZ-BS",
                                         "roles": ["approver", "national_expert"]}
    # the new account works
    PageClient(app.test_client()).sign_in("gulnara", "steppe wind over the border post")


@pytest.mark.parametrize(("form", "status", "sentence"), [
    ({"username": "newbie", "agency_code": "KZ-BS", "roles": ["national_expert"], "password": "Qz9-brief"}, 422,
     "at least 12 characters"),
    ({"username": "newbie", "agency_code": "KZ-BS", "roles": ["eu_expert"], "password": "a long enough passphrase 42"},
     422, "The role eu_expert belongs to eu agencies; KZ-BS is national."),
    ({"username": "kz_expert", "agency_code": "KZ-BS", "roles": ["approver"], "password": "a long enough passphrase 42"},
     409, "The username kz_expert is taken."),
    ({"username": "newbie", "agency_code": "KZ-BS", "roles": [], "password": "a long enough passphrase 42"}, 422,
     "A user needs at least one role."),
    ({"username": "newbie", "agency_code": "", "roles": ["auditor"], "password": "a long enough passphrase 42"}, 422,
     "Unknown agency"),
])
def test_a_refused_user_keeps_what_was_typed_but_the_password(as_user, session, form, status, sentence):
    admin = as_user("admin")
    before = admin_state(session)
    answer = admin.post("/admin/users", {**form, "display_name": "Someone New"})
    assert answer.status_code == status
    body = text(answer)
    assert sentence in body
    assert f'value="{form["username"]}"' in body and 'value="Someone New"' in body
    for role in form["roles"]:
        assert re.search(rf'value="{role}"[^>]*checked', body)
    if form["agency_code"]:
        assert f'<option value="{form["agency_code"]}" selected>' in body
    assert form["password"] not in body
    assert re.search(r'<input id="password" name="password" type="password" required autocomplete="new-password" aria-describedby="password-hint">', body)
    assert admin_state(session) == before


def test_disabling_and_enabling_a_user(as_user, session):
    admin = as_user("admin")
    expert = as_user("kz_expert")
    answer = admin.post("/admin/users/kz_expert/disable")
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/admin/users")
    assert "kz_expert is disabled" in text(admin.get("/admin/users"))
    session.expire_all()
    assert session.scalar(select(User.active).where(User.username == "kz_expert")) is False
    assert (last_event(session).action, json.loads(last_event(session).payload)) == (
        "user.disable", {"username": "kz_expert"})
    # their session ends at once
    assert expert.get("/").status_code == 302
    row = text(admin.get("/admin/users")).split('<tr id="user-kz_expert">')[1].split("</tr>")[0]
    assert "disabled" in row and "/admin/users/kz_expert/enable" in row

    answer = admin.post("/admin/users/kz_expert/enable", {"page": "2"})
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/admin/users?page=2")
    session.expire_all()
    assert session.scalar(select(User.active).where(User.username == "kz_expert")) is True
    assert last_event(session).action == "user.enable"


@pytest.mark.parametrize(("path", "status", "sentence"), [
    ("/admin/users/kz_expert/enable", 409, "kz_expert is already active."),
    ("/admin/users/admin/disable", 409, "You cannot disable your own account"),
    ("/admin/users/nobody/disable", 422, "Unknown user"),
])
def test_refused_status_changes(as_user, session, path, status, sentence):
    admin = as_user("admin")
    before = admin_state(session)
    answer = admin.post(path)
    assert answer.status_code == status
    assert sentence in text(answer) and "<legend>Roles</legend>" in text(answer)  # the users page again
    assert admin_state(session) == before


# --- processes ----------------------------------------------------------------------------------


def test_adding_a_process(as_user, session):
    admin = as_user("admin")
    answer = admin.post("/admin/processes", {"title": "Integrated border management — Bishkek, 2020",
                                             "agencies": ["KG-BS", "KZ-BS", "EE-ASS"]})
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/admin/processes")
    page = text(admin.get("/admin/processes"))
    assert "Integrated border management — Bishkek, 2020" in page and "is added" in page
    session.expire_all()
    process = session.scalar(select(Process).where(Process.title.like("Integrated%")))
    assert [a.code for a in process.agencies] == ["EE-ASS", "KG-BS", "KZ-BS"]
    event = last_event(session)
    assert (event.action, event.actor) == ("process.add", "admin")
    assert json.loads(event.payload)["agencies"] == ["EE-ASS", "KG-BS", "KZ-BS"]


@pytest.mark.parametrize(("form", "status", "sentence"), [
    ({"title": "Lonely workshop", "agencies": []}, 422, "A process needs at least one agency."),
    ({"title": "Joint strategic management — test", "agencies": ["KZ-BS", "KG-BS"]}, 409, "exists already"),
    ({"title": "", "agencies": ["KZ-BS"]}, 422, "The title must not be empty."),
])
def test_a_refused_process_keeps_what_was_typed(as_user, session, form, status, sentence):
    admin = as_user("admin")
    before = admin_state(session)
    answer = admin.post("/admin/processes", form)
    assert answer.status_code == status
    body = text(answer)
    assert sentence in body
    if form["title"]:
        assert f'value="{form["title"]}"' in body
    for code in form["agencies"]:
        assert re.search(rf'value="{code}"\s+checked', body)
    assert admin_state(session) == before


# --- forgery ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", list(ADMIN_POSTS))
def test_posts_without_the_csrf_token_are_refused(as_user, session, path):
    admin = as_user("admin")
    before = admin_state(session)
    answer = admin.post(path, ADMIN_POSTS[path], csrf=False)
    assert answer.status_code == 400
    assert admin_state(session) == before
