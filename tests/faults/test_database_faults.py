"""The database failing under a running application.

PostgreSQL restarted under a running server: requests in flight fail cleanly (503 and a
sentence, in JSON under /api/, as a page elsewhere; rolled back), and the next ones succeed. The
suite's PostgreSQL server is shared, so it is never restarted: what a restart does to the
application is done instead by a TCP proxy between the two (every connection broken at once,
new ones refused, then let through again), and by `pg_terminate_backend` on the backends of
the test's own database.

SQLite running out of space: `PRAGMA max_page_count` (set by this test on every connection the
application takes from its pool) makes the file "full"; a write then answers 503 `storage_full`
with a sentence saying so (pages: a page saying so), nothing of it is written, and once the limit
is raised writes succeed again.
"""

from __future__ import annotations

import re
import threading
import time
from contextlib import ExitStack

import pytest
import requests
from sqlalchemy import event, select, text
from sqlalchemy.engine import make_url

from accord.config.settings import Settings
from accord.web import create_app
from accord.workflow.db import Database
from accord.workflow.models import Recommendation
from accord.workflow.states import State

from .conftest import make_server
from .consistency import Acknowledged, consistency_problems, missing_acknowledged, row_counts, sqlite_integrity
from .driver import Writer
from .proxy import Proxy

pytestmark = pytest.mark.concurrency

WRITERS = ("aigerim", "serik", "dana", "azamat", "ilze")
TRACEBACK = re.compile(r"Traceback|File \"|sqlalchemy|psycopg|sqlite3", re.IGNORECASE)


def _api_unavailable(answer: requests.Response) -> None:
    """A 503 in the error envelope, with a sentence a person can act on."""
    assert answer.status_code == 503, (answer.status_code, answer.text[:500])
    assert answer.headers["Content-Type"].startswith("application/json"), answer.headers
    error = answer.json()["error"]
    assert error["code"] == "unavailable", error
    assert error["message"].endswith(".") and "try again" in error["message"], error
    assert not TRACEBACK.search(answer.text), answer.text


def _page_unavailable(answer: requests.Response) -> None:
    assert answer.status_code == 503, (answer.status_code, answer.text[:500])
    assert answer.headers["Content-Type"].startswith("text/html"), answer.headers
    assert "try again" in answer.text.lower(), answer.text
    assert not TRACEBACK.search(answer.text), answer.text


class PageVisitor:
    """A person signed in to the pages through the real form."""

    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.base_url = base_url
        self.http = requests.Session()
        form = self.http.get(f"{base_url}/sign-in", timeout=30)
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
        answer = self.http.post(
            f"{base_url}/sign-in", timeout=60,
            data={"username": username, "password": password, "csrf_token": token},
        )
        assert answer.status_code == 200 and "What awaits you" in answer.text, answer.text[:500]
        self.csrf = re.search(r'name="csrf_token" value="([^"]+)"', answer.text).group(1)

    def inbox(self) -> requests.Response:
        return self.http.get(f"{self.base_url}/", timeout=30)

    def start_thread(self, rec_id: int, body: str) -> requests.Response:
        return self.http.post(
            f"{self.base_url}/recommendations/{rec_id}/threads", timeout=30, allow_redirects=False,
            data={"body": body, "csrf_token": self.csrf},
        )

    def close(self) -> None:
        self.http.close()


class PageReader(threading.Thread):
    """A signed-in person reloading their inbox until told to stop; every answer must be the
    page (200) or a clean 503 page."""

    def __init__(self, visitor: PageVisitor, stop: threading.Event) -> None:
        super().__init__(name="page-reader", daemon=True)
        self.visitor, self.stop = visitor, stop
        self.answers = 0
        self.unavailable = 0
        self.problems: list[str] = []

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                answer = self.visitor.inbox()
            except requests.RequestException as error:
                self.problems.append(f"no answer: {error!r}")
                return
            self.answers += 1
            if answer.status_code == 503:
                self.unavailable += 1
                try:
                    _page_unavailable(answer)
                except AssertionError as error:
                    self.problems.append(str(error))
            elif answer.status_code != 200:
                self.problems.append(f"{answer.status_code}: {answer.text[:300]}")


# --- no database at all (on any suite run) -------------------------------------------------------


def test_with_no_database_to_reach_every_kind_of_request_answers_503_with_a_sentence(tmp_path):
    """A server whose PostgreSQL does not answer at all (nothing listens on its port): the API
    answers its error envelope, the pages a page, /health says so; never a 500."""
    from .conftest import free_port

    database = Database(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/absent")
    app = create_app(Settings.from_env({"ACCORD_INSTANCE_PATH": str(tmp_path / "instance")}),
                     database=database)
    client = app.test_client()
    try:
        answer = client.get("/api/v1/me", headers={"Authorization": "Bearer whatever"})
        _api_unavailable(_Answer(answer))
        answer = client.post("/api/v1/tokens", json={"username": "aigerim", "password": "x" * 12})
        _api_unavailable(_Answer(answer))
        form = client.get("/sign-in").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        answer = client.post("/sign-in", data={"username": "aigerim", "password": "x" * 12, "csrf_token": token})
        _page_unavailable(_Answer(answer))
        answer = client.get("/health")
        assert answer.status_code == 503 and answer.get_json()["ok"] is False, answer.get_data(as_text=True)
    finally:
        database.dispose()


class _Answer:
    """A Flask test response with the few attributes of a `requests` response the checks read."""

    def __init__(self, response) -> None:
        self.status_code = response.status_code
        self.headers = response.headers
        self.text = response.get_data(as_text=True)

    def json(self):
        import json

        return json.loads(self.text)


# --- PostgreSQL goes away ------------------------------------------------------------------------


@pytest.fixture
def postgres(demo_database):
    if demo_database.dialect != "postgresql":
        pytest.skip("PostgreSQL only: set ACCORD_TEST_DATABASE_URL")
    return demo_database


def _terminate_backends(database_url: str, database: Database) -> int:
    """End every backend connected to this test's own database (never any other's)."""
    name = make_url(database_url).database
    assert name.startswith("accord_test_"), name
    with database.engine.connect() as connection:
        ended = connection.execute(
            text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                 "WHERE datname = :name AND pid <> pg_backend_pid()"),
            {"name": name},
        ).scalar_one()
        connection.rollback()
    return ended


def _leftover_transactions(database_url: str, database: Database) -> list[str]:
    name = make_url(database_url).database
    with database.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT state, query FROM pg_stat_activity "
                 "WHERE datname = :name AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'"),
            {"name": name},
        ).all()
        connection.rollback()
    return [f"{row.state}: {row.query}" for row in rows]


@pytest.mark.parametrize("fault", ["restart", "terminate"])
def test_postgresql_going_away_fails_requests_cleanly_and_the_next_ones_succeed(
    postgres, servers, tmp_path, fault
):
    demo_database = postgres
    url = make_url(demo_database.url)
    with ExitStack() as cleanup:
        proxy = Proxy(url.host or "127.0.0.1", url.port or 5432)
        cleanup.callback(proxy.close)
        through_proxy = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        server = make_server(servers, through_proxy, tmp_path / "serve")
        server.start()
        visitor = PageVisitor(server.url, "aigerim", "ashgabat-workshop-2019")
        cleanup.callback(visitor.close)
        reader = PageReader(PageVisitor(server.url, "serik", "ashgabat-workshop-2019"), threading.Event())
        cleanup.callback(reader.visitor.close)
        api = cleanup.enter_context(requests.Session())
        api.headers["Authorization"] = f"Bearer {demo_database.tokens['aigerim']}"
        stop = threading.Event()
        writers = [Writer(server.url, name, demo_database.tokens[name], stop, seed)
                   for seed, name in enumerate(WRITERS)]
        for thread in [*writers, reader]:
            thread.start()
        try:
            time.sleep(1.0)  # a burst under way
            if fault == "restart":
                proxy.cut()  # every connection breaks; the port is closed
                time.sleep(0.3)
                # While the database is down, everything that needs it answers 503, plainly.
                _api_unavailable(api.get(f"{server.url}/api/v1/recommendations", timeout=30))
                _api_unavailable(api.post(f"{server.url}/api/v1/recommendations", timeout=30,
                                          json={"process": 1, "title": "While down", "body": "x"}))
                _page_unavailable(visitor.inbox())
                said = visitor.start_thread(1, "Said while the database was down.")
                _page_unavailable(said)
                assert "Said while the database was down." in said.text  # shown back, not lost
                health = requests.get(f"{server.url}/health", timeout=30)
                assert health.status_code == 503 and health.json()["ok"] is False, health.text
                time.sleep(0.5)
                proxy.restore()
            else:
                for _ in range(5):  # end every connection, in flight or idle, a few times
                    _terminate_backends(demo_database.url, demo_database.database)
                    time.sleep(0.3)
            time.sleep(1.0)  # the burst goes on
        finally:
            stop.set()
            reader.stop.set()
            for thread in [*writers, reader]:
                thread.join(timeout=60)
        assert not any(t.is_alive() for t in [*writers, reader]), "a client is stuck"
        assert reader.problems == [], reader.problems[:5]

        # The very next requests succeed: the pool hands out no dead connection. To be sure no
        # request in flight already cleared the pool, the fault strikes once more while the
        # server is idle, its pooled connections all dead when the next requests come.
        for _ in range(8):  # fill the pool with connections, then leave them idle
            assert api.get(f"{server.url}/api/v1/me", timeout=30).status_code == 200
        connections = proxy.connections
        if fault == "restart":
            proxy.cut()
            time.sleep(0.2)
            proxy.restore()
        else:
            assert _terminate_backends(demo_database.url, demo_database.database) >= 1
        for _ in range(12):  # more than the pool holds
            answer = api.get(f"{server.url}/api/v1/me", timeout=30)
            assert answer.status_code == 200, answer.text
        assert proxy.connections > connections, "no new connection: the idle ones were never broken"
        answer = api.post(f"{server.url}/api/v1/recommendations", timeout=30,
                          json={"process": 1, "title": "After the outage", "body": "Saved."})
        assert answer.status_code == 201, answer.text
        assert visitor.inbox().status_code == 200
        assert visitor.start_thread(answer.json()["id"], "Back again.").status_code == 303
        assert requests.get(f"{server.url}/health", timeout=30).status_code == 200

        # In flight, only clean 503s; never a 500.
        unavailable = 0
        for writer in writers:
            for problem in writer.unexpected:
                assert " → 503 " in problem, problem
                assert '"code":"unavailable"' in problem.replace(" ", ""), problem
                unavailable += 1
        if fault == "restart":
            assert unavailable >= 1, "no request in flight or during the outage met the fault"
        print(f"{fault}: {sum(sum(w.statuses.values()) for w in writers)} answers, {unavailable} were 503, "
              f"{sum(w.interrupted for w in writers)} cut short; pages: {reader.answers} answers, "
              f"{reader.unavailable} were 503")
        assert "unexpected error" not in server.log(), server.log()[-3000:]

        # Nothing half-written, nothing acknowledged lost, no transaction left open.
        acked = Acknowledged()
        for writer in writers:
            acked.merge(writer.acked)
        assert acked.count > 0
        assert consistency_problems(demo_database.database) == []
        assert missing_acknowledged(demo_database.database, acked) == []
        assert _leftover_transactions(demo_database.url, demo_database.database) == []


# --- SQLite runs out of space --------------------------------------------------------------------


@pytest.fixture
def sqlite(demo_database):
    if demo_database.dialect != "sqlite":
        pytest.skip("SQLite only")
    return demo_database


def test_sqlite_full_answers_503_storage_full_writes_nothing_and_recovers_once_there_is_room(sqlite, tmp_path):
    demo_database = sqlite
    database = Database(demo_database.url)
    limit: dict[str, int | None] = {"pages": None}

    @event.listens_for(database.engine, "checkout")
    def _limit_size(dbapi_connection, _record, _proxy) -> None:
        # The file may not grow past `pages` (a disk with no room left); None: as it is.
        pages = limit["pages"] or 1_073_741_823
        dbapi_connection.execute(f"PRAGMA max_page_count={pages}")

    app = create_app(Settings.from_env({"ACCORD_INSTANCE_PATH": str(tmp_path / "instance")}),
                     database=database)
    client = app.test_client()
    token = {"Authorization": f"Bearer {demo_database.tokens['aigerim']}"}
    big = "A paragraph that takes room. " * 4000  # ~120 KB: needs new pages
    remark = "A remark that takes room. " * 700  # ~18 KB, near the most a comment may hold
    try:
        page = _signed_in_page_client(app, "aigerim")  # signing in writes too: before the disk fills
        with database.read() as session:  # one aigerim may comment on
            rec_id = session.scalar(select(Recommendation.id).where(Recommendation.state == State.national_review))
        before = row_counts(demo_database.database)
        with database.engine.connect() as connection:
            limit["pages"] = connection.exec_driver_sql("PRAGMA page_count").scalar()

        answer = client.post("/api/v1/recommendations", headers=token,
                             json={"process": 1, "title": "Too big for the disk", "body": big})
        assert answer.status_code == 503, answer.get_data(as_text=True)
        error = answer.get_json()["error"]
        assert error["code"] == "storage_full", error
        assert int(answer.headers["Retry-After"]) >= 1
        assert "full" in error["message"] and "nothing was saved" in error["message"], error

        # The pages say it too, as a page.
        answer = page.post(f"/recommendations/{rec_id}/threads", data={"body": remark, "csrf_token": page.csrf})
        assert answer.status_code == 503, answer.get_data(as_text=True)[:500]
        assert answer.mimetype == "text/html"
        assert "The database is full" in answer.get_data(as_text=True)
        assert remark.strip() in answer.get_data(as_text=True)  # shown back, not lost
        assert not TRACEBACK.search(answer.get_data(as_text=True))

        # Nothing half-written.
        assert row_counts(demo_database.database) == before
        assert consistency_problems(demo_database.database) == []
        assert sqlite_integrity(demo_database.sqlite_path) == []

        # Reads still work while the disk is full.
        assert client.get("/api/v1/recommendations/1", headers=token).status_code == 200

        # Room again: the same writes succeed, on the same pooled connections.
        limit["pages"] = None
        answer = client.post("/api/v1/recommendations", headers=token,
                             json={"process": 1, "title": "Too big for the disk", "body": big})
        assert answer.status_code == 201, answer.get_data(as_text=True)
        answer = page.post(f"/recommendations/{rec_id}/threads", data={"body": remark, "csrf_token": page.csrf})
        assert answer.status_code == 303, answer.get_data(as_text=True)[:500]
        after = row_counts(demo_database.database)
        assert after["recommendations"] == before["recommendations"] + 1
        assert after["comments"] == before["comments"] + 1
        assert consistency_problems(demo_database.database) == []
        assert sqlite_integrity(demo_database.sqlite_path) == []
    finally:
        database.dispose()


def _signed_in_page_client(app, username: str):
    client = app.test_client()
    form = client.get("/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    answer = client.post("/sign-in", data={"username": username, "password": "ashgabat-workshop-2019",
                                           "csrf_token": token}, follow_redirects=True)
    assert "What awaits you" in answer.get_data(as_text=True)
    client.csrf = re.search(r'name="csrf_token" value="([^"]+)"', answer.get_data(as_text=True)).group(1)
    return client
