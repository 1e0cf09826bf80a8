"""Health of the running service, for operators and load balancers."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from workflow import schema
from workflow.models import AuditEvent

log = logging.getLogger(__name__)

blueprint = Blueprint("status", __name__)


@blueprint.get("/health")
def health() -> ResponseReturnValue:
    """Whether the database answers and its schema is current."""
    database = current_app.extensions["accord.database"]
    head = schema.head_revision()
    try:
        with database.read() as session:
            # the head's sequence number is the count (the chain has no gaps) and an index lookup
            events = session.scalar(select(func.coalesce(func.max(AuditEvent.seq), 0)))
        current = schema.current_revision(database.engine)
    except OperationalError as error:
        log.warning("health: database unreachable: %s", error.orig)
        body = {"ok": False, "database": "unreachable", "expected_schema": head}
        return jsonify(body), 503, {"Retry-After": "2"}
    body = {"ok": current == head, "schema": current, "expected_schema": head, "audit_events": events}
    return jsonify(body), 200 if body["ok"] else 503
