"""Health of the running service, for operators and load balancers."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from workflow import schema
from workflow.models import AuditEvent

blueprint = Blueprint("status", __name__)


@blueprint.get("/health")
def health() -> ResponseReturnValue:
    """Whether the database answers and its schema is current."""
    database = current_app.extensions["accord.database"]
    with database.read() as session:
        events = session.scalar(select(func.count()).select_from(AuditEvent))
    current = schema.current_revision(database.engine)
    head = schema.head_revision()
    body = {"ok": current == head, "schema": current, "expected_schema": head, "audit_events": events}
    return jsonify(body), 200 if body["ok"] else 503
