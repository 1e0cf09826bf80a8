"""One load run: prepare the database, serve it with gunicorn (one server, or several sharing
the database and the secret key, as behind a load balancer), drive the clients, check."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

from .scenario import Outcome, check, drive, sign_in_limits_hold
from .server import describe, prepare_database, served, server_env

#: The WSGI application gunicorn serves.
APP = "accord.web.wsgi:app"


def run_load(
    database_url: str, *, clients: int, seconds: float, workdir: Path, workers: int = 2,
    threads: int = 4, seed: int = 2019, servers: int = 1,
) -> Outcome:
    """Serve `database_url` (migrated, and the demo loaded when empty) with `servers` gunicorn
    servers of `workers` processes each, run `clients` people against them for `seconds`,
    then check everything they were told."""
    prepare_database(database_url)
    env = server_env(database_url, workdir / "instance")  # one secret key for all
    problems: list[str] = []
    with ExitStack() as stack:
        running = [stack.enter_context(served(APP, env, workdir / f"gunicorn-{n + 1}.log", workers=workers,
                                              threads=threads)) for n in range(servers)]
        urls = [server.url for server in running]
        if servers > 1:
            problems += sign_in_limits_hold(urls)
        driven = drive(urls, clients, seconds, seed=seed)
    stats, ledger, unexpected = driven.stats, driven.ledger, driven.unexpected
    if errors := stats.server_errors():
        problems.append(f"{len(errors)} answers 5xx, first: {errors[0].method} {errors[0].path} "
                        f"{errors[0].status} {errors[0].error}")
        for server in running:
            problems += server.tracebacks()[:3] or server.complaints()[:5]
    if failed := stats.failed_connections():
        problems.append(f"{len(failed)} requests without an answer, first: {failed[0].method} "
                        f"{failed[0].path}: {failed[0].error}")
    if locked := stats.locked():
        problems.append(f"{len(locked)} answers said 'database is locked', first: {locked[0].method} {locked[0].path}")
    if any("database is locked" in server.log_text().lower() for server in running):
        problems.append("a server logged 'database is locked'")
    problems += unexpected
    problems += driven.stale
    problems += check(database_url, ledger, env)
    return Outcome(stats, ledger, unexpected, problems, servers, driven.confirmed)


def report(outcome: Outcome, database_url: str, clients: int) -> str:
    stats = outcome.stats
    where = "gunicorn, loopback"
    if outcome.servers > 1:
        where = (f"{outcome.servers} gunicorn servers on one database, each client's requests to each in turn; "
                 + ", ".join(f"server {n + 1}: {count:,} requests" for n, count in enumerate(stats.per_server())))
    lines = [
        f"Accord under load: {clients} clients for {stats.seconds:.1f} s on {describe(database_url)} ({where})",
        stats.table(),
        "acknowledged: " + ", ".join(f"{n:,} {name}" for name, n in outcome.ledger.counts().items()),
        f"throughput: {stats.per_second:,.1f} requests/s; "
        f"5xx: {len(stats.server_errors())}; 'database is locked': {len(stats.locked())}; "
        f"failed connections: {len(stats.failed_connections())}",
    ]
    if outcome.problems:
        lines.append("PROBLEMS:")
        lines += [f"  - {p}" for p in outcome.problems]
    else:
        lines.append("every acknowledged change is in the history; the audit chain verifies")
        if outcome.servers > 1:
            lines.append(f"{outcome.confirmed:,} acknowledged changes read back at once from another server: "
                         "none stale; failed sign-ins counted on one server held on the others")
    return "\n".join(lines)


def temporary_sqlite(tmp: str) -> str:
    return f"sqlite:///{Path(tmp) / 'load.db'}"

