"""Crash consistency: `accord serve` killed with SIGKILL in the middle of a burst of writes, again
and again, then started again on the same database and port.

After every kill and restart: the SQLite file passes `integrity_check`, the audit chain
verifies, every revision, decision, thread, comment and state change has its event (and every
event its rows), and everything a client got a 2xx for is there. A write cut off by the kill
may or may not have happened (its client never heard), but never half. The server comes back
each time on what the kill left (SQLite's WAL and shared-memory files, the port).

Starting is killed too: `accord serve --demo` on an empty database, killed while it loads the
demo, leaves all of it or none; and a key file left empty by a killed first start must not break
the pages.
"""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from accord.config import demo
from accord.config.settings import Settings
from accord.web import create_app
from accord.workflow.db import Database
from accord.workflow.models import Agency, User

from .conftest import make_server
from .consistency import (
    Acknowledged,
    consistency_problems,
    missing_acknowledged,
    row_counts,
    sqlite_integrity,
)
from .driver import Writer

pytestmark = pytest.mark.concurrency

ROUNDS = 8
WRITERS = ("aigerim", "serik", "dana", "azamat", "ilze")


def _check(demo_database, acked: Acknowledged, when: str) -> None:
    problems = []
    if demo_database.dialect == "sqlite":
        problems += sqlite_integrity(demo_database.sqlite_path)
    problems += consistency_problems(demo_database.database)
    problems += missing_acknowledged(demo_database.database, acked)
    assert not problems, f"{when}:\n" + "\n".join(problems)


def test_sigkill_mid_burst_loses_nothing_acknowledged_and_never_half_a_write(
    demo_database, servers, tmp_path
):
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    server = make_server(servers, demo_database.url, tmp_path / "serve")
    acked = Acknowledged()
    interrupted = refused = 0
    unexpected: list[str] = []
    _check(demo_database, acked, "before the first start")  # the demo itself holds the rules

    for round_number in range(1, ROUNDS + 1):
        health = server.start()
        assert health["ok"] and health["schema"] == health["expected_schema"], health
        _check(demo_database, acked, f"after restart {round_number} (seed {seed})")

        stop = threading.Event()
        writers = [
            Writer(server.url, name, demo_database.tokens[name], stop, rng.randrange(2**32))
            for name in WRITERS
        ]
        for writer in writers:
            writer.start()
        try:
            time.sleep(rng.uniform(0.3, 2.5))
        finally:
            server.kill()
            stop.set()
            for writer in writers:
                writer.join(timeout=60)
        assert not any(w.is_alive() for w in writers), "a writer is stuck"
        for writer in writers:
            acked.merge(writer.acked)
            interrupted += writer.interrupted
            refused += writer.refused
            unexpected += writer.unexpected
        _check(demo_database, acked, f"after kill {round_number} (seed {seed})")

    # Once more: the server comes up on what the last kill left, and serves reads and writes.
    server.start()
    _check(demo_database, acked, f"after the last restart (seed {seed})")
    answer = requests.post(
        f"{server.url}/api/v1/recommendations",
        headers={"Authorization": f"Bearer {demo_database.tokens['aigerim']}"},
        json={"process": 1, "title": "After the crashes", "body": "Still writing."},
        timeout=30,
    )
    assert answer.status_code == 201, answer.text
    acked.created[answer.json()["id"]] = "After the crashes"
    server.stop()
    _check(demo_database, acked, f"at the end (seed {seed})")

    assert not unexpected, f"unexpected answers (seed {seed}):\n" + "\n".join(unexpected[:20])
    # The test means something only if writes were acknowledged and kills cut requests short.
    assert acked.count >= ROUNDS, f"only {acked.count} writes acknowledged (seed {seed})"
    assert interrupted >= 1, f"no request was in flight at any kill (seed {seed})"
    print(f"seed {seed}: {acked.count} writes acknowledged ({len(acked.created)} drafts, "
          f"{len(acked.revisions)} revisions, {sum(acked.transitions.values())} transitions, "
          f"{len(acked.decisions)} decisions, {len(acked.comments)} comments), "
          f"{interrupted} requests cut by kills, {refused} refused while down, {server.starts} starts")


def test_a_first_start_killed_while_loading_the_demo_leaves_nothing_half_loaded(
    database_server, servers, tmp_path
):
    """`accord serve --demo` on an empty database, killed while it loads the demo (seconds of
    password hashing): the demo is all there or not at all, and the next start loads it whole.
    The instance folder is new too, so the kill may also land while the secret key is made."""
    url = database_server.new_database()
    database = Database(url)
    rng = random.Random()
    server = make_server(servers, url, tmp_path / "serve")
    everything = (len(demo.AGENCIES), len(demo.USERS))
    try:
        outcomes = []
        for _ in range(2):
            server.start(wait=False)
            time.sleep(rng.uniform(1.0, 4.0))  # imports take about a second, the demo several
            server.kill()
            with database.read() as session:
                loaded = (session.scalar(select(func.count()).select_from(Agency)),
                          session.scalar(select(func.count()).select_from(User)))
            assert loaded in ((0, 0), everything), f"half a demo: {loaded} after a kill"
            outcomes.append(loaded)
            assert consistency_problems(database) == []
            if database_server.dialect == "sqlite":
                assert sqlite_integrity(Path(database.url.database)) == []
        health = server.start()
        assert health["ok"], health
        reference = Database(database_server.new_database())  # the demo, loaded in one go
        try:
            with reference.write() as session:
                demo.load(session)
            assert row_counts(database) == row_counts(reference)
        finally:
            reference.dispose()
        assert consistency_problems(database) == []
        # The pages work: sessions need the secret key a killed start may have been making.
        assert requests.get(f"{server.url}/sign-in", timeout=30).status_code == 200
        print(f"after each kill, (agencies, users) = {outcomes}")
    finally:
        database.dispose()


def test_an_empty_key_file_left_by_a_killed_first_start_does_not_break_the_pages(fresh_database, tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "secret_key").touch(mode=0o600)  # what a start killed after touch() leaves
    app = create_app(Settings.from_env({"ACCORD_INSTANCE_PATH": str(instance)}), database=fresh_database)
    assert app.test_client().get("/sign-in").status_code == 200
