"""The number of SQL statements an API call makes does not grow with the data: the same for one
item as for many, one revision as for many, one comment as for many."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from accord.web.answer_cache import answer_cache
from accord.workflow import services
from accord.workflow.states import State


class StatementCounter:
    def __init__(self, engine) -> None:
        self.engine, self.count = engine, 0

    def __call__(self, *args) -> None:
        self.count += 1

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self)


def statements(api, connection, path: str, as_: str = "kg_approver", *, method: str = "GET",
               status: int = 200, **kwargs) -> int:
    api.get("/me", as_=as_)  # signs in and records the token's first use, which is a write
    answer_cache(api.client.application).clear()  # measure the making of the answer, not a kept one
    with StatementCounter(connection.engine) as counter:
        answer = api.call(method, path, as_=as_, **kwargs)
    assert answer.status_code == status, answer.json
    return counter.count


def grow(session, world, rec, *, revisions: int, comments: int) -> None:
    """More revisions (EU expert edits), threads and comments, and every approval."""
    for n in range(revisions):
        services.edit_recommendation(
            session, world["lv_expert"], rec.id, title=rec.title, body=rec.body + f"\n\nEdit {n}.",
            base_revision=rec.revision,
        )
    for n in range(comments):
        thread = services.start_thread(session, world["kg_approver"], rec.id, body=f"Thread {n}", quote="quarter")
        services.add_comment(session, world["kz_expert"], thread.id, body=f"Reply {n}")
    services.record_decision(session, world["kz_approver"], rec.id, "approve", revision=rec.revision)
    services.record_decision(session, world["kg_approver"], rec.id, "object", revision=rec.revision, reason="No.")


@pytest.fixture
def small_and_large(session, world):
    small = world.bring_to(session, State.expert_consolidation, title="Small")
    grow(session, world, small, revisions=1, comments=1)
    large = world.bring_to(session, State.expert_consolidation, title="Large")
    grow(session, world, large, revisions=12, comments=15)
    session.commit()
    return small, large


@pytest.mark.parametrize("path", ["", "/revisions", "/threads", "/diff?from=1&to=2"])
def test_detail_calls_do_not_grow_with_history(api, connection, small_and_large, path):
    small, large = small_and_large
    assert statements(api, connection, f"/recommendations/{small.id}{path}") == statements(
        api, connection, f"/recommendations/{large.id}{path}"
    )


def test_the_list_does_not_grow_with_the_number_of_recommendations(api, connection, session, world):
    world.bring_to(session, State.expert_consolidation, approved=True)
    session.commit()
    few = statements(api, connection, "/recommendations?per_page=200")
    for n in range(25):
        rec = world.bring_to(session, State.expert_consolidation, approved=(n % 2 == 0), title=f"Rec {n}")
        if n % 3 == 0:
            services.start_thread(session, world["kg_approver"], rec.id, body="Hm.")
    world.bring_to(session, State.merged)
    session.commit()
    many = statements(api, connection, "/recommendations?per_page=200")
    assert few == many


def test_the_audit_list_does_not_grow(api, connection, session, world):
    world.bring_to(session, State.national_review)
    session.commit()
    few = statements(api, connection, "/audit?per_page=200", as_="auditor")
    for _ in range(10):
        world.bring_to(session, State.adopted)
    session.commit()
    assert statements(api, connection, "/audit?per_page=200", as_="auditor") == few


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/recommendations/{rec}", None),
    ("GET", "/recommendations/{rec}/revisions", None),
    ("GET", "/recommendations/{rec}/threads", None),
    ("GET", "/recommendations/{rec}/diff?from=1&to=1", None),
    ("PUT", "/recommendations/{rec}", {"title": "T", "body": "B", "base_revision": 1}),
    ("POST", "/recommendations/{rec}/threads", {"body": "Hm."}),
    ("POST", "/threads/{thread}/comments", {"body": "Hm."}),
    ("POST", "/threads/{thread}/resolve", None),
])
def test_another_agencys_private_draft_costs_what_a_missing_id_costs(api, connection, session, world, method, path, body):
    """Visibility is part of the first query: nothing more is read for a draft one may not see
    than for an id that does not exist, so neither the count nor the time tells them apart."""
    draft = world.draft(session)
    thread = services.start_thread(session, world["kz_expert"], draft.id, body="Our own remark.")
    session.commit()
    kwargs = {"json": body} if body is not None else {}
    hidden, missing = (
        statements(api, connection, path.format(rec=rec, thread=thr), method=method, status=404, **kwargs)
        for rec, thr in ((draft.id, thread.id), (999_999, 999_999))
    )
    assert hidden == missing
