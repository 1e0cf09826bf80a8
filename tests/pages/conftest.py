"""A browser-like client for the pages: signs in through the real form, sends CSRF tokens."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from ..factories import PASSWORD

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class PageClient:
    """`pages.sign_in("kz_expert")`, then `pages.get(url)` / `pages.post(url, data)`; every
    POST carries the CSRF token of the signed-in session unless told otherwise."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.csrf = ""  # the signed-in session's token, once signed in

    def csrf_token(self, path: str = "/sign-in") -> str:
        found = _CSRF.search(self.client.get(path).get_data(as_text=True))
        assert found, f"no CSRF token on {path}"
        return found.group(1)

    def sign_in(self, username: str, password: str = PASSWORD) -> PageClient:
        token = self.csrf_token("/sign-in")
        response = self.client.post(
            "/sign-in", data={"username": username, "password": password, "csrf_token": token}
        )
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
        self.csrf = self.csrf_token("/")
        return self

    def get(self, path: str, **kwargs: Any):
        # Buffered: a streamed body is read, and its response closed, before the test goes on.
        kwargs.setdefault("buffered", True)
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict | None = None, *, csrf: bool = True, **kwargs: Any):
        data = dict(data or {})
        if csrf and "csrf_token" not in data:
            data["csrf_token"] = self.csrf or self.csrf_token("/")
        return self.client.post(path, data=data, **kwargs)

    def text(self, path: str) -> str:
        response = self.get(path)
        return response.get_data(as_text=True)


@pytest.fixture
def pages(app, world, session) -> PageClient:
    """A page client; the world is committed so the application's sessions see it."""
    session.commit()
    return PageClient(app.test_client())


@pytest.fixture
def make_client(app, world, session):
    """More clients, one per person, for tests where several people act."""
    session.commit()
    return lambda: PageClient(app.test_client())


@pytest.fixture
def as_user(app, world, session):
    """`as_user("auditor")`: a fresh client signed in as that user of the world."""
    session.commit()  # the world is visible to the application's sessions
    return lambda username: PageClient(app.test_client()).sign_in(username)
