"""Rendering and the write lock: Markdown is rendered before a save takes the lock, so a long
text stalls only its own request, and one person's hostile preview neither slows nor changes
another person's save (the stored HTML is a function of the text alone)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import event, select

from accord.workflow import rendering, services
from accord.workflow.models import Recommendation, Revision, User
from accord.workflow.rendering import render_markdown
from accord.workflow.services.history import save_edit
from accord.workflow.states import State

from ..factories import PASSWORD, build_world

pytestmark = pytest.mark.concurrency

#: The hostile texts of the issue: a definition list that took 6.5 s and more inside the write
#: transaction, and 200,000 characters that two previews at once sent past the worker's limit.
DEFINITION_LIST = "T\n" + ": \n" * 7_000
BACKTICKS = "``a` " * 40_000
ORDINARY_30_KB = "\n\n".join(
    f"## Part {n}\n\nThe **agency** shares its *risk profiles* with [the others](https://example.org/{n}) "
    f"every quarter, and `reports` back.\n\n- one measure\n- another measure"
    for n in range(220)
)[:30_000]


@pytest.fixture
def world_db(fresh_database):
    with fresh_database.write() as session:
        fresh_database.world = build_world(session)
    return fresh_database


class RenderWatch:
    """Records each Markdown conversion with whether this thread held a write transaction then:
    on SQLite one that began with BEGIN IMMEDIATE, on PostgreSQL one that may take row locks."""

    def __init__(self, database) -> None:
        self.open = threading.local()
        self.renders: list[tuple[str, bool]] = []

        @event.listens_for(database.engine, "begin")
        def began(connection):
            if connection.get_execution_options().get("accord_write"):
                self.open.write = True

        @event.listens_for(database.engine, "commit")
        @event.listens_for(database.engine, "rollback")
        def ended(connection):
            self.open.write = False

    def convert(self, original):
        def watched(text: str) -> str:
            self.renders.append((text, getattr(self.open, "write", False)))
            return original(text)

        return watched

    def under_lock(self) -> list[str]:
        return [text for text, locked in self.renders if locked]


@pytest.fixture
def watch(world_db, monkeypatch) -> RenderWatch:
    watch = RenderWatch(world_db)
    monkeypatch.setattr(rendering, "_convert", watch.convert(rendering._convert))
    return watch


def _actor(database, username: str) -> User:
    # Read beforehand, as the web layer does: the write transaction starts in the service.
    with database.read() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user.roles and user.agency  # loaded now, used after the session ends
        return user


def test_every_save_renders_before_the_write_transaction_begins(world_db, watch):
    expert = _actor(world_db, "kz_expert")
    with world_db.write() as session:
        process_id = world_db.world.process.id
        rec = services.create_recommendation(session, expert, process_id=process_id, title="T", body="*one*")
    with world_db.write() as session:
        services.edit_recommendation(session, expert, rec.id, title="T", body="*two*", base_revision=1)
    with world_db.write() as session:
        save_edit(session, expert, rec.id, title="T", body="*three*", summary="", base_revision=2)
    with world_db.write() as session:
        thread = services.start_thread(session, expert, rec.id, body="*why?*")
    with world_db.write() as session:
        services.add_comment(session, expert, thread.id, body="*because*")
    assert [text for text, _ in watch.renders] == ["*one*", "*two*", "*three*", "*why?*", "*because*"]
    assert watch.under_lock() == []


def test_the_watch_sees_a_render_under_the_lock(world_db, watch):
    with world_db.write() as session:
        session.scalar(select(User.id).limit(1))  # the transaction has begun
        render_markdown("*inside*")
    assert watch.under_lock() == ["*inside*"]


def test_only_a_merged_text_is_rendered_under_the_lock(world_db, watch):
    """A three-way merge makes a text nobody sent, known only once the lock is held; it is
    rendered there, within the same budget. The text sent is rendered before."""
    expert = _actor(world_db, "kz_expert")
    base = "First.\n\nSecond.\n\nThird."
    with world_db.write() as session:
        rec = services.create_recommendation(
            session, expert, process_id=world_db.world.process.id, title="T", body=base
        )
    with world_db.write() as session:
        services.edit_recommendation(session, expert, rec.id, title="T", body="First, amended.\n\nSecond.\n\nThird.", base_revision=1)
    with world_db.write() as session:
        outcome = services.edit_recommendation(session, expert, rec.id, title="T", body="First.\n\nSecond.\n\nThird, amended.", base_revision=1)
    assert outcome.merged
    assert watch.under_lock() == ["First, amended.\n\nSecond.\n\nThird, amended."]


def test_a_hostile_text_is_stored_as_the_same_html_whatever_else_runs(world_db):
    """The hostile text saved alone and saved while others preview hostile texts: same HTML."""
    expert = _actor(world_db, "kz_expert")
    with world_db.write() as session:
        rec = world_db.world.bring_to(session, State.draft)
    alone = render_markdown(DEFINITION_LIST)
    stop = threading.Event()

    def preview_hostile() -> None:
        while not stop.is_set():
            render_markdown(BACKTICKS)

    previewers = [threading.Thread(target=preview_hostile) for _ in range(2)]
    for previewer in previewers:
        previewer.start()
    try:
        with world_db.write() as session:
            services.edit_recommendation(
                session, expert, rec.id, title=rec.title, body=DEFINITION_LIST, base_revision=1
            )
    finally:
        stop.set()
        for previewer in previewers:
            previewer.join()
    with world_db.read() as session:
        stored = session.scalar(select(Revision.body_html).where(Revision.recommendation_id == rec.id, Revision.number == 2))
    assert stored == alone == rendering._plain_paragraphs(DEFINITION_LIST)


def _signed_in(app, username: str):
    from ..pages.conftest import PageClient

    return PageClient(app.test_client()).sign_in(username, PASSWORD)


@pytest.fixture
def served(world_db, tmp_path):
    from accord.config.settings import Settings
    from accord.web import create_app

    return create_app(
        Settings.from_env({"ACCORD_INSTANCE_PATH": str(tmp_path), "ACCORD_ANSWER_CACHE_MB": "0"}),
        database=world_db, TESTING=True,
    )


def test_a_30_kb_save_while_two_hostile_previews_run_is_stored_fully_rendered(world_db, served):
    with world_db.write() as session:
        rec_id = world_db.world.bring_to(session, State.draft).id
    author, first, second = (_signed_in(served, name) for name in ("kz_expert", "kg_expert", "uz_expert"))
    alone_started = time.perf_counter()
    response = author.post(f"/recommendations/{rec_id}/edit", {
        "title": "Thirty kilobytes", "body": ORDINARY_30_KB + "\n\nSaved alone.", "summary": "",
        "base_revision": "1",
    })
    alone_seconds = time.perf_counter() - alone_started
    assert response.status_code == 303
    barrier = threading.Barrier(3)

    def preview(client, text):
        barrier.wait()
        started = time.perf_counter()
        response = client.post("/preview", {"body": text})
        return response, time.perf_counter() - started

    def save():
        barrier.wait()
        time.sleep(0.02)  # the previews are under way
        started = time.perf_counter()
        response = author.post(f"/recommendations/{rec_id}/edit", {
            "title": "Thirty kilobytes", "body": ORDINARY_30_KB, "summary": "", "base_revision": "2",
        })
        return response, time.perf_counter() - started

    with ThreadPoolExecutor(3) as pool:
        previews = [pool.submit(preview, first, BACKTICKS), pool.submit(preview, second, BACKTICKS)]
        saved = pool.submit(save)
        (save_response, save_seconds) = saved.result()
        preview_results = [p.result() for p in previews]

    print(f"\n30 KB save beside two hostile 200 KB previews: {save_seconds:.3f} s "
          f"(the same save with nothing else running: {alone_seconds:.3f} s); previews: "
          + ", ".join(f"{seconds:.3f} s" for _, seconds in preview_results))
    assert save_response.status_code == 303, save_response.get_data(as_text=True)[:300]
    for response, _ in preview_results:
        assert response.status_code == 200
        assert response.get_data(as_text=True) == rendering._plain_paragraphs(BACKTICKS)
    with world_db.read() as session:
        rec = session.get(Recommendation, rec_id)
        assert rec.revision == 3 and rec.body_html == render_markdown(ORDINARY_30_KB)
        assert rec.body_html.count("<h2>") == ORDINARY_30_KB.count("## Part")
