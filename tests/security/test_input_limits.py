"""What a hostile or clumsy client sends: SQL metacharacters and absurd values in every filter
of every list (never a 500: a 4xx with a sentence, or the right — often empty — result), ids
that are not ids, and bodies over the 2 MiB limit (413, on the API and the pages, changing
nothing). Guessed passwords are tests/security/test_sign_in_limits.py."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from sqlalchemy import select

from accord.web.api.openapi import openapi_document
from accord.workflow.states import State

from ..factories import PASSWORD
from .conftest import People, full_snapshot
from .routes import build, routes

# --- filters: SQL metacharacters and absurd values -------------------------------------------------

METACHARACTERS = [
    "'", '"', ";", "--", "%", "_", "\\", "\x00", "*", "' OR '1'='1", "1; DROP TABLE recommendations; --",
    "%' --", "a\\%b_", "x" * 10_000, "abc", "99999999999999999999999999", "-1", "0", "1e3", "0x10",
    "\u0661\u0662", "\u200b", "2019-13-45", "9999-12-31T23:59:59-14:00", "<script>",
]

#: The query-string filters of each page (the API's come from its OpenAPI document).
PAGE_FILTERS: dict[str, list[str]] = {
    "pages.process": ["state", "agency", "q", "page"],
    "pages.audit": ["recommendation", "actor", "agency", "action", "from", "to", "page"],
    "pages.audit_export": ["recommendation", "actor", "agency", "action", "from", "to"],
    "pages.history": ["page"],
    "pages.diff": ["from", "to"],
    "pages.edit": ["copy"],
    "pages.admin_agencies": ["page"],
    "pages.admin_users": ["page"],
    "pages.admin_processes": ["page"],
    "pages.sign_in": ["next"],
    "pages.inbox": [], "pages.processes": [], "pages.admin": [], "pages.account": [],
}


def api_filters() -> dict[str, list[str]]:
    """operationId → the query parameters the OpenAPI document declares for it (GET only)."""
    found = {}
    for item in openapi_document()["paths"].values():
        operation = item.get("get")
        if operation:
            found[operation["operationId"]] = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
    return found


@pytest.fixture
def searchable(session, world):
    """Recommendations whose titles hold the metacharacters themselves, to search for."""
    titles = ["100% sure", "under_score", "back\\slash", "quote's", 'double "quoted"', "semi;colon", "dash--dash",
              "star*light", "Joint OR 1=1"]
    recs = [world.bring_to(session, State.national_review, title=title) for title in titles]
    session.commit()
    return recs


def is_sentence(text: str) -> bool:
    return bool(re.search(r"[A-Za-z].{8,}[.?!]$", text.strip()))


def test_every_list_filter_is_known(app):
    pages = {r.endpoint for r in routes(app) if r.reads and not r.is_api and r.endpoint.startswith("pages.")}
    missing = pages - set(PAGE_FILTERS)
    # Pages that name one object (its id in the path) are in PAGE_FILTERS when they take a filter.
    assert not {p for p in missing if p not in {"pages.recommendation", "pages.new_recommendation"}}, missing
    documented = api_filters()
    assert {"q", "state", "agency", "process", "page", "per_page"} <= set(documented["listRecommendations"])


def test_metacharacters_in_every_api_filter(app, people: People, searchable, world):
    rec = searchable[0].id
    paths = {
        operation: path.replace("{rec_id}", str(rec)).replace("{number}", "1").replace("{copy_id}", "1")
        for path, item in openapi_document()["paths"].items()
        for operation in [item.get("get", {}).get("operationId")]
        if operation
    }
    defaults = {"diffRevisions": {"from": "1", "to": "1"}}
    problems, checked = [], 0
    for operation, names in api_filters().items():
        for name in names:
            for value in METACHARACTERS:
                query = {**defaults.get(operation, {}), name: value}
                answer = people.request("auditor", "GET", f"/api/v1{paths[operation]}", query_string=query)
                checked += 1
                body = answer.get_json(silent=True)
                if answer.status_code >= 500 or body is None:
                    problems.append(f"{operation} {name}={value[:20]!r}: {answer.status_code}")
                elif answer.status_code >= 400 and not is_sentence(body["error"]["message"]):
                    problems.append(f"{operation} {name}={value[:20]!r}: {body['error']['message']!r} is no sentence")
    assert checked > 300
    assert not problems, "\n".join(problems[:30])


@pytest.mark.parametrize("q", ["'", '"', ";", "--", "%", "_", "\\", "*", "' OR '1'='1", "Joint OR 1=1", "100%", "a\\%b_"])
def test_a_search_for_metacharacters_finds_exactly_the_texts_holding_them(people: People, searchable, session, q):
    from accord.workflow.models import Recommendation

    expected = sorted(r.id for r in session.scalars(select(Recommendation))
                      if q.casefold() in r.title.casefold() or q.casefold() in r.body.casefold())
    answer = people.request("kz_expert", "GET", "/api/v1/recommendations", query_string={"q": q, "per_page": 200})
    assert answer.status_code == 200
    assert sorted(item["id"] for item in answer.get_json()["items"]) == expected
    page = people.request("kz_expert", "GET", f"/processes/{searchable[0].process_id}", query_string={"q": q})
    assert page.status_code == 200
    shown = re.search(r"(\d+) recommendations?<", page.get_data(as_text=True))
    assert shown and int(shown.group(1)) == len(expected)


def test_metacharacters_in_every_page_filter(app, people: People, searchable, session, world):
    rec = searchable[0].id
    values = {"process_id": world.process.id, "rec_id": rec, "fmt": "csv"}
    problems, checked = [], 0
    people.page("auditor"), people.page("admin"), people.page(None)  # signed in before the snapshot
    before = full_snapshot(session)
    for endpoint, names in PAGE_FILTERS.items():
        route = next(r for r in routes(app) if r.endpoint == endpoint and r.reads)
        user = "admin" if endpoint.startswith("pages.admin") else None if endpoint == "pages.sign_in" else "auditor"
        for name in names:
            for value in METACHARACTERS:
                path = build(app, endpoint, "GET", {k: values[k] for k in route.ids | set(route.choices)})
                answer = people.request(user, "GET", path, query_string={name: value})
                checked += 1
                text = answer.get_data(as_text=True)
                if answer.status_code >= 500:
                    problems.append(f"{path} {name}={value[:20]!r}: {answer.status_code}")
                elif answer.status_code >= 400:
                    said = re.search(r'role="alert">([^<]+)<', text)
                    if not (said and is_sentence(said.group(1))):
                        problems.append(f"{path} {name}={value[:20]!r}: {answer.status_code} without a sentence")
    assert checked > 400
    assert not problems, "\n".join(problems[:30])
    assert full_snapshot(session) == before


def test_ids_that_are_no_ids(app, people: People, searchable):
    """Every route with an id, with letters, a negative number, a huge number: 404 or 405."""
    problems = []
    for route in routes(app):
        if not route.ids:
            continue
        for bad in ("abc", "-1", "99999999999999999999999", "1.5", "%00", "0"):
            path = re.sub(r"<(?:int:)?([a-z_]+)>", bad, route.rule)
            path = re.sub(r"<any\(([a-z]+),[^>]*\):[a-z]+>", r"\1", path)
            user = "admin" if route.endpoint.startswith("pages.admin") else "kz_expert"
            kwargs: dict[str, Any] = {"json": {}} if route.is_api and route.method != "GET" else {}
            answer = people.request(user, route.method, path, **kwargs)
            if answer.status_code >= 500 or answer.status_code not in (400, 403, 404, 405, 409, 422):
                problems.append(f"{route.method} {path}: {answer.status_code}")
    assert not problems, "\n".join(problems)


# --- bodies over the limit ----------------------------------------------------------------------------

TOO_LARGE = 3 * 1024 * 1024


def test_an_oversized_body_is_413_on_every_api_write_and_changes_nothing(app, people: People, session, searchable):
    people.api("kz_expert")
    before = full_snapshot(session)
    body = b'{"title": "' + b"x" * TOO_LARGE + b'"}'
    checked, problems = 0, []
    for route in routes(app):
        if route.is_api and not route.reads:  # every write, even those that read no body (DELETE)
            path = re.sub(r"<(?:int:)?[a-z_]+>", str(searchable[0].id), route.rule)
            user = None if route.endpoint == "api.create_token" else "kz_expert"
            answer = people.request(user, route.method, path, data=body, content_type="application/json")
            if answer.status_code != 413 or answer.get_json()["error"]["code"] != "too_large":
                problems.append(f"{route}: {answer.status_code}")
            checked += 1
    assert not problems, problems
    assert checked >= 10
    assert full_snapshot(session) == before


def test_an_oversized_streamed_body_without_a_length_is_413(app, people: People, session, world):
    people.api("kz_expert")
    before = full_snapshot(session)
    stream = io.BytesIO(b'{"process": 1, "title": "' + b"x" * TOO_LARGE + b'"}')
    answer = people.request("kz_expert", "POST", "/api/v1/recommendations", input_stream=stream,
                            content_type="application/json", environ_overrides={"wsgi.input_terminated": True})
    assert answer.status_code == 413
    assert full_snapshot(session) == before


def test_an_oversized_form_is_413_on_every_page_and_changes_nothing(app, people: People, session, searchable):
    for user in ("kz_expert", "admin"):
        people.page(user)
    before = full_snapshot(session)
    checked = 0
    for route in routes(app):
        if route.is_api or route.method != "POST":
            continue
        values = {name: searchable[0].id if name != "username" else "kg_expert" for name in route.ids}
        values.update({name: choices[0] for name, choices in route.choices.items()})
        path = build(app, route.endpoint, "POST", values)
        user = "admin" if route.endpoint.startswith("pages.admin") else None if route.endpoint == "pages.sign_in" else "kz_expert"
        answer = people.request(user, "POST", path, data={"body": "x" * TOO_LARGE, "title": "t"})
        assert answer.status_code == 413, (route, answer.status_code)
        checked += 1
    assert checked >= 14
    assert full_snapshot(session) == before


def test_undecodable_query_strings(app, people: People, world):
    """Bytes that are not UTF-8 (a lone surrogate's encoding, a stray byte) in every filter."""
    raw = "%ed%a0%80%ff%c0%ae"
    paths = ["/api/v1/recommendations", "/api/v1/audit", "/api/v1/agencies", f"/processes/{world.process.id}", "/audit"]
    for path in paths:
        for name in ("q", "state", "agency", "actor", "action", "since", "page", "recommendation", "from"):
            answer = people.request("auditor", "GET", f"{path}?{name}={raw}")
            assert answer.status_code < 500, (path, name)


def test_a_body_within_the_limit_is_read(people: People, world):
    """The limit is the API's 2 MiB: a 1.9 MiB body is read (and refused for its content)."""
    answer = people.request("kz_expert", "POST", "/api/v1/recommendations", json={
        "process": world.process.id, "title": "Long", "body": "x" * (1900 * 1024),
    })
    assert answer.status_code == 422 and answer.get_json()["error"]["code"] == "body_too_long"


@pytest.mark.parametrize("value", ["\x00", "'; DROP TABLE users; --", "\\%_", "x" * 5_000, "\u202e\u200b"])
def test_hostile_values_in_every_form_field(app, people: People, session, world, value):
    """Every field of every form (see test_csrf_and_get.FORMS), one at a time: never a 500."""
    from .test_csrf_and_get import FORMS, set_scene

    scene = set_scene(session, world)
    problems = []
    for endpoint, make in FORMS.items():
        if endpoint in ("pages.sign_out", "pages.change_my_password"):
            continue  # they end or renew the session the other forms go on with (both read below)
        user, values, fields, _ = make(scene)
        for name in fields:
            path = build(app, endpoint, "POST", values)
            answer = people.request(user, "POST", path, data=dict(fields, **{name: value}))
            if answer.status_code >= 500:
                problems.append(f"{endpoint} {name}={value[:10]!r}: {answer.status_code}")
    for name in ("current_password", "new_password"):
        form = {"current_password": PASSWORD, "new_password": "x" * 12, "new_password_repeat": "x" * 12, name: value}
        if people.request("uz_expert", "POST", "/account/password", data=form).status_code >= 500:
            problems.append(f"account {name}")
    assert not problems, "\n".join(problems)


def test_an_oversized_form_and_a_wrong_method_get_a_page_that_says_why(app, people: People, world):
    answer = people.request("kz_expert", "POST", f"/processes/{world.process.id}/new",
                            data={"body": "x" * TOO_LARGE, "title": "t"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 413 and answer.mimetype == "text/html"
    assert "larger than Accord accepts (2 MB at most)" in page and "Nothing was changed." in page
    answer = people.request("kz_expert", "GET", "/sign-out")
    assert answer.status_code == 405 and "does not accept that kind of request" in answer.get_data(as_text=True)
    api = people.request(None, "GET", "/api/v1/tokens")  # the API still answers in JSON
    assert api.status_code == 405 and api.get_json()["error"]["code"] == "method_not_allowed"
    assert "POST" in api.headers["Allow"]
