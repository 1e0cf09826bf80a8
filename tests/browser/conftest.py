"""Browser tests: Debian's chromium, driven through Playwright, against a live server.

The server is the real application (`web.create_app`) on a database of its own, migrated and
loaded with the demo, served by werkzeug in a background thread on 127.0.0.1 and a free port.
Each person in a test gets a browser context of their own, so their sessions stay apart.

When /usr/bin/chromium is missing the tests skip, unless ACCORD_REQUIRE_BROWSER=1 (as in CI),
where they fail instead. Playwright's own browsers are never used (nor downloaded).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from accord.config import demo
from accord.config.settings import Settings
from accord.web import create_app
from accord.workflow.db import Database
from accord.workflow.models import Recommendation

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MISSING_CHROMIUM = "Debian's chromium is not installed (apt-get install chromium)"
REQUIRE_ENV = "ACCORD_REQUIRE_BROWSER"

#: Where full-page screenshots go: artifacts/screenshots/ at the project root.
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test in tests/browser is a browser test; without chromium it skips (or fails,
    when the browser is required)."""
    mine = [item for item in items if HERE in Path(str(item.path)).resolve().parents]
    for item in mine:
        item.add_marker(pytest.mark.browser)
        if not chromium_available() and os.environ.get(REQUIRE_ENV) != "1":
            item.add_marker(pytest.mark.skip(reason=MISSING_CHROMIUM))


def chromium_available() -> bool:
    return os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)


@pytest.fixture(scope="session", autouse=True)
def _chromium_present() -> None:
    """Runs before any browser or server is started: skip, or fail when it is required."""
    if chromium_available():
        return
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(MISSING_CHROMIUM, pytrace=False)
    pytest.skip(MISSING_CHROMIUM)


@pytest.fixture(scope="session")
def browser_type_launch_args(_chromium_present: None) -> dict[str, Any]:
    """pytest-playwright launches Debian's chromium, never a browser of its own."""
    return {"executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


# --- the live server ---------------------------------------------------------------------


class _QuietHandler(WSGIRequestHandler):
    """No access log on the test output (errors are still logged)."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@dataclass
class LiveServer:
    url: str
    database: Database
    _server: BaseWSGIServer = field(repr=False)

    def recommendation_id(self, title: str) -> int:
        """The id of the recommendation with this title (to build a URL a person would type)."""
        with self.database.read() as session:
            rec_id = session.scalar(select(Recommendation.id).where(Recommendation.title == title))
        assert rec_id is not None, f"no recommendation titled {title!r}"
        return rec_id


@pytest.fixture(scope="session")
def live_server(
    _chromium_present: None, database_server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The application on a fresh, migrated database holding the demo, served in a thread."""
    database = Database(database_server.new_database())
    with database.write() as session:
        outcome = demo.load(session)
    assert outcome.loaded, outcome.message
    instance = tmp_path_factory.mktemp("instance")
    app = create_app(Settings.from_env({"ACCORD_INSTANCE_PATH": str(instance)}), database=database)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="accord-live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", database, server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        database.dispose()


@pytest.fixture(scope="session")
def browser_context_args(live_server: LiveServer) -> dict[str, Any]:
    """Every context opens relative URLs on the live server, in English, at a desktop size."""
    return {"base_url": live_server.url, "locale": "en-GB", "viewport": {"width": 1280, "height": 900}}


# --- people and screenshots ----------------------------------------------------------------


class ConsoleWatch:
    """What the browser reports on a page's console as an error (a Content Security Policy
    violation is one), and uncaught script exceptions."""

    def __init__(self, page: Any, who: str = "") -> None:
        self.who = who
        self.errors: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.errors.append(f"{who}: uncaught: {error}"))

    def _on_console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(f"{self.who}: {message.text} ({message.location.get('url', '')})")

    @property
    def csp_violations(self) -> list[str]:
        return [e for e in self.errors if "Content Security Policy" in e]

    @property
    def uncaught(self) -> list[str]:
        return [e for e in self.errors if ": uncaught: " in e]


@pytest.fixture
def consoles() -> list[ConsoleWatch]:
    """The console of every page `sign_in` opened in this test."""
    return []


@pytest.fixture
def sign_in(new_context, consoles: list[ConsoleWatch]) -> Callable[..., Any]:
    """`sign_in("aigerim")` → a page of a browser context of aigerim's own, signed in through
    the real form with the keyboard, on the inbox. Its console is watched (see `consoles`)."""
    from playwright.sync_api import expect

    def _sign_in(username: str, password: str = demo.DEMO_PASSWORD, *, screenshot: str | None = None):
        page = new_context().new_page()
        consoles.append(ConsoleWatch(page, username))
        page.goto("/sign-in")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        if screenshot:
            shoot(page, screenshot)
        page.get_by_label("Password").press("Enter")
        expect(page.get_by_role("heading", name="What awaits you")).to_be_visible()
        return page

    return _sign_in


def shoot(page: Any, name: str) -> Path:
    """A full-page screenshot into artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^a-z0-9_-]+', '-', name.lower())}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
