"""`accord serve --demo` as a person runs it: a real process, a real port, a real database."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import func, select

from accord.config import demo
from accord.workflow.models import User


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(fresh_database, tmp_path):
    command = shutil.which("accord", path=str(Path(sys.executable).parent)) or shutil.which("accord")
    assert command, "the console command `accord` is not installed: pip install -e ."
    port = free_port()
    env = {**os.environ,
           "ACCORD_DATABASE_URL": fresh_database.url.render_as_string(hide_password=False),
           "ACCORD_INSTANCE_PATH": str(tmp_path / "instance")}
    log = tmp_path / "serve.log"
    with log.open("w") as sink:
        process = subprocess.Popen(
            [command, "serve", "--demo", "--port", str(port)],
            cwd=tmp_path, env=env, stdout=sink, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as answer:
                    yield json.load(answer), process
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"accord serve did not come up: {log.read_text()}")
                time.sleep(0.2)
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serve_migrates_loads_the_demo_and_answers(served, fresh_database):
    health, _ = served
    assert health == {"ok": True, "schema": health["expected_schema"], "expected_schema": health["expected_schema"]}
    with fresh_database.read() as session:
        assert session.scalar(select(func.count()).select_from(User)) == len(demo.USERS)
