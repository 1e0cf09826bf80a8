"""CSRF on every form, and no change on any GET.

Every POST route of the pages (read from `app.url_map`; a new one fails the coverage test until
it is listed here) is refused without its CSRF token and with another session's token, and
changes nothing; the same request with the token succeeds, so the refusal is the token's doing.
Every GET route, as a visitor, the proposing agency, an outsider, the auditor and an
administrator, changes nothing; so does a GET to any POST-only route. The API takes no cookie:
a browser session cannot act through it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from accord.workflow import services
from accord.workflow.states import State

from ..factories import BODY, PASSWORD, World
from .conftest import People, full_snapshot
from .routes import build, routes


@dataclass
class Scene:
    draft: int
    review: int
    consolidation: int
    thread: int
    copy: int
    process: int
    revision: int  # the draft's current revision


def set_scene(session, world: World) -> Scene:
    draft = world.draft(session)
    services.edit_recommendation(session, world["kz_expert"], draft.id, title=draft.title,
                                 body=BODY.replace("every quarter", "every month"), base_revision=1)
    clash = services.edit_recommendation(session, world["kz_expert"], draft.id, title=draft.title,
                                         body=BODY.replace("every quarter", "every week"), base_revision=1)
    thread = services.start_thread(session, world["kz_expert"], draft.id, body="A question.")
    review = world.bring_to(session, State.national_review, title="In review")
    consolidation = world.bring_to(session, State.expert_consolidation, title="In consolidation")
    session.commit()
    return Scene(draft.id, review.id, consolidation.id, thread.id, clash.conflict.id, world.process.id, draft.revision)


@pytest.fixture
def scene(people, session, world) -> Scene:
    return set_scene(session, world)


Form = tuple[str | None, dict[str, Any], dict[str, Any], int]

#: Every form: who sends it, the route's values, the fields, and the status when it works. In
#: the order they are tried (later ones would undo what earlier ones need).
FORMS: dict[str, Callable[[Scene], Form]] = {
    "pages.preview": lambda s: ("kz_expert", {}, {"body": "*Hello*"}, 200),
    "pages.new_recommendation": lambda s: ("kz_expert", {"process_id": s.process}, {"title": "New", "body": "Text."}, 303),
    "pages.edit": lambda s: ("kz_expert", {"rec_id": s.draft},
                             {"title": "Edited", "body": "Edited text.", "base_revision": str(s.revision)}, 303),
    "pages.start_thread": lambda s: ("kz_expert", {"rec_id": s.draft}, {"body": "Another question."}, 303),
    "pages.reply": lambda s: ("kz_approver", {"thread_id": s.thread}, {"body": "An answer."}, 303),
    "pages.moderate": lambda s: ("kz_approver", {"thread_id": s.thread, "verb": "resolve"}, {}, 303),
    "pages.discard_copy": lambda s: ("kz_expert", {"copy_id": s.copy}, {}, 303),
    "pages.decide": lambda s: ("kz_approver", {"rec_id": s.consolidation}, {"decision": "approve", "revision": "1"}, 303),
    "pages.transition": lambda s: ("kz_expert", {"rec_id": s.draft}, {"action": "submit"}, 303),
    "pages.admin_agencies": lambda s: ("admin", {}, {"code": "NEW-AG", "name": "New", "country": "Nowhere", "kind": "eu"}, 303),
    "pages.admin_users": lambda s: ("admin", {}, {"username": "newcomer", "agency_code": "KZ-BS", "roles": "approver",
                                                   "password": "a long enough passphrase"}, 303),
    "pages.admin_processes": lambda s: ("admin", {}, {"title": "A new workshop", "agencies": "KZ-BS"}, 303),
    "pages.admin_user_active": lambda s: ("admin", {"username": "kg_expert", "verb": "disable"}, {}, 303),
    "pages.change_my_password": lambda s: ("uz_expert", {}, {"current_password": PASSWORD, "new_password": "another long passphrase",
                                                             "new_password_repeat": "another long passphrase"}, 303),
    "pages.sign_out": lambda s: ("uz_approver", {}, {}, 303),
    "pages.sign_in": lambda s: (None, {}, {"username": "tj_approver", "password": PASSWORD}, 303),
}

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def test_every_form_is_listed(app):
    posts = {r.endpoint for r in routes(app) if not r.is_api and r.method == "POST"}
    assert posts == set(FORMS), f"add {sorted(posts - set(FORMS))} to FORMS; drop {sorted(set(FORMS) - posts)}"


def test_every_form_needs_its_sessions_csrf_token(app, people: People, session, scene: Scene):
    stranger = people.page("lv_expert")  # a session whose token is valid, but its own
    problems = []
    for endpoint, make in FORMS.items():
        user, values, fields, ok = make(scene)
        client = people.page(user)
        path = build(app, endpoint, "POST", values)
        foreign = stranger.csrf
        for label, token in (("no token", None), ("another session's token", foreign), ("a forged token", "x" * 40)):
            before = full_snapshot(session)
            data = dict(fields, **({"csrf_token": token} if token else {}))
            answer = client.client.post(path, data=data)
            if answer.status_code != 400:
                problems.append(f"{endpoint} with {label}: {answer.status_code}")
            if full_snapshot(session) != before:
                problems.append(f"{endpoint} with {label} changed something")
        token = client.csrf if user else client.csrf_token("/sign-in")
        answer = client.client.post(path, data=dict(fields, csrf_token=token))
        if answer.status_code != ok:
            problems.append(f"{endpoint} with its token: {answer.status_code}, not {ok} {answer.get_data(as_text=True)[:300]!r}")
    assert not problems, "\n".join(problems)


def test_the_token_of_before_signing_in_is_dead_after(app, people: People):
    visitor = people.page(None)
    before = visitor.csrf_token("/sign-in")
    visitor.sign_in("kz_expert")
    assert visitor.csrf != before
    assert visitor.client.post("/preview", data={"body": "x", "csrf_token": before}).status_code == 400
    assert visitor.client.post("/preview", data={"body": "x", "csrf_token": visitor.csrf}).status_code == 200


def test_over_https_a_form_from_another_site_is_refused(app, world, session):
    session.commit()
    client = app.test_client()
    page = client.get("/sign-in", base_url="https://accord.example")
    token = _CSRF.search(page.get_data(as_text=True)).group(1)
    form = {"username": "kz_expert", "password": PASSWORD, "csrf_token": token}
    for referer in (None, "https://evil.example/sign-in", "http://accord.example/sign-in"):
        headers = {"Referer": referer} if referer else {}
        answer = client.post("/sign-in", base_url="https://accord.example", headers=headers, data=form)
        assert answer.status_code == 400, referer
    answer = client.post("/sign-in", base_url="https://accord.example",
                         headers={"Referer": "https://accord.example/sign-in"}, data=form)
    assert answer.status_code == 303


def test_the_api_never_acts_on_a_browser_session(app, people: People, session, world):
    client = people.page("kz_expert")
    before = full_snapshot(session)
    answer = client.client.post("/api/v1/recommendations", json={
        "process": world.process.id, "title": "Forged", "body": "Through the cookie.", "csrf_token": client.csrf,
    })
    assert answer.status_code == 401 and answer.get_json()["error"]["code"] == "unauthenticated"
    assert client.client.get("/api/v1/me").status_code == 401
    assert full_snapshot(session) == before


# --- no change on GET ----------------------------------------------------------------------------

#: How to fill in each GET route (ids of the scene, and the query it needs).
GETS: dict[str, Callable[[Scene], list[dict[str, Any]]]] = {
    "api.get_recommendation": lambda s: [{"rec_id": s.draft}, {"rec_id": s.review}],
    "api.list_revisions": lambda s: [{"rec_id": s.draft}],
    "api.get_revision": lambda s: [{"rec_id": s.draft, "number": 2}],
    "api.diff": lambda s: [{"rec_id": s.draft, "from": 1, "to": 2}],
    "api.list_threads": lambda s: [{"rec_id": s.draft}],
    "api.get_conflict_copy": lambda s: [{"copy_id": s.copy}],
    "pages.recommendation": lambda s: [{"rec_id": s.draft}, {"rec_id": s.review}, {"rec_id": s.consolidation}],
    "pages.history": lambda s: [{"rec_id": s.draft}],
    "pages.diff": lambda s: [{"rec_id": s.draft, "from": 1, "to": 2}],
    "pages.edit": lambda s: [{"rec_id": s.draft}, {"rec_id": s.draft, "copy": s.copy}],
    "pages.process": lambda s: [{"process_id": s.process}, {"process_id": s.process, "q": "group"}],
    "pages.new_recommendation": lambda s: [{"process_id": s.process}],
    "pages.audit_export": lambda s: [{"fmt": "csv"}, {"fmt": "jsonl"}],
    "pages.sign_in": lambda s: [{}, {"next": "/processes"}],
    "api.list_events": lambda s: [{"per_page": 200}],
}

READERS = [None, "kz_expert", "kz_approver", "tj_approver", "lv_expert", "auditor", "admin"]


def get_paths(app, scene: Scene) -> list[str]:
    paths = []
    for route in routes(app):
        if route.reads:
            for values in GETS.get(route.endpoint, lambda s: [{}])(scene):
                paths.append(build(app, route.endpoint, "GET", values))
    return paths


def test_every_get_route_with_an_id_is_listed(app):
    for route in routes(app):
        if route.reads and (route.ids or route.choices):
            assert route.endpoint in GETS, f"say how to call {route} in GETS"


def test_no_get_changes_anything(app, people: People, session, scene: Scene):
    for user in READERS[1:]:
        people.page(user), people.api(user)  # signing in is a change: done before the snapshot
    paths = get_paths(app, scene)
    assert len(paths) >= 30
    before = full_snapshot(session)
    statuses = set()
    for user in READERS:
        for path in paths:
            statuses.add(people.request(user, "GET", path).status_code)
    assert full_snapshot(session) == before
    assert {200, 302, 401, 403, 404} <= statuses  # every kind of answer was given, none changed anything


def test_a_get_to_a_form_changes_nothing(app, people: People, session, scene: Scene):
    """A link or an image pointing at a form's address, fields in the query string."""
    for user in ("kz_expert", "kz_approver", "admin", "uz_expert", "uz_approver"):
        people.page(user)
    people.api("kz_expert")
    before = full_snapshot(session)
    for endpoint, make in FORMS.items():
        user, values, fields, _ = make(scene)
        route_methods = {r.method for r in routes(app) if r.endpoint == endpoint}
        if "GET" in route_methods:
            continue  # the form itself (new recommendation, editor, sign-in, administration): read above
        answer = people.page(user).client.get(build(app, endpoint, "POST", values), query_string=fields)
        assert answer.status_code == 405, endpoint
    readable = {r.rule for r in routes(app) if r.reads}
    for route in routes(app):
        if route.is_api and route.rule not in readable:
            path = re.sub(r"<[^>]+>", str(scene.draft), route.rule)
            answer = people.request("kz_expert", "GET", path, query_string={"action": "submit", "body": "x"})
            assert answer.status_code == 405, path
    assert full_snapshot(session) == before
