"""Sign-in, the inbox, process pages, the recommendation page and its forms, through the Flask
client: what each person sees, what each form does, and that refusals change nothing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event, select

from accord.workflow import services
from accord.workflow.actors import SYSTEM
from accord.workflow.models import Recommendation
from accord.workflow.states import State

from ..helpers import snapshot, without_csrf_token

# --- signing in and out ------------------------------------------------------------------


def test_pages_need_a_session(pages):
    response = pages.get("/")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_sign_in_renews_the_session_and_sign_out_ends_it_on_the_server(pages, app):
    pages.get("/sign-in")
    before = pages.client.get_cookie("accord_session")
    pages.sign_in("kz_expert")
    after = pages.client.get_cookie("accord_session")
    assert after is not None and (before is None or before.value != after.value)
    assert pages.get("/").status_code == 200
    stolen = after.value
    pages.post("/sign-out")
    assert pages.get("/").status_code == 302
    # A copy of the cookie taken before signing out no longer works.
    replay = app.test_client()
    replay.set_cookie("accord_session", stolen)
    assert replay.get("/").status_code == 302


def test_a_disabled_account_is_signed_out_at_once(pages, session):
    pages.sign_in("kz_expert")
    services.set_user_active(session, SYSTEM, "kz_expert", active=False)
    session.commit()
    assert pages.get("/").status_code == 302


def test_wrong_password_and_unknown_user_answer_alike(pages):
    token = pages.csrf_token("/sign-in")
    wrong = pages.client.post("/sign-in", data={"username": "kz_expert", "password": "nope nope nope", "csrf_token": token})
    unknown = pages.client.post("/sign-in", data={"username": "nobody_here", "password": "nope nope nope", "csrf_token": token})
    assert wrong.status_code == unknown.status_code == 401
    assert "The username or password is not correct." in wrong.get_data(as_text=True)
    strip = lambda r: re.sub(r'value="[^"]*"', "", r.get_data(as_text=True))  # noqa: E731
    assert strip(wrong) == strip(unknown)


def test_failed_sign_ins_are_rate_limited(pages):
    token = pages.csrf_token("/sign-in")
    for _ in range(5):
        pages.client.post("/sign-in", data={"username": "kg_expert", "password": "guess guess", "csrf_token": token})
    limited = pages.client.post("/sign-in", data={"username": "kg_expert", "password": "correct horse battery staple", "csrf_token": token})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0


def test_a_post_without_csrf_token_is_refused_and_changes_nothing(pages, session, world):
    rec = world.draft(session)
    session.commit()
    pages.sign_in("kz_expert")
    before = snapshot(session)
    response = pages.post(f"/recommendations/{rec.id}/transitions", {"action": "submit"}, csrf=False)
    assert response.status_code == 400
    assert snapshot(session) == before


#: Each leads off the site in a browser, which drops tabs and line breaks from a URL and reads a
#: backslash as a slash.
OFF_SITE_TARGETS = (
    "https://evil.example/", "//evil.example/", "/\\evil.example", "/\t/evil.example", "/\n/evil.example",
    "/\r\n/evil.example", "\t//evil.example", "/\x00/evil.example", "javascript:alert(1)",
)


def sign_in_with_next(pages, target: str):
    token = pages.csrf_token("/sign-in")
    response = pages.client.post("/sign-in", data={
        "username": "kz_expert", "password": "correct horse battery staple", "csrf_token": token, "next": target,
    })
    pages.post("/sign-out")
    return response


@pytest.mark.parametrize("target", OFF_SITE_TARGETS)
def test_sign_in_refuses_an_off_site_next(pages, target):
    assert sign_in_with_next(pages, target).headers["Location"] == "/"


def test_sign_in_follows_a_next_on_the_site(pages):
    assert sign_in_with_next(pages, "/processes/1?state=draft").headers["Location"] == "/processes/1?state=draft"


def test_security_headers(pages):
    response = pages.get("/sign-in")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"
    pages.sign_in("kz_expert")
    cookie = pages.client.get_cookie("accord_session")
    assert cookie.http_only and cookie.same_site == "Lax"
    assert "<script>" not in pages.text("/")  # no inline script: the CSP would block it


def test_the_session_cookie_is_secure_over_https(app, world, session):
    session.commit()
    client = app.test_client()
    from .conftest import PageClient

    page = PageClient(client)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/sign-in", base_url="https://localhost").get_data(as_text=True)).group(1)
    # Over HTTPS, Flask-WTF also wants a same-site Referer, as a browser sends.
    response = client.post("/sign-in", base_url="https://localhost", headers={"Referer": "https://localhost/sign-in"},
                           data={"username": "kz_expert", "password": "correct horse battery staple", "csrf_token": token})
    assert "Secure" in response.headers["Set-Cookie"] and "HttpOnly" in response.headers["Set-Cookie"]
    assert page  # the same client type serves both


# --- the inbox -----------------------------------------------------------------------------


def test_the_inbox_shows_what_awaits_me_with_the_button_that_does_it(pages, session, world):
    draft = world.draft(session, title="My draft to submit")
    review = world.bring_to(session, State.national_review, title="Awaiting endorsement")
    world.bring_to(session, State.expert_consolidation, title="Awaiting our approval")
    thread = services.start_thread(session, world["kz_approver"], review.id, body="Is quarterly enough?")
    services.add_comment(session, world["kg_approver"], thread.id, body="Monthly would be better.")
    session.commit()

    pages.sign_in("kz_expert")
    mine = pages.text("/")
    assert "My draft to submit" in mine and "Submit for national review" in mine

    pages.post("/sign-out")
    pages.sign_in("kz_approver")
    approver = pages.text("/")
    assert "Awaiting endorsement" in approver and "Endorse for expert consolidation" in approver
    assert "Approvals your agency owes" in approver and "Awaiting our approval" in approver
    assert "Threads with new replies" in approver and "Monthly would be better." in approver
    assert draft.title not in approver  # not a step of an approver's


def test_an_empty_inbox_says_so(pages):
    pages.sign_in("auditor")
    assert "Nothing awaits you right now." in pages.text("/")


# --- processes -----------------------------------------------------------------------------


def test_process_page_groups_filters_and_searches(pages, session, world):
    world.bring_to(session, State.national_review, title="Risk analysis unit")
    world.bring_to(session, State.expert_consolidation, title="Joint patrols")
    world.draft(session, title="Private idea")
    session.commit()
    pages.sign_in("kg_approver")
    url = f"/processes/{world.process.id}"
    page = pages.text(url)
    assert "National review" in page and "Expert consolidation" in page
    assert "Risk analysis unit" in page and "Joint patrols" in page and "Private idea" not in page
    assert "Joint patrols" not in pages.text(url + "?state=national_review")
    assert "Risk analysis unit" not in pages.text(url + "?q=patrol")
    assert pages.get(url + "?state=bogus").status_code == 422
    assert pages.get("/processes/999").status_code == 404


def test_processes_of_other_agencies_are_not_found(pages, world):
    pages.sign_in("tj_approver")
    assert pages.get(f"/processes/{world.process.id}").status_code == 404
    assert "takes part in no process" in pages.text("/processes")


def test_drafting_a_new_recommendation(pages, session, world):
    pages.sign_in("kz_expert")
    url = f"/processes/{world.process.id}/new"
    assert "Draft a recommendation" in pages.text(f"/processes/{world.process.id}")
    form = pages.text(url)
    assert 'value="KG-BS"' in form and 'value="KZ-BS"' not in form  # one's own agency always is
    refused = pages.post(url, {"title": "", "body": "x", "addressed": ["KG-BS"]})
    assert refused.status_code == 422 and "must not be empty" in refused.get_data(as_text=True)
    created = pages.post(url, {"title": "Joint risk analysis unit", "body": "Each agency seconds one analyst.", "addressed": ["KG-BS"]})
    assert created.status_code == 303
    rec = session.scalars(select(Recommendation).where(Recommendation.title == "Joint risk analysis unit")).one()
    assert created.headers["Location"].endswith(f"/recommendations/{rec.id}")
    assert [a.code for a in rec.addressed_agencies] == ["KG-BS", "KZ-BS"]


def test_only_national_experts_get_the_drafting_form(pages, world):
    pages.sign_in("kz_approver")
    assert "Draft a recommendation" not in pages.text(f"/processes/{world.process.id}")
    assert pages.get(f"/processes/{world.process.id}/new").status_code == 403


# --- the recommendation page ---------------------------------------------------------------


def buttons(html: str) -> set[str]:
    return set(re.findall(r'name="action" value="([a-z_]+)"', html))


@pytest.mark.parametrize(("user", "state", "expected"), [
    ("kz_expert", State.draft, {"submit", "withdraw"}),
    ("kz_approver", State.national_review, {"endorse", "request_changes", "withdraw"}),
    ("kg_approver", State.national_review, {"request_changes"}),
    ("lv_expert", State.expert_consolidation, {"return", "merge"}),
    ("uz_expert", State.expert_consolidation, set()),
    ("auditor", State.draft, set()),
])
def test_buttons_are_the_allowed_transitions(pages, session, world, user, state, expected):
    rec = world.bring_to(session, state)
    session.commit()
    pages.sign_in(user)
    html = pages.text(f"/recommendations/{rec.id}")
    assert buttons(html) == expected


def test_the_page_shows_the_path_approvals_and_staleness(pages, session, world):
    rec = world.bring_to(session, State.expert_consolidation, approved=True)
    services.edit_recommendation(session, world["lv_expert"], rec.id, title=rec.title,
                                 body=rec.body + "\n\nConsolidated.", base_revision=1)
    session.commit()
    pages.sign_in("kg_approver")
    html = pages.text(f"/recommendations/{rec.id}")
    assert 'aria-current="step">Expert consolidation' in html
    assert html.count("stale: the text changed since") == 2
    assert "Approve revision 2 for KG-BS" in html and "Object to revision 2" in html
    assert "What changed since" in html


def test_actions_through_the_forms(pages, session, world):
    rec = world.bring_to(session, State.national_review)
    session.commit()
    pages.sign_in("kg_approver")
    missing = pages.post(f"/recommendations/{rec.id}/transitions", {"action": "request_changes", "reason": ""})
    assert missing.status_code == 422 and "Nothing was changed." in missing.get_data(as_text=True)
    done = pages.post(f"/recommendations/{rec.id}/transitions", {"action": "request_changes", "reason": "Be specific."})
    assert done.status_code == 303
    session.expire_all()
    assert session.get(Recommendation, rec.id).state is State.draft
    # Sent back to draft, it is the proposing agency's again: hidden from KG-BS.
    assert pages.get(f"/recommendations/{rec.id}").status_code == 404


def test_decisions_and_threads_through_the_forms(pages, session, world):
    rec = world.bring_to(session, State.expert_consolidation)
    session.commit()
    pages.sign_in("kg_approver")
    assert pages.post(f"/recommendations/{rec.id}/decisions", {"decision": "object", "revision": "1", "reason": "Too often."}).status_code == 303
    stale = pages.post(f"/recommendations/{rec.id}/decisions", {"decision": "approve", "revision": "7"})
    assert stale.status_code == 409
    started = pages.post(f"/recommendations/{rec.id}/threads", {"body": "Why *weekly*?", "quote": "every quarter", "revision": "1"})
    assert started.status_code == 303 and "#thread-" in started.headers["Location"]
    thread_id = int(started.headers["Location"].rsplit("-", 1)[1])
    assert pages.post(f"/threads/{thread_id}/comments", {"body": "Reply."}).status_code == 303
    assert pages.post(f"/threads/{thread_id}/resolve").status_code == 303
    html = pages.text(f"/recommendations/{rec.id}")
    assert "<em>weekly</em>" in html and "Resolved by" in html and "objects" in html
    assert pages.post(f"/threads/{thread_id}/resolve").status_code == 409


def test_hostile_text_is_never_markup(pages, session, world):
    rec = world.draft(session, title='<script>alert("t")</script>', body='<img src=x onerror=alert(1)> [x](javascript:alert(2))')
    session.commit()
    pages.sign_in("kz_expert")
    html = pages.text(f"/recommendations/{rec.id}")
    assert "<script>alert" not in html and "onerror" not in html.replace("onerror=alert(1)&gt;", "")
    assert 'href="javascript:' not in html
    assert "&lt;script&gt;" in html


@pytest.mark.parametrize("user", ["kg_approver", "tj_approver", "lv_expert"])
def test_another_agencys_draft_is_not_found(pages, session, world, user):
    rec = world.draft(session)
    session.commit()
    pages.sign_in(user)
    hidden = pages.get(f"/recommendations/{rec.id}")
    missing = pages.get("/recommendations/987654")
    assert hidden.status_code == missing.status_code == 404
    assert without_csrf_token(hidden.get_data(as_text=True)) == without_csrf_token(missing.get_data(as_text=True))


def test_refused_forms_change_nothing(pages, session, world):
    rec = world.bring_to(session, State.national_review)
    session.commit()
    pages.sign_in("uz_approver")
    before = snapshot(session)
    assert pages.post(f"/recommendations/{rec.id}/transitions", {"action": "endorse"}).status_code == 403
    assert pages.post(f"/recommendations/{rec.id}/decisions", {"decision": "approve", "revision": "1"}).status_code == 403
    assert snapshot(session) == before


def test_no_state_change_on_get(pages, session, world):
    rec = world.bring_to(session, State.expert_consolidation)
    session.commit()
    pages.sign_in("lv_expert")
    before = snapshot(session)
    for path in ("/", "/processes", f"/processes/{world.process.id}", f"/recommendations/{rec.id}",
                 f"/recommendations/{rec.id}/transitions?action=adopt", "/sign-out"):
        pages.get(path)
    assert snapshot(session) == before


# --- how many statements a page makes -------------------------------------------------------


def count_statements(app, pages, path: str) -> int:
    engine = app.extensions["accord.database"].engine
    counter = {"n": 0}

    def count(*_):
        counter["n"] += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert pages.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return counter["n"]


def grow(session, world, rec, n: int) -> None:
    for i in range(n):
        services.edit_recommendation(session, world["lv_expert"], rec.id, title=rec.title,
                                     body=rec.body + f"\n\nEdit {i}.", base_revision=rec.revision)
        thread = services.start_thread(session, world["kg_approver"], rec.id, body=f"Thread {i}", quote="quarter")
        services.add_comment(session, world["kz_expert"], thread.id, body=f"Reply {i}")


def test_statements_per_page_do_not_grow(app, pages, session, world):
    small = world.bring_to(session, State.expert_consolidation, title="Small")
    grow(session, world, small, 1)
    large = world.bring_to(session, State.expert_consolidation, title="Large")
    grow(session, world, large, 12)
    services.record_decision(session, world["kz_approver"], large.id, "approve", revision=large.revision)
    services.record_decision(session, world["kz_approver"], small.id, "approve", revision=small.revision)
    session.commit()
    pages.sign_in("kg_approver")
    pages.get("/")  # first use of the session is recorded once
    assert count_statements(app, pages, f"/recommendations/{small.id}") == count_statements(app, pages, f"/recommendations/{large.id}")
    few = count_statements(app, pages, f"/processes/{world.process.id}")
    inbox_few = count_statements(app, pages, "/")
    for i in range(15):
        world.bring_to(session, State.expert_consolidation, title=f"More {i}", approved=(i % 2 == 0))
    session.commit()
    assert count_statements(app, pages, f"/processes/{world.process.id}") == few
    assert count_statements(app, pages, "/") == inbox_few


def test_a_refused_save_gives_the_typed_text_back(pages, session, world):
    """The state moved on while someone was editing: the save is refused, the text is not lost."""
    rec = world.draft(session)
    session.commit()
    pages.sign_in("kz_expert")
    world.fire(session, rec, "submit", "kz_expert")
    session.commit()
    response = pages.post(f"/recommendations/{rec.id}/edit", {
        "title": rec.title, "body": "My careful new wording.", "summary": "", "base_revision": "1",
    })
    assert response.status_code == 409
    assert "My careful new wording." in response.get_data(as_text=True)


def test_no_template_uses_inline_style_or_script():
    """The CSP allows neither; a stray attribute would silently not work."""
    from pathlib import Path

    from accord import web

    for template in (Path(web.__file__).parent / "templates").rglob("*.html"):
        html = template.read_text()
        assert 'style="' not in html and "<script>" not in html and " onclick=" not in html, template.name
