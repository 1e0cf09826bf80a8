"""Every page and every API read makes the same number of SQL statements however much there is:
more revisions, comments, approvals, recommendations, processes, users and audit events change
no count. The routes come from the application's URL map, so a new page or call is measured as
soon as it exists (or the test says it is not covered)."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from accord.web.answer_cache import answer_cache
from accord.workflow import services
from accord.workflow.states import State

from ..factories import BODY, PASSWORD

#: Each GET endpoint: the URL it is measured at, and who calls it (None: nobody signed in).
#: {rec} is a recommendation in consolidation with history, threads and approvals; {copy} a
#: conflict copy of lv_expert's on it.
MEASURED = {
    "status.health": ("/health", None),
    "pages.sign_in": ("/sign-in", None),
    "pages.inbox": ("/", "kg_approver"),
    "pages.account": ("/account", "kg_approver"),
    "pages.admin": ("/admin", "admin"),
    "pages.admin_agencies": ("/admin/agencies", "admin"),
    "pages.admin_processes": ("/admin/processes", "admin"),
    "pages.admin_users": ("/admin/users", "admin"),
    "pages.audit": ("/audit?action=edit&verify=1", "auditor"),
    "pages.audit_export": ("/audit/export.jsonl", "auditor"),
    "pages.processes": ("/processes", "kg_approver"),
    "pages.process": ("/processes/{process}?state=expert_consolidation", "kg_approver"),
    "pages.new_recommendation": ("/processes/{process}/new", "kz_expert"),
    "pages.recommendation": ("/recommendations/{rec}", "kg_approver"),
    "pages.diff": ("/recommendations/{rec}/diff?from=1&to=3", "kg_approver"),
    "pages.edit": ("/recommendations/{rec}/edit", "lv_expert"),
    "pages.history": ("/recommendations/{rec}/history", "kg_approver"),
    "api.me": ("/api/v1/me", "kg_approver"),
    "api.agencies": ("/api/v1/agencies", "kg_approver"),
    "api.processes": ("/api/v1/processes", "kg_approver"),
    "api.list_recommendations": ("/api/v1/recommendations?state=expert_consolidation", "kg_approver"),
    "api.get_recommendation": ("/api/v1/recommendations/{rec}", "kg_approver"),
    "api.list_revisions": ("/api/v1/recommendations/{rec}/revisions", "kg_approver"),
    "api.get_revision": ("/api/v1/recommendations/{rec}/revisions/2", "kg_approver"),
    "api.diff": ("/api/v1/recommendations/{rec}/diff?from=1&to=3", "kg_approver"),
    "api.list_threads": ("/api/v1/recommendations/{rec}/threads", "kg_approver"),
    "api.get_conflict_copy": ("/api/v1/conflict-copies/{copy}", "lv_expert"),
    "api.list_events": ("/api/v1/audit", "auditor"),
    "api.verify": ("/api/v1/audit/verify", "auditor"),
}
#: GET endpoints that read nothing of the data.
NOT_MEASURED = {"static", "openapi.openapi_document"}


def test_every_get_endpoint_is_measured(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    assert endpoints - NOT_MEASURED == set(MEASURED)


class Callers:
    """One signed-in page session and one API token per user, used once before measuring (a
    session's or token's first use is recorded, a write that later calls do not repeat)."""

    def __init__(self, app) -> None:
        self.app, self.clients, self.tokens = app, {}, {}

    def get(self, url: str, username: str | None):
        if username is None:
            return self.app.test_client().get(url, buffered=True)
        if url.startswith("/api/"):
            if username not in self.tokens:
                answer = self.app.test_client().post(
                    "/api/v1/tokens", json={"username": username, "password": PASSWORD})
                self.tokens[username] = answer.json["token"]
            headers = {"Authorization": f"Bearer {self.tokens[username]}"}
            return self.app.test_client().get(url, headers=headers, buffered=True)
        if username not in self.clients:
            from .conftest import PageClient

            self.clients[username] = PageClient(self.app.test_client()).sign_in(username)
        return self.clients[username].get(url)


TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT")


def count_statements(app, callers: Callers, url: str, username: str | None, *, kept: bool = False) -> int:
    engine = app.extensions["accord.database"].engine
    counter = {"n": 0}

    def count(connection, cursor, statement, *_):
        if not statement.startswith(TRANSACTION_CONTROL):  # the tests' savepoints, SQLite's BEGIN
            counter["n"] += 1

    callers.get(url, username)  # the first use of a session is written down once
    if not kept:
        answer_cache(app).clear()  # measure the making of the answer, not a kept one
    event.listen(engine, "before_cursor_execute", count)
    try:
        response = callers.get(url, username)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200, (url, response.status_code, response.get_data(as_text=True)[:300])
    return counter["n"]


def grow(session, world, rec, numbers: range) -> None:
    """More of everything a page could loop over."""
    for i in numbers:
        services.edit_recommendation(session, world["lv_expert"], rec.id, title=rec.title,
                                     body=rec.body + f"\n\nEdit {i}.", base_revision=rec.revision)
        thread = services.start_thread(session, world["kg_approver"], rec.id, body=f"Thread {i}", quote="heads of agencies")
        services.add_comment(session, world["kz_expert"], thread.id, body=f"Reply {i}")
        services.add_comment(session, world["lv_expert"], thread.id, body=f"Answer {i}")
        state = (State.draft, State.national_review, State.expert_consolidation, State.adopted, State.merged)[i % 5]
        other = world.bring_to(session, state, title=f"Another recommendation {i}", approved=i % 2 == 0)
        if state in (State.draft, State.national_review, State.expert_consolidation):
            services.start_thread(session, world["kz_expert"], other.id, body=f"On another {i}")
        services.add_agency(session, world["admin"], code=f"XX-{i}", name=f"Agency {i}", country="Latvia", kind="eu")
        services.add_user(session, world["admin"], username=f"expert{i}", agency_code=f"XX-{i}",
                          roles=["eu_expert"], password=PASSWORD)
        services.add_process(session, world["admin"], title=f"Process {i}", agency_codes=["KZ-BS", f"XX-{i}"])
    for approver in ("kz_approver", "kg_approver"):
        services.record_decision(session, world[approver], rec.id, "approve", revision=rec.revision)


@pytest.fixture
def measured(app, session, world):
    rec = world.bring_to(session, State.expert_consolidation)
    services.edit_recommendation(session, world["lv_expert"], rec.id, title=rec.title,
                                 body=BODY.replace("quarter", "month"), base_revision=rec.revision)
    copy = services.edit_recommendation(session, world["lv_expert"], rec.id, title=rec.title,
                                        body=BODY.replace("quarter", "week"), base_revision=1).conflict
    assert copy is not None
    grow(session, world, rec, range(1))
    session.commit()
    ids = {"rec": rec.id, "process": world.process.id, "copy": copy.id}
    return rec, {endpoint: (url.format(**ids), user) for endpoint, (url, user) in MEASURED.items()}


def test_no_page_or_call_makes_more_statements_for_more_data(app, session, world, measured):
    rec, urls = measured
    callers = Callers(app)
    few = {endpoint: count_statements(app, callers, url, user) for endpoint, (url, user) in urls.items()}
    grow(session, world, rec, range(1, 9))
    session.commit()
    many = {endpoint: count_statements(app, callers, url, user) for endpoint, (url, user) in urls.items()}
    assert {e: n for e, n in many.items() if n != few[e]} == {}, {e: (few[e], many[e]) for e in few}


def test_a_kept_answer_costs_the_sign_in_check_and_one_lookup(app, session, world, measured):
    """Served again while nothing changed: the session or token is checked, and the number of
    the latest change read; nothing else, whatever the page."""
    rec, urls = measured
    keeping = {endpoint for endpoint, view in app.view_functions.items() if getattr(view, "keeps_answers", False)}
    assert {"pages.recommendation", "pages.process", "api.get_recommendation"} <= keeping
    callers = Callers(app)
    kept = {endpoint: count_statements(app, callers, urls[endpoint][0], urls[endpoint][1], kept=True)
            for endpoint in keeping}
    assert kept == {endpoint: 2 for endpoint in keeping}


def test_kept_answers_show_nothing_the_audit_rule_exempts(app, session, world, measured):
    """What may change without an audit event (workflow.audit_rule.EXEMPT_TABLES) is never part
    of a kept answer: making one reads those tables only as the sign-in check does, the same
    statements as for a page or call that is never kept (the account page, /api/v1/me)."""
    import re

    from accord.workflow.audit_rule import EXEMPT_TABLES

    _, urls = measured
    exempt = re.compile(r"\b(?:" + "|".join(EXEMPT_TABLES) + r")\b")
    engine = app.extensions["accord.database"].engine
    callers = Callers(app)

    def exempt_statements(url: str, username: str) -> list[str]:
        callers.get(url, username)  # the first use of a session is written down once
        answer_cache(app).clear()
        seen: list[str] = []

        def note(connection, cursor, statement, *_):
            if exempt.search(statement):
                seen.append(statement)

        event.listen(engine, "before_cursor_execute", note)
        try:
            assert callers.get(url, username).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", note)
        return seen

    keeping = {endpoint for endpoint, view in app.view_functions.items() if getattr(view, "keeps_answers", False)}
    for endpoint in sorted(keeping):
        url, username = urls[endpoint]
        never_kept = "/api/v1/me" if url.startswith("/api/") else "/account"
        sign_in_check = exempt_statements(never_kept, username)
        assert sign_in_check  # the session or token is looked up: the statements are seen
        assert exempt_statements(url, username) == sign_in_check, endpoint
