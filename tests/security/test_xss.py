"""The XSS corpus of tests/unit/test_rendering.py (and a few payloads aimed at attributes,
text areas and templates) in every text a person types — titles, bodies, summaries, comments,
quotes, reasons, the names of agencies, users and processes — read back through every page
and the API.

The hostile data set is written once for the module into a database of its own (through the
services, as any request would), then read by many tests. No page may carry executable markup
(see `markup.py`); the API hands every text back as the JSON string that was stored, and every
`body_html` passes the renderer's own audit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote

import pytest

from accord.config.settings import Settings
from accord.web import create_app
from accord.web.answer_cache import answer_cache
from accord.workflow import services
from accord.workflow.actors import SYSTEM
from accord.workflow.db import Database
from accord.workflow.errors import InvalidInput
from accord.workflow.validation import is_clean

from ..factories import PASSWORD, World, build_world
from ..unit.test_rendering import XSS_PAYLOADS, assert_safe
from .conftest import People
from .markup import page_problems

#: Aimed at where plain text lands in a page: attribute values, a text area, a title, an
#: option, a template.
CONTEXT_PAYLOADS = [
    '" onmouseover="alert(1)',
    "' onmouseover='alert(1)",
    '"><script>alert(1)</script>',
    "'><img src=x onerror=alert(1)>",
    "</textarea><script>alert(1)</script>",
    "</title><script>alert(1)</script>",
    "</option></select><script>alert(1)</script>",
    "</code></pre><svg onload=alert(1)>",
    "javascript:alert(1)",
    "{{ 7*7 }} {% if 1 %}x{% endif %} ${7*7} #{7*7}",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "\u202e<script>alert(1)</script>",
]

CORPUS = [*XSS_PAYLOADS, *CONTEXT_PAYLOADS]


def storable(text: str) -> bool:
    """Whether the services accept the text at all (control characters are refused)."""
    return is_clean(text)


@dataclass
class Hostile:
    app: object
    people: People
    process: int
    recommendations: dict[int, str] = field(default_factory=dict)  # id → payload
    users: dict[str, str] = field(default_factory=dict)  # username → payload
    refused: list[str] = field(default_factory=list)


def _build(session, world: World) -> Hostile:
    """Every payload as an agency's name and country, a process title, a user's display name,
    and a recommendation's title, body, summary, quote, comments and reasons."""
    hostile = Hostile(app=None, people=None, process=0)  # type: ignore[arg-type]
    agencies = []
    for i, payload in enumerate(CORPUS):
        code = f"X{i:03d}"
        if not storable(payload):
            with pytest.raises(InvalidInput):
                services.add_agency(session, SYSTEM, code=code, name=payload, country=payload, kind="national")
            hostile.refused.append(payload)
            continue
        services.add_agency(session, SYSTEM, code=code, name=payload, country=payload[:100], kind="national")
        services.add_process(session, SYSTEM, title=f"{payload} #{i}", agency_codes=[code])
        world.users[f"x{i:03d}"] = services.add_user(
            session, SYSTEM, username=f"x{i:03d}", agency_code=code, roles=["national_expert"],
            password=PASSWORD, display_name=payload,
        )
        agencies.append(code)
        hostile.users[f"x{i:03d}"] = payload
    # One process for every recommendation, where every hostile user's agency takes part (to
    # comment) and whose page lists every hostile title.
    world.process = services.add_process(
        session, SYSTEM, title="Hostile texts", agency_codes=["KZ-BS", "KG-BS", "LV-SBG", *agencies]
    )
    hostile.process = world.process.id
    for i, payload in enumerate(CORPUS):
        if not storable(payload):
            continue
        rec = world.draft(session, title=payload, body=payload)
        hostile.recommendations[rec.id] = payload
        services.edit_recommendation(
            session, world["kz_expert"], rec.id, title=rec.title, body=f"{payload}\n\nEdited.",
            base_revision=1, summary=payload,
        )
        quote = payload.strip().splitlines()[0]
        services.start_thread(session, world["kz_approver"], rec.id, body=payload, quote=quote)
        world.fire(session, rec, "submit", "kz_expert")
        world.fire(session, rec, "request_changes", "kz_approver", reason=payload)
        world.fire(session, rec, "submit", "kz_expert")
        thread = services.start_thread(session, world["kg_approver"], rec.id, body="Comments, please.")
        services.add_comment(session, world[f"x{i:03d}"], thread.id, body=payload)
        world.fire(session, rec, "endorse", "kz_approver")
        services.record_decision(session, world["kg_approver"], rec.id, "object", revision=2, reason=payload)
    return hostile


@pytest.fixture(scope="module")
def hostile(database_server, tmp_path_factory):
    """A database of the module's own with the world and every payload in every field."""
    database = Database(database_server.new_database())
    with database.write() as session:
        world = build_world(session)
        hostile = _build(session, world)
    app = create_app(
        Settings.from_env({"ACCORD_INSTANCE_PATH": str(tmp_path_factory.mktemp("instance"))}),
        database=database, TESTING=True,
    )
    hostile.app, hostile.people = app, People(app)
    yield hostile
    database.dispose()


# --- pages ------------------------------------------------------------------------------------


def pages_of(hostile: Hostile, username: str, paths: list[str]) -> list[str]:
    """Each page's problems, as `username`; every page must answer 200."""
    problems = []
    for path in paths:
        answer = hostile.people.request(username, "GET", path)
        assert answer.status_code == 200, (path, answer.status_code)
        assert answer.mimetype == "text/html", path
        problems += [f"{path}: {p}" for p in page_problems(answer.get_data(as_text=True))]
    return problems


def test_the_corpus_reached_every_field(hostile: Hostile):
    assert len(hostile.recommendations) == len(CORPUS) - len(hostile.refused) >= 90
    assert hostile.refused == [p for p in CORPUS if not storable(p)]


def test_the_recommendation_pages(hostile: Hostile):
    """Title, rendered body, process title, comments and their authors' names, quotes, reasons
    of decisions and objections, merge targets' titles (an EU expert may merge here)."""
    paths = [f"/recommendations/{rec_id}" for rec_id in hostile.recommendations]
    assert not pages_of(hostile, "lv_expert", paths)


def test_history_diff_and_editor(hostile: Hostile):
    """Revision summaries, the word diff of the hostile text, the editor's text area and preview."""
    paths = []
    for rec_id in hostile.recommendations:
        paths += [f"/recommendations/{rec_id}/history", f"/recommendations/{rec_id}/diff?from=1&to=2",
                  f"/recommendations/{rec_id}/edit"]
    assert not pages_of(hostile, "lv_expert", paths)


def test_lists_inbox_audit_and_administration(hostile: Hostile):
    listing = [f"/processes/{hostile.process}", f"/processes/{hostile.process}?page=2", "/processes", "/", "/account"]
    assert not pages_of(hostile, "kz_approver", listing)
    audit = ["/audit", "/audit?action=request_changes", "/audit?action=request_changes&page=2",
             "/audit?action=object", "/audit?action=object&page=2"]
    assert not pages_of(hostile, "auditor", [*audit, "/processes"])
    admin = [f"/admin/{what}?page={n}" for what in ("agencies", "users", "processes") for n in (1, 2)]
    assert not pages_of(hostile, "admin", ["/admin", *admin])


def test_display_names_in_the_page_header(hostile: Hostile):
    """Hostile users sign in and read their account page (their name in the header and on the
    page). Every name is on the pages above already (comment authors, the user list); the
    header is one more place, so a sample of the corpus signs in: every payload aimed at a
    context, and every fourth of the rest."""
    sample = [name for i, (name, payload) in enumerate(hostile.users.items()) if payload in CONTEXT_PAYLOADS or i % 4 == 0]
    assert len(sample) >= 30
    problems = []
    for username in sample:
        problems += pages_of(hostile, username, ["/account"])
    assert not problems


def test_the_drafting_form_lists_agency_names(hostile: Hostile):
    # A national expert of KZ-BS drafts in the hostile process: every hostile agency is offered.
    assert not pages_of(hostile, "kz_expert", [f"/processes/{hostile.process}/new"])


def test_refusals_echo_nothing_executable(hostile: Hostile):
    """Filters and ids typed in the address bar come back in sentences and form fields."""
    paths = []
    for payload in CORPUS[:: max(1, len(CORPUS) // 25)] + CONTEXT_PAYLOADS:
        for query in ("state", "agency", "q"):
            paths.append(f"/processes/{hostile.process}?{query}={quote(payload)}")
        paths.append(f"/audit?actor={quote(payload)}&action={quote(payload)}&agency={quote(payload)}")
        paths.append(f"/audit?recommendation={quote(payload)}")
        paths.append(f"/recommendations/1/diff?from={quote(payload)}&to=1")
        paths.append(f"/sign-in?next={quote(payload)}")
    problems = []
    for path in paths:
        user = "auditor" if path.startswith("/audit") else "kz_approver"
        answer = hostile.people.request(user if not path.startswith("/sign-in") else None, "GET", path)
        assert answer.status_code < 500, path
        problems += [f"{path}: {p}" for p in page_problems(answer.get_data(as_text=True))]
    assert not problems


def test_the_preview_is_sanitized(hostile: Hostile):
    client = hostile.people.page("kz_expert")
    for payload in CORPUS:
        answer = client.post("/preview", {"body": payload})
        if not storable(payload):
            assert answer.status_code == 422
            continue
        assert answer.status_code == 200 and answer.mimetype == "text/html"
        assert_safe(answer.get_data(as_text=True))


# --- the API ----------------------------------------------------------------------------------


def api_get(hostile: Hostile, username: str, path: str) -> dict:
    answer = hostile.people.request(username, "GET", f"/api/v1{path}")
    assert answer.status_code == 200, (path, answer.get_data(as_text=True)[:300])
    assert answer.mimetype == "application/json"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    return answer.get_json()


def normalised(payload: str, *, single_line: bool = False) -> str:
    """The text as the services store it (NFC, newlines, outer blank lines; titles on one line)."""
    import unicodedata

    text = unicodedata.normalize("NFC", payload).replace("\r\n", "\n").replace("\r", "\n")
    return " ".join(text.split()) if single_line else text.strip("\n")


def test_the_api_hands_back_every_text_as_the_string_stored(hostile: Hostile):
    listed = api_get(hostile, "lv_expert", f"/recommendations?process={hostile.process}&per_page=200")
    assert listed["total"] == len(hostile.recommendations)
    for item in listed["items"]:
        payload = hostile.recommendations[item["id"]]
        assert item["title"] == normalised(payload, single_line=True)
        assert item["body"] == f"{normalised(payload)}\n\nEdited."
        assert_safe(item["body_html"])
        assert all(isinstance(a["reason"], str) for a in item["approvals"] if a["reason"])
        assert [a["reason"] for a in item["approvals"] if a["reason"]] == [normalised(payload)]


def test_the_api_hands_back_comments_summaries_and_reasons(hostile: Hostile):
    for rec_id, payload in hostile.recommendations.items():
        threads = api_get(hostile, "lv_expert", f"/recommendations/{rec_id}/threads")["items"]
        comments = [c for t in threads for c in t["comments"]]
        assert normalised(payload) in [c["body"] for c in comments]
        for comment in comments:
            assert_safe(comment["body_html"])
        revisions = api_get(hostile, "lv_expert", f"/recommendations/{rec_id}/revisions")["items"]
        assert revisions[1]["summary"] == normalised(payload, single_line=True)
    reasons = api_get(hostile, "auditor", "/audit?action=request_changes&per_page=200")["items"]
    assert sorted(e["reason"] for e in reasons) == sorted(normalised(p) for p in hostile.recommendations.values())


def test_the_api_hands_back_names_as_stored(hostile: Hostile):
    agencies = api_get(hostile, "admin", "/agencies?per_page=200")["items"]
    names = {a["code"]: a["name"] for a in agencies}
    for username, payload in hostile.users.items():
        assert names[f"X{username[1:]}"] == normalised(payload, single_line=True)
        me = api_get(hostile, username, "/me")
        assert me["display_name"] == normalised(payload, single_line=True)
    titles = {p["title"] for p in api_get(hostile, "admin", "/processes?per_page=200")["items"]}
    for i, payload in enumerate(CORPUS):
        if storable(payload):
            assert f"{normalised(payload, single_line=True)} #{i}" in titles


def test_these_checks_see_a_page_that_does_not_escape(hostile: Hostile):
    """Not vacuous: with Jinja's escaping off, the same pages fail the same checks."""
    env = hostile.app.jinja_env
    env.autoescape, env.cache = False, {}
    try:
        rec_id = next(iter(hostile.recommendations))
        assert pages_of(hostile, "lv_expert", [f"/recommendations/{rec_id}"])
    finally:
        env.autoescape, env.cache = True, {}
        answer_cache(hostile.app).clear()  # the page kept above was made by other code, not other data
    assert not pages_of(hostile, "lv_expert", [f"/recommendations/{rec_id}"])


# --- the way in: forms and JSON keep the text as typed ------------------------------------------

ENTRY_SAMPLE = ["<script>alert(1)</script>", '" onmouseover="alert(1)', "</textarea><script>alert(1)</script>",
                "[x](javascript:alert(1))", "<img src=x onerror=alert(1)>", "{{ 7*7 }}"]


def test_texts_typed_in_the_api_come_back_as_typed(people: People, world, session):
    problems = []
    for payload in ENTRY_SAMPLE:
        api = lambda method, path, user="kz_expert", **body: people.request(user, method, f"/api/v1{path}", json=body)  # noqa: E731
        created = api("POST", "/recommendations", process=world.process.id, title=payload, body=payload,
                      summary=payload, addressed_agencies=["KG-BS"])
        assert created.status_code == 201, created.get_json()
        rec = created.get_json()
        assert (rec["title"], rec["body"]) == (payload, payload)
        assert api("PUT", f"/recommendations/{rec['id']}", title=payload, body=f"{payload}\n\nMore.",
                   base_revision=1, summary=payload).status_code == 200
        thread = api("POST", f"/recommendations/{rec['id']}/threads", body=payload, quote=payload)
        assert thread.status_code == 201 and thread.get_json()["quote"] == payload
        assert api("POST", f"/threads/{thread.get_json()['id']}/comments", body=payload).get_json()["body"] == payload
        assert api("POST", f"/recommendations/{rec['id']}/transitions", action="withdraw", reason=payload).status_code == 200
        events = people.request("auditor", "GET", f"/api/v1/audit?recommendation={rec['id']}&action=withdraw").get_json()
        assert events["items"][0]["reason"] == payload
        for path in (f"/recommendations/{rec['id']}", f"/recommendations/{rec['id']}/history",
                     f"/recommendations/{rec['id']}/diff?from=1&to=2"):
            problems += [f"{payload!r} {path}: {p}" for p in page_problems(people.request("kz_expert", "GET", path).get_data(as_text=True))]
    assert not problems


def test_texts_typed_in_the_forms_come_back_as_typed(people: People, world, session):
    problems = []
    for n, payload in enumerate(ENTRY_SAMPLE):
        new = people.request("kz_expert", "POST", f"/processes/{world.process.id}/new",
                             data={"title": payload, "body": payload, "addressed": "KG-BS"})
        assert new.status_code == 303, new.get_data(as_text=True)[:300]
        rec_id = int(new.headers["Location"].rsplit("/", 1)[1])
        edit = people.request("kz_expert", "POST", f"/recommendations/{rec_id}/edit",
                              data={"title": payload, "body": f"{payload}\n\nMore.", "summary": payload, "base_revision": "1"})
        assert edit.status_code == 303
        assert people.request("kz_expert", "POST", f"/recommendations/{rec_id}/threads",
                              data={"body": payload, "quote": payload}).status_code == 303
        assert people.request("kz_expert", "POST", f"/recommendations/{rec_id}/transitions",
                              data={"action": "submit"}).status_code == 303
        assert people.request("kz_approver", "POST", f"/recommendations/{rec_id}/transitions",
                              data={"action": "request_changes", "reason": payload}).status_code == 303
        admin = [("/admin/agencies", {"code": f"Y{n}-X", "name": payload, "country": payload, "kind": "national"}),
                 ("/admin/processes", {"title": f"{payload} {n}", "agencies": "KZ-BS"}),
                 ("/admin/users", {"username": f"typed{n}", "display_name": payload, "agency_code": "KZ-BS",
                                   "roles": "approver", "password": "a long enough passphrase"})]
        for path, form in admin:
            assert people.request("admin", "POST", path, data=form).status_code == 303, path
        rec = people.request("kz_expert", "GET", f"/api/v1/recommendations/{rec_id}").get_json()
        assert (rec["title"], rec["body"]) == (" ".join(payload.split()), f"{payload}\n\nMore.")
        threads = people.request("kz_expert", "GET", f"/api/v1/recommendations/{rec_id}/threads").get_json()
        assert threads["items"][0]["quote"] == payload and threads["items"][0]["comments"][0]["body"] == payload
        for user, path in (("kz_expert", f"/recommendations/{rec_id}"), ("kz_expert", f"/recommendations/{rec_id}/history"),
                           ("kz_expert", f"/recommendations/{rec_id}/edit"), ("admin", "/admin/agencies"),
                           ("admin", "/admin/users"), ("admin", "/admin/processes"), ("auditor", "/audit")):
            problems += [f"{payload!r} {path}: {p}" for p in page_problems(people.request(user, "GET", path).get_data(as_text=True))]
    assert not problems
