"""Clients for the security suite: one API client and one page client per person, and the
DB snapshot that says whether anything changed."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.workflow.models import Agency, Credential, Process, SignInFailure, User

from ..api.conftest import ApiClient
from ..helpers import snapshot
from ..pages.conftest import PageClient


def full_snapshot(session: Session) -> dict[str, Any]:
    """`helpers.snapshot` and the rest of what a request could change: agencies, users (their
    password hashes and status), processes, and which sessions and tokens are live. A token's
    `last_used_at` is left out: it is bookkeeping, written (at most once a minute) by reads;
    so are dead tokens, which sign-ins delete a batch at a time."""
    state = snapshot(session)
    state["users"] = session.execute(
        select(User.id, User.username, User.display_name, User.password_hash, User.active).order_by(User.id)
    ).all()
    state["agencies"] = session.execute(select(Agency.id, Agency.code, Agency.name).order_by(Agency.id)).all()
    state["processes"] = session.execute(select(Process.id, Process.title).order_by(Process.id)).all()
    state["tokens"] = session.execute(
        select(Credential.id, Credential.expires_at).where(Credential.revoked_at.is_(None)).order_by(Credential.id)
    ).all()
    state["sign_in_failures"] = session.scalar(select(func.count()).select_from(SignInFailure))
    return state


class People:
    """`people.api("kg_expert")` and `people.page("kg_expert")`: clients signed in as that user
    of the world, made once per test and kept."""

    def __init__(self, app) -> None:
        self.app = app
        self.api_client = ApiClient(app.test_client())
        self._pages: dict[str, PageClient] = {}

    def api(self, username: str) -> ApiClient:
        self.api_client.token(username)
        return self.api_client

    def page(self, username: str | None) -> PageClient:
        """A page client signed in as `username`; None: a visitor who is not signed in."""
        key = username or ""
        if key not in self._pages:
            client = PageClient(self.app.test_client())
            self._pages[key] = client.sign_in(username) if username else client
        return self._pages[key]

    def request(self, username: str | None, method: str, path: str, **kwargs: Any):
        """`method path` as `username`: with their bearer token under /api/, else with their
        browser session (and its CSRF token in a form, unless `data` brings its own)."""
        if path.startswith("/api/"):
            headers = kwargs.pop("headers", {})
            if username:
                headers["Authorization"] = f"Bearer {self.api_client.token(username)}"
            return self.api_client.client.open(path, method=method, headers=headers, buffered=True, **kwargs)
        client = self.page(username)
        if method != "GET" and "json" not in kwargs:
            data = dict(kwargs.pop("data", None) or {})
            if client.csrf:
                data.setdefault("csrf_token", client.csrf)
            kwargs["data"] = data
        return client.client.open(path, method=method, buffered=True, **kwargs)


@pytest.fixture
def people(app, world, session) -> People:
    session.commit()  # the world is visible to the application's sessions
    return People(app)
