"""Serving Accord (or any WSGI app) with gunicorn for a load run, and preparing its database.

gunicorn runs as a child process in a process group of its own, so stopping it stops its
workers too, whatever happens to the run (`served` kills the group in a `finally`).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from accord.migrations import schema
from accord.workflow.db import Database

#: Where gunicorn starts, so that `web.wsgi` and `tests.benchmarks.floor` import.
ROOT = Path(__file__).resolve().parents[2]

#: The production WSGI server's settings for every run: two worker processes (the machine has
#: two cores), four threads each, connections kept alive between a client's requests.
WORKERS = 2
THREADS = 4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare_database(url: str) -> None:
    """Migrate the database, and load the demo into it when it is empty."""
    from accord.config import demo

    database = Database(url)
    try:
        schema.upgrade(database.engine)
        with database.write() as session:
            demo.load(session)
    finally:
        database.dispose()


def server_env(database_url: str, instance: Path) -> dict[str, str]:
    """The environment `web.wsgi` reads its settings from."""
    return {
        **os.environ,
        "ACCORD_DATABASE_URL": database_url,
        "ACCORD_INSTANCE_PATH": str(instance),
        # One key for every worker, as a deployment of several processes must have.
        "ACCORD_SECRET_KEY": secrets.token_urlsafe(48),
    }


@dataclass
class Served:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def complaints(self) -> list[str]:
        """What the server logged beyond gunicorn's own start and stop notices."""
        return [line for line in self.log_text().splitlines() if line.strip() and "[INFO]" not in line]

    def tracebacks(self) -> list[str]:
        """Each traceback the server logged (an unhandled exception behind a 500)."""
        found, current = [], None
        for line in self.log_text().splitlines():
            if line.startswith("Traceback"):
                current = [line]
                found.append(current)
            elif current is not None:
                current.append(line)
                if line and not line.startswith((" ", "\t")):
                    current = None  # the exception line ends it
        return ["\n".join(lines) for lines in found]


@contextmanager
def served(
    app: str, env: dict[str, str], log: Path, *, workers: int = WORKERS, threads: int = THREADS,
    health: str = "/health", start_timeout: float = 60.0,
) -> Iterator[Served]:
    """`gunicorn -w W --threads T -b 127.0.0.1:PORT APP` until the block ends."""
    port = free_port()
    command = [
        sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads", str(threads),
        "--bind", f"127.0.0.1:{port}", "--keep-alive", "30", "--graceful-timeout", "5",
        "--access-logfile", "-" if os.environ.get("ACCORD_LOAD_ACCESS_LOG") else "/dev/null",
        "--error-logfile", "-", app,
    ]
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as sink:
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True, cwd=ROOT)
    server = Served(f"http://127.0.0.1:{port}", process, log)
    try:
        _wait_until_up(server, health, start_timeout)
        yield server
    finally:
        stop(process)


def _wait_until_up(server: Served, health: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(server.url + health, timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.process.returncode}:\n{server.log_text()[-3000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"gunicorn did not answer {health} within {timeout:.0f} s:\n"
                               f"{server.log_text()[-3000:]}")
        time.sleep(0.2)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop gunicorn and its workers: TERM to the whole group (the arbiter stops its workers
    gracefully), then KILL to the group if it has not ended within 15 s."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def describe(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)
