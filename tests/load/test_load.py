"""Concurrent clients against Accord served by gunicorn (the short run; `python -m tests.load`
runs the long one): mixed reads, edits, comments, decisions and transitions for a fixed time,
on this suite's database (SQLite, or PostgreSQL with ACCORD_TEST_DATABASE_URL).

No timing is asserted: only that no one got a 5xx or "database is locked", that every
acknowledged change is in the history, and that the audit chain verifies; with two servers on
one database, also that every change acknowledged by one was in the other's answer just after,
and that failed sign-ins counted by one server stopped guessing on both.
"""

from __future__ import annotations

import pytest

from .runner import report, run_load

CLIENTS = 6
SECONDS = 10


@pytest.mark.concurrency
def test_concurrent_clients_lose_nothing(database_server, tmp_path):
    url = database_server.new_database()
    outcome = run_load(url, clients=CLIENTS, seconds=SECONDS, workdir=tmp_path)
    summary = report(outcome, url, CLIENTS)
    print(summary)
    assert not outcome.problems, summary
    counts = outcome.ledger.counts()
    # The run did what it is for: every kind of change was acknowledged at least once.
    assert all(counts[kind] > 0 for kind in ("edits", "comments", "decisions", "transitions")), summary
    assert {"read detail", "read list", "edit", "comment"} <= {k.kind for k in outcome.stats.kinds}


@pytest.mark.concurrency
def test_two_servers_on_one_database_agree(database_server, tmp_path):
    """Two gunicorn servers share the database and the secret key; each client's requests go
    to each in turn (its token and session made on one, used on the other), and every change
    one acknowledged is read back from the other at once: none may be missing there."""
    url = database_server.new_database()
    outcome = run_load(url, clients=CLIENTS, seconds=SECONDS, workdir=tmp_path, servers=2, workers=1)
    summary = report(outcome, url, CLIENTS)
    print(summary)
    assert not outcome.problems, summary
    # Both servers did real work, and changes were read back from the other one.
    assert len(outcome.stats.per_server()) == 2, summary
    assert min(outcome.stats.per_server()) >= outcome.stats.total / 3, summary
    assert outcome.confirmed >= 10, summary
    assert all(outcome.ledger.counts()[kind] > 0 for kind in ("edits", "comments", "decisions", "transitions")), summary
