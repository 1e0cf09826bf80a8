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
                    raise AssertionError(f"accord serve did not come up: {log.read_text()}") from None
                time.sleep(0.2)
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serve_migrates_loads_the_demo_and_answers(served, fresh_database):
    health, _ = served
    assert health == {"ok": True, "schema": health["expected_schema"], "expected_schema": health["expected_schema"]}
    with fresh_database.read() as session:
        assert session.scalar(select(func.count()).select_from(User)) == len(demo.USERS)


@pytest.mark.parametrize("application_reads_them_too", [False, True], ids=["waitress alone", "as served"])
def test_serve_tells_waitress_of_the_trusted_proxies(fresh_database, tmp_path, application_reads_them_too):
    """Behind one trusted proxy, waitress finds the client (the last address the proxy
    appended, not what the client wrote before it), and the application, reading the same
    headers as `accord serve` runs it, agrees."""
    import threading
    import urllib.error

    import waitress

    from accord.config.settings import Settings
    from accord.web import create_app
    from accord.web.cli import waitress_proxy_options
    from accord.workflow.models import SignInFailure

    settings = Settings.from_env({"ACCORD_INSTANCE_PATH": str(tmp_path), "ACCORD_PROXIES": "1"})
    assert waitress_proxy_options(Settings.from_env({"ACCORD_INSTANCE_PATH": str(tmp_path)})) == {}
    app_settings = settings if application_reads_them_too else Settings.from_env({"ACCORD_INSTANCE_PATH": str(tmp_path)})
    server = waitress.create_server(create_app(app_settings, database=fresh_database), host="127.0.0.1", port=0,
                                    threads=1, **waitress_proxy_options(settings))
    runner = threading.Thread(target=server.run, daemon=True)
    runner.start()
    try:
        request = urllib.request.Request(
            f"http://127.0.0.1:{server.effective_port}/api/v1/tokens", method="POST",
            data=json.dumps({"username": "nobody", "password": "a wrong guess"}).encode(),
            headers={"Content-Type": "application/json", "X-Forwarded-For": "192.0.2.1, 203.0.113.66"},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        refused.value.close()
        assert refused.value.code == 401
    finally:
        server.close()
        runner.join(timeout=10)
    with fresh_database.read() as session:
        assert session.scalars(select(SignInFailure.remote_addr)).all() == ["203.0.113.66"]

