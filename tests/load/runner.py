"""One load run: prepare the database, serve it with gunicorn, drive the clients, check."""

from __future__ import annotations

from pathlib import Path

from .scenario import Outcome, check, drive
from .server import describe, prepare_database, served, server_env

#: The WSGI application gunicorn serves.
APP = "accord.web.wsgi:app"


def run_load(
    database_url: str, *, clients: int, seconds: float, workdir: Path, workers: int = 2,
    threads: int = 4, seed: int = 2019,
) -> Outcome:
    """Serve `database_url` (migrated, and the demo loaded when empty) with gunicorn, run
    `clients` people against it for `seconds`, then check everything they were told."""
    prepare_database(database_url)
    env = server_env(database_url, workdir / "instance")
    with served(APP, env, workdir / "gunicorn.log", workers=workers, threads=threads) as server:
        stats, ledger, unexpected = drive(server.url, clients, seconds, seed=seed)
    problems: list[str] = []
    if errors := stats.server_errors():
        problems.append(f"{len(errors)} answers 5xx, first: {errors[0].method} {errors[0].path} "
                        f"{errors[0].status} {errors[0].error}")
        problems += server.tracebacks()[:3] or server.complaints()[:5]
    if failed := stats.failed_connections():
        problems.append(f"{len(failed)} requests without an answer, first: {failed[0].method} "
                        f"{failed[0].path}: {failed[0].error}")
    if locked := stats.locked():
        problems.append(f"{len(locked)} answers said 'database is locked', first: {locked[0].method} {locked[0].path}")
    if "database is locked" in server.log_text().lower():
        problems.append("the server logged 'database is locked'")
    problems += unexpected
    problems += check(database_url, ledger, env)
    return Outcome(stats, ledger, unexpected, problems)


def report(outcome: Outcome, database_url: str, clients: int) -> str:
    stats = outcome.stats
    lines = [
        f"Accord under load: {clients} clients for {stats.seconds:.1f} s on {describe(database_url)} "
        f"(gunicorn, loopback)",
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
    return "\n".join(lines)


def temporary_sqlite(tmp: str) -> str:
    return f"sqlite:///{Path(tmp) / 'load.db'}"

