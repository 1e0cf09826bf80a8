"""Another agency's private drafts, called for through every route as everyone else.

For each user of another agency, in every role (the auditor excepted: docs/design.md lets auditors
see drafts), every route with an id answers for a hidden draft — its revisions, diffs,
threads, comments, conflict copies, audit entries — exactly as for an id that does not exist,
and writes to it are refused the same way without changing anything. Every listing, count,
inbox, search, audit listing and export those users can read answers the same before and after
the drafts exist, and none holds a word of them. Routes come from `app.url_map`: a new route
with an id fails `test_every_route_with_an_id_is_covered` until it is added to a table here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from accord.workflow.states import State

from ..factories import USERS
from ..helpers import without_csrf_token
from .conftest import People, full_snapshot
from .hidden import MARKERS, MISSING_ID, MORE_OUTSIDERS, QUOTE, REASON, SECRET, Hidden, plant, plant_public
from .routes import Route, build, routes

#: Everyone who must not see KZ-BS's drafts: every user of every other agency, in every role.
#: (The auditor sees them by design; administrators read the whole audit log by design.)
OUTSIDERS = [
    name for name, (agency, roles) in {**USERS, **MORE_OUTSIDERS}.items()
    if agency != "KZ-BS" and "auditor" not in roles
]
#: Those who read the whole audit log (docs/api.md: "auditors and admins: all").
WHOLE_LOG_READERS = {name for name, (_, roles) in {**USERS, **MORE_OUTSIDERS}.items() if "admin" in roles}

Args = list[dict[str, Any]]

#: GET routes whose id names a hidden object: how to name each hidden object (query values
#: beside the path's). The missing twin has MISSING_ID in place of every *_id.
READS: dict[str, Callable[[Hidden], Args]] = {
    "api.get_recommendation": lambda h: [{"rec_id": r} for r in h.recommendations],
    "api.list_revisions": lambda h: [{"rec_id": r} for r in h.recommendations],
    "api.get_revision": lambda h: [{"rec_id": h.draft, "number": n} for n in (1, 2)] + [{"rec_id": h.sent_back, "number": 2}],
    "api.diff": lambda h: [{"rec_id": h.draft, "from": 1, "to": 2}, {"rec_id": h.sent_back, "from": 1, "to": 2}],
    "api.list_threads": lambda h: [{"rec_id": h.draft}],
    "api.get_conflict_copy": lambda h: [{"copy_id": c} for c in h.copies],
    "api.list_events": lambda h: [{"recommendation": r, "per_page": 200} for r in h.recommendations],
    "pages.recommendation": lambda h: [{"rec_id": r} for r in h.recommendations],
    "pages.history": lambda h: [{"rec_id": r} for r in h.recommendations],
    "pages.diff": lambda h: [{"rec_id": h.draft, "from": 1, "to": 2}, {"rec_id": h.sent_back, "from": 1, "to": 2}],
    "pages.edit": lambda h: [{"rec_id": h.draft}, {"rec_id": h.sent_back}] + [{"rec_id": h.draft, "copy": c} for c in h.copies],
}

#: Routes whose id names a process: the process is no secret (its participants see it), so the
#: answer is either that of a missing process, or a page with nothing of the hidden drafts.
CONTAINERS: dict[str, Callable[[Hidden], Args]] = {
    "pages.process": lambda h: [
        {"process_id": h.process},
        {"process_id": h.process, "q": SECRET},
        {"process_id": h.process, "state": "draft"},
        {"process_id": h.process, "state": "withdrawn"},
        {"process_id": h.process, "agency": "KZ-BS"},
    ],
    "pages.new_recommendation": lambda h: [{"process_id": h.process}],
}

#: Writes naming a hidden object: (path values, body). Pages get the body as a form (with the
#: caller's CSRF token), the API as JSON.
WRITES: dict[str, Callable[[Hidden], list[tuple[dict[str, Any], dict[str, Any]]]]] = {
    "api.edit_recommendation": lambda h: [
        ({"rec_id": r}, {"title": "Mine now", "body": "Replaced.", "base_revision": 1}) for r in (h.draft, h.sent_back)
    ],
    "api.transition": lambda h: [({"rec_id": r}, {"action": "submit"}) for r in h.recommendations] + [
        ({"rec_id": h.draft}, {"action": "withdraw", "reason": "x"}),
        ({"rec_id": h.draft}, {"action": "request_changes", "reason": "x"}),
    ],
    "api.decide": lambda h: [({"rec_id": h.draft}, {"decision": "approve", "revision": 2})],
    "api.start_thread": lambda h: [({"rec_id": r}, {"body": "Hello?"}) for r in h.recommendations],
    "api.add_comment": lambda h: [({"thread_id": t}, {"body": "Hello?"}) for t in h.threads],
    "api.resolve": lambda h: [({"thread_id": t}, {}) for t in h.threads],
    "api.reopen": lambda h: [({"thread_id": t}, {}) for t in h.threads],
    "api.discard_conflict_copy": lambda h: [({"copy_id": c}, {}) for c in h.copies],
    "pages.transition": lambda h: [({"rec_id": r}, {"action": "submit"}) for r in h.recommendations] + [
        ({"rec_id": h.draft}, {"action": "withdraw", "reason": "x"}),
    ],
    "pages.decide": lambda h: [({"rec_id": h.draft}, {"decision": "approve", "revision": "2"})],
    "pages.start_thread": lambda h: [({"rec_id": r}, {"body": "Hello?"}) for r in h.recommendations],
    "pages.reply": lambda h: [({"thread_id": t}, {"body": "Hello?"}) for t in h.threads],
    "pages.moderate": lambda h: [({"thread_id": t, "verb": v}, {}) for t in h.threads for v in ("resolve", "reopen")],
    "pages.discard_copy": lambda h: [({"copy_id": c}, {}) for c in h.copies],
    "pages.edit": lambda h: [({"rec_id": h.draft}, {"title": "Mine now", "body": "Replaced.", "base_revision": "1"})],
    "pages.new_recommendation": lambda h: [({"process_id": h.process}, {"title": "New", "body": "Text."})],
}

#: Writes naming a user: only administrators may call them, and for anyone else an existing
#: username and a missing one answer alike.
ADMIN_WRITES = {"pages.admin_user_active": lambda h: [({"username": "kz_expert", "verb": v}, {}) for v in ("disable", "enable")]}

def missing_twin(values: dict[str, Any]) -> dict[str, Any]:
    """The same call naming nothing: every id (path or filter) replaced by one that does not exist."""
    ids = {"rec_id", "thread_id", "copy_id", "process_id", "recommendation", "copy", "into"}
    return {k: (MISSING_ID if k in ids else "nobody_at_all" if k == "username" else v) for k, v in values.items()}


def normal(response) -> tuple[int, str, str]:
    """Status, content type and body, with the one thing that differs between two answers of
    the same page for reasons of its own: the signed CSRF token (it carries a timestamp)."""
    body = without_csrf_token(response.get_data(as_text=True))
    return response.status_code, response.content_type, body


def markers_in(text: str, markers: tuple[str, ...] = MARKERS) -> list[str]:
    # A search for a marker is echoed back in the search box and the pagination links: that
    # is the reader's own text, not the draft's.
    for marker in markers:
        text = text.replace(f'value="{marker}"', "").replace(f"q={marker}", "")
    return [m for m in markers if m in text]


def by_endpoint(app, reads: bool) -> dict[str, Route]:
    return {r.endpoint: r for r in routes(app) if r.ids and r.reads == reads}


@pytest.fixture
def hidden(people, session, world) -> Hidden:
    plant_public(session, world)
    planted = plant(session, world)
    session.commit()
    return planted


# --- coverage ---------------------------------------------------------------------------------


def uncovered(app) -> list[str]:
    """Routes with an id that no table here says how to call."""
    tables = set(READS) | set(CONTAINERS) | set(WRITES) | set(ADMIN_WRITES)
    return [f"{route} (ids {sorted(route.ids)})" for route in routes(app) if route.ids and route.endpoint not in tables]


def test_every_route_with_an_id_is_covered(app):
    """A route with an id that no table names fails here: say how to call it."""
    assert not uncovered(app), f"add these to a table of {__name__}"
    known = {r.endpoint for r in routes(app)}
    tables = set(READS) | set(CONTAINERS) | set(WRITES) | set(ADMIN_WRITES)
    assert tables - {"api.list_events"} <= known, "a table names a route that no longer exists"


def test_a_new_route_with_an_id_would_fail_the_coverage(app):
    app.add_url_rule("/things/<int:thing_id>", "pages.thing", lambda thing_id: "")
    app.add_url_rule("/api/v1/things/<slug>", "api.thing", lambda slug: "", methods=["DELETE"])
    assert uncovered(app) == ["GET /things/<int:thing_id> (ids ['thing_id'])", "DELETE /api/v1/things/<slug> (ids ['slug'])"]


# --- reading ----------------------------------------------------------------------------------


def test_a_hidden_draft_reads_exactly_like_a_missing_id(app, people: People, hidden: Hidden):
    differences = []
    for username in OUTSIDERS:
        checked = 0
        twins: dict[str, tuple[int, str, str]] = {}  # the same missing id answers once for all
        for endpoint, make in READS.items():
            if endpoint == "api.list_events" and username in WHOLE_LOG_READERS:
                # Administrators read the whole audit log (docs/design.md), without a private
                # draft's words: test_the_whole_log_an_administrator_reads_holds_no_text_of_a_private_draft.
                continue
            for values in make(hidden):
                path = build(app, endpoint, "GET", values)
                twin = build(app, endpoint, "GET", missing_twin(values))
                if twin not in twins:
                    twins[twin] = normal(people.request(username, "GET", twin))
                seen, missing = normal(people.request(username, "GET", path)), twins[twin]
                checked += 1
                if seen != missing:
                    differences.append(
                        f"{username}: {path} answered {seen[0]} {seen[2][:200]!r}; "
                        f"{twin} answered {missing[0]} {missing[2][:200]!r}"
                    )
                elif endpoint != "api.list_events" and seen[0] != 404:
                    differences.append(f"{username}: {path} answered {seen[0]}, not 404")
                elif found := markers_in(seen[2]):
                    differences.append(f"{username}: {path} shows {found}")
        assert checked >= 20
    assert not differences, "\n".join(differences)


def test_a_process_page_shows_nothing_of_the_hidden_drafts(app, people: People, hidden: Hidden):
    problems = []
    for username in OUTSIDERS:
        takes_part = people.request(username, "GET", f"/processes/{hidden.process}").status_code == 200
        for endpoint, make in CONTAINERS.items():
            for values in make(hidden):
                path = build(app, endpoint, "GET", values)
                answer = normal(people.request(username, "GET", path))
                if not takes_part:
                    missing = normal(people.request(username, "GET", build(app, endpoint, "GET", missing_twin(values))))
                    if answer != missing:
                        problems.append(f"{username}: {path} answered {answer[0]}, unlike a missing process ({missing[0]})")
                if found := markers_in(answer[2]):
                    problems.append(f"{username}: {path} shows {found}")
    assert not problems, "\n".join(problems)


# --- listings, counts, search, inbox, audit, exports -------------------------------------------


def listing_calls(app, world) -> list[str]:
    """Every GET route without an id, with the filters that could let a hidden draft through."""
    process = world.process.id
    variations: dict[str, list[dict[str, Any]]] = {
        "api.list_recommendations": [
            {"per_page": 200}, {"q": SECRET}, {"q": "Private"}, {"state": "draft"}, {"state": "withdrawn"},
            {"agency": "KZ-BS", "per_page": 200}, {"process": process, "per_page": 200},
        ],
        "api.list_events": [{"per_page": 200}, {"action": "create", "per_page": 200}, {"actor": "kz_expert", "per_page": 200},
                            {"action": "edit_conflict"}, {"action": "thread.start"}, {"action": "withdraw"}],
        "pages.audit": [{}, {"action": "create"}, {"actor": "kz_expert"}],
        "pages.audit_export": [{"fmt": "csv"}, {"fmt": "jsonl"}],
        "pages.process": [{"process_id": process}, {"process_id": process, "q": SECRET},
                          {"process_id": process, "state": "draft"}, {"process_id": process, "agency": "KZ-BS"}],
    }
    paths = []
    for route in routes(app):
        if not route.reads or (route.ids and route.endpoint not in variations):
            continue
        for values in variations.get(route.endpoint, [{}]):
            paths.append(build(app, route.endpoint, "GET", values))
    return paths


#: Routes where administrators read the whole audit log (docs/api.md: "auditors and admins: all").
WHOLE_LOG = ("/api/v1/audit", "/audit")


def test_listings_counts_and_exports_are_the_same_with_or_without_the_hidden_drafts(
    app, people: People, session, world
):
    plant_public(session, world)
    session.commit()
    paths = listing_calls(app, world)
    assert len(paths) >= 25
    before = {(user, path): normal(people.request(user, "GET", path)) for user in OUTSIDERS for path in paths}
    plant(session, world)
    session.commit()
    problems = []
    for (username, path), earlier in before.items():
        after = normal(people.request(username, "GET", path))
        if username in WHOLE_LOG_READERS and path.startswith(WHOLE_LOG):
            # Administrators read every event, these included; never the drafts' text.
            if found := markers_in(after[2], (SECRET,)):
                problems.append(f"{username}: {path} shows {found}")
        elif after != earlier:
            problems.append(f"{username}: {path} changed when the hidden drafts were added: {after[2][:300]!r}")
        elif found := markers_in(after[2]):
            problems.append(f"{username}: {path} shows {found}")
    assert not problems, "\n".join(problems)


def test_the_whole_log_an_administrator_reads_holds_no_text_of_a_private_draft(app, people: People, hidden):
    """Every event, but not the words of another agency's private draft (its reasons, its
    quoted passages): those are for the agency and for auditors."""
    paths = ("/api/v1/audit?per_page=200", "/audit/export.jsonl", "/audit/export.csv", "/audit?recommendation=")
    for path in paths:
        path = path + str(hidden.withdrawn) if path.endswith("=") else path
        assert not markers_in(normal(people.request("admin", "GET", path))[2], (QUOTE, REASON)), path
        assert markers_in(normal(people.request("auditor", "GET", path))[2], (QUOTE, REASON)), path
    events = people.request("admin", "GET", "/api/v1/audit?per_page=200").get_json()["items"]
    audited = people.request("auditor", "GET", "/api/v1/audit?per_page=200").get_json()["items"]
    assert [e["seq"] for e in events] == [e["seq"] for e in audited]  # every event, who and when
    withheld = {e["recommendation"] for e in events if e["withheld"]}
    assert {hidden.draft, hidden.withdrawn, hidden.sent_back} <= withheld  # and KG-BS's own draft
    for rec_id in {e["recommendation"] for e in events if e["recommendation"]}:
        seen = people.request("admin", "GET", f"/api/v1/recommendations/{rec_id}").status_code
        assert (seen == 404) == (rec_id in withheld), rec_id
    assert not any(e["withheld"] for e in audited)
    withdrawal = next(e for e in events if e["action"] == "withdraw" and e["recommendation"] == hidden.withdrawn)
    assert withdrawal["reason"] is None and withdrawal["actor"] == "kz_expert"
    page = people.request("admin", "GET", f"/audit?recommendation={hidden.withdrawn}").get_data(as_text=True)
    assert "withheld" in page


def test_health_tells_a_visitor_no_count(people: People, session, world):
    before = people.request(None, "GET", "/health").get_data()
    plant(session, world)
    session.commit()
    assert people.request(None, "GET", "/health").get_data() == before


# --- writing ----------------------------------------------------------------------------------


def test_writes_to_a_hidden_draft_are_refused_like_a_missing_id_and_change_nothing(
    app, people: People, session, hidden: Hidden
):
    for username in OUTSIDERS:
        people.page(username), people.api(username)  # signed in before the snapshot
    before = full_snapshot(session)
    problems = []
    methods = {r.endpoint: r.method for r in routes(app) if r.ids and not r.reads}
    for username in OUTSIDERS:
        checked = 0
        twins: dict[tuple[str, str, str], tuple[int, str, str]] = {}
        tables: dict[str, Any] = dict(WRITES)
        if username not in WHOLE_LOG_READERS:  # administrators may disable and enable accounts
            tables.update(ADMIN_WRITES)
        for endpoint, make in tables.items():
            method = methods[endpoint]
            for values, body in make(hidden):
                if endpoint == "pages.new_recommendation":
                    process = people.request(username, "GET", build(app, "pages.process", "GET", values))
                    if process.status_code == 200:
                        continue  # a process they take part in: no secret, and no hidden draft in it
                kwargs: Any = {"json": body} if endpoint.startswith("api.") else {"data": body}
                path, twin = build(app, endpoint, method, values), build(app, endpoint, method, missing_twin(values))
                seen = normal(people.request(username, method, path, **dict(kwargs)))
                key = (method, twin, repr(body))
                if key not in twins:
                    twins[key] = normal(people.request(username, method, twin, **dict(kwargs)))
                missing = twins[key]
                checked += 1
                if seen != missing:
                    problems.append(
                        f"{username}: {method} {path} answered {seen[0]} {seen[2][:200]!r}; "
                        f"{twin}: {missing[0]} {missing[2][:200]!r}"
                    )
                elif seen[0] not in (403, 404):
                    problems.append(f"{username}: {method} {path} answered {seen[0]}, not a refusal")
        assert checked >= 25
    assert not problems, "\n".join(problems)
    assert full_snapshot(session) == before


@pytest.mark.parametrize("surface", ["api", "pages"])
def test_merging_into_a_hidden_draft_is_refused_like_merging_into_nothing(app, people: People, session, world, hidden, surface):
    target = world.bring_to(session, State.expert_consolidation, title="In consolidation")
    session.commit()
    people.page("lv_expert"), people.api("lv_expert")  # signed in before the snapshot
    before = full_snapshot(session)
    answers = []
    for into in (hidden.draft, MISSING_ID):
        if surface == "api":
            answer = people.request("lv_expert", "POST", f"/api/v1/recommendations/{target.id}/transitions",
                                    json={"action": "merge", "into": into})
        else:
            answer = people.request("lv_expert", "POST", f"/recommendations/{target.id}/transitions",
                                    data={"action": "merge", "into": str(into)})
        answers.append(normal(answer))
    assert answers[0] == answers[1] and answers[0][0] == 422
    assert full_snapshot(session) == before
