"""The audit log and its verification."""

from __future__ import annotations

from flask import Response, jsonify

from accord.workflow import services

from . import blueprint, serializers
from .context import actor, database
from .parsing import query
from .requests import AuditFilters


@blueprint.get("/audit")
def list_events() -> Response:
    """Audit events in chain order (all for auditors and administrators; administrators read
    those of other agencies' private drafts without their words)."""
    filters = query(AuditFilters).arguments()
    with database().read() as session:
        result = services.list_events(session, actor(), **filters)
        return jsonify(serializers.page(result, lambda e: serializers.event(e, result.withholds(e))))


@blueprint.get("/audit/verify")
def verify() -> Response:
    """Walk the chain (auditors and administrators)."""
    with database().read() as session:
        result = services.verify(session, actor())
    return jsonify(serializers.verification(result))
