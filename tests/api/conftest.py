"""An API client signed in as any user of the test world."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from ..factories import PASSWORD


class ApiClient:
    """`api.get(path, as_="kz_expert")`: calls /api/v1 with a token of that user."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.tokens: dict[str, str] = {}

    def token(self, username: str) -> str:
        if username not in self.tokens:
            answer = self.client.post("/api/v1/tokens", json={"username": username, "password": PASSWORD})
            assert answer.status_code == 201, answer.json
            self.tokens[username] = answer.json["token"]
        return self.tokens[username]

    def call(self, method: str, path: str, as_: str | None = None, **kwargs: Any):
        headers = kwargs.pop("headers", {})
        if as_:
            headers["Authorization"] = f"Bearer {self.token(as_)}"
        response = self.client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)
        assert response.content_type == "application/json" or response.status_code == 204, (
            f"{method} {path} answered {response.status_code} {response.content_type}"
        )
        return response

    def get(self, path: str, **kwargs: Any):
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any):
        return self.call("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any):
        return self.call("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any):
        return self.call("DELETE", path, **kwargs)


@pytest.fixture
def api(app, world, session) -> ApiClient:
    session.commit()  # the world is visible to the application's sessions
    return ApiClient(app.test_client())
