"""Health of the running service, for operators and load balancers."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import OperationalError

from accord.migrations import schema

log = logging.getLogger(__name__)

blueprint = Blueprint("status", __name__)


@blueprint.get("/health")
def health() -> ResponseReturnValue:
    """Whether the database answers and its schema is current."""
    database = current_app.extensions["accord.database"]
    head = schema.head_revision()
    try:  # reading the schema's version is the database answering
        current = schema.current_revision(database.engine)
    except OperationalError as error:
        log.warning("health: database unreachable: %s", error.orig)
        body = {"ok": False, "database": "unreachable", "expected_schema": head}
        return jsonify(body), 503, {"Retry-After": "2"}
    # Nothing about the data: anyone may ask, signed in or not.
    body = {"ok": current == head, "schema": current, "expected_schema": head}
    return jsonify(body), 200 if body["ok"] else 503
