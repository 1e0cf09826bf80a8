"""Fault tests: a real `accord serve` process, killed, restarted and cut off from its database.

`demo_database` is a fresh database of the test's own (SQLite file or PostgreSQL database, as
the suite runs), migrated, holding the demo, with an API token for each demo person issued
through the service (so no slow password hashing in the server). `servers` starts
`accord serve` processes on it; every process it started is killed when the test ends.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from accord.config import demo
from accord.workflow import services
from accord.workflow.db import Database
from accord.workflow.models import User

#: The people the tests act as (see README, "The demo").
PEOPLE = ("aigerim", "serik", "dana", "azamat", "ilze", "kadri", "auditor")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class DemoDatabase:
    url: str
    database: Database
    tokens: dict[str, str]
    dialect: str

    @property
    def sqlite_path(self) -> Path:
        assert self.dialect == "sqlite"
        return Path(self.database.url.database)


@pytest.fixture
def demo_database(database_server) -> Iterator[DemoDatabase]:
    url = database_server.new_database()
    database = Database(url)
    try:
        with database.write() as session:
            outcome = demo.load(session)
            assert outcome.loaded, outcome.message
        tokens = {}
        with database.write() as session:
            for username in PEOPLE:
                user = session.scalar(select(User).where(User.username == username))
                tokens[username] = services.issue_token(session, user).token
        yield DemoDatabase(url, database, tokens, database_server.dialect)
    finally:
        database.dispose()


@dataclass
class Server:
    """One `accord serve` process at a time, on a fixed port, restartable."""

    database_url: str
    workdir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, timeout: float = 90, wait: bool = True) -> dict | None:
        """Start the server and wait until /health answers 200; returns its answer."""
        assert self.process is None or self.process.poll() is not None, "already running"
        command = shutil.which("accord", path=str(Path(sys.executable).parent)) or shutil.which("accord")
        assert command, "the console command `accord` is not installed: pip install -e ."
        env = {
            **os.environ,
            "ACCORD_DATABASE_URL": self.database_url,
            "ACCORD_INSTANCE_PATH": str(self.workdir / "instance"),
        }
        self.starts += 1
        log = self.log_path(self.starts)
        with log.open("w") as sink:
            self.process = subprocess.Popen(
                [command, "serve", "--demo", "--port", str(self.port)],
                cwd=self.workdir, env=env, stdout=sink, stderr=subprocess.STDOUT,
            )
        if not wait:
            return None
        deadline = time.monotonic() + timeout
        while True:
            try:
                answer = requests.get(f"{self.url}/health", timeout=5)
                if answer.status_code == 200:
                    return answer.json()
            except requests.RequestException:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    f"accord serve did not come up (start {self.starts}): {log.read_text()}"
                )
            time.sleep(0.1)

    def log_path(self, start: int) -> Path:
        return self.workdir / f"serve-{start}.log"

    def log(self) -> str:
        return self.log_path(self.starts).read_text() if self.starts else ""

    def kill(self) -> None:
        """SIGKILL: no shutdown, no rollback, no flush; as a power cut looks to the process."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[Server]]:
    """Servers a test starts (append them); each is stopped, or killed, at the end."""
    started: list[Server] = []
    try:
        yield started
    finally:
        for server in started:
            try:
                server.stop()
            finally:
                server.kill()


def make_server(servers: list[Server], database_url: str, workdir: Path) -> Server:
    workdir.mkdir(parents=True, exist_ok=True)
    server = Server(database_url, workdir)
    servers.append(server)
    return server
