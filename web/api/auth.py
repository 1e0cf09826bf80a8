"""Bearer tokens: issue, check on every call, revoke."""

from __future__ import annotations

from flask import Response, g, jsonify, request

from accord.workflow import services
from accord.workflow.services.auth import WRONG_CREDENTIALS

from . import blueprint
from .context import database
from .errors import error_response
from .parsing import body
from .requests import TokenRequest
from .serializers import token

#: Endpoints one may call without a token.
PUBLIC_ENDPOINTS = {"api.create_token"}


@blueprint.before_request
def authenticate_request() -> Response | None:
    """Resolve `Authorization: Bearer …` to an active user, or answer 401."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return error_response(401, "unauthenticated", "Send a bearer token: Authorization: Bearer <token>.")
    with database().read() as session:
        record = services.find_token(session, token.strip())
        if record is None:
            return error_response(401, "invalid_token", "The token is missing, expired, revoked or unknown.")
        g.actor, g.token_id = record.user, record.id
        touch = services.needs_touch(record)
    if touch:
        with database().write() as session:
            services.touch_token(session, g.token_id)
    return None


@blueprint.post("/tokens")
def create_token() -> tuple[Response, int] | Response:
    """Exchange a username and password for a token."""
    credentials = body(TokenRequest)
    remote = request.remote_addr or "unknown"
    with database().write() as session:
        user = services.sign_in(session, credentials.username, credentials.password, remote_addr=remote)
        if user is None:
            # The failure is committed with this transaction: it counts towards the limit.
            response = error_response(401, "wrong_credentials", WRONG_CREDENTIALS)
        else:
            issued = services.issue_token(session, user)
            response = jsonify(token(issued))
            response.status_code = 201
    return response


@blueprint.delete("/tokens/current")
def revoke_current_token() -> tuple[str, int]:
    """Revoke the token of this call; it stops working at once."""
    with database().write() as session:
        services.revoke_token(session, g.actor, g.token_id)
    return "", 204
