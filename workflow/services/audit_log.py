"""Reading the audit log: who may read which events, and verifying the chain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit
from ..actors import Actor
from ..errors import PermissionDenied
from ..models import AuditEvent, Recommendation, Role
from ..visibility import visible_clause
from ._common import Page, paginate

#: Roles that read the whole log: every event, including administration and sign-ins.
WHOLE_LOG_ROLES = frozenset({Role.auditor, Role.admin})


def reads_whole_log(actor: Actor) -> bool:
    return actor.active and bool(WHOLE_LOG_ROLES & actor.roles)


def list_events(
    session: Session,
    actor: Actor,
    *,
    recommendation: int | None = None,
    actor_name: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Page[AuditEvent]:
    """Events in chain order. Auditors and administrators read them all; everyone else reads
    the events of the recommendations they may see."""
    stmt = select(AuditEvent)
    if not reads_whole_log(actor):
        visible = select(Recommendation.id).where(visible_clause(actor))
        stmt = stmt.where(AuditEvent.recommendation_id.in_(visible))
    if recommendation is not None:
        stmt = stmt.where(AuditEvent.recommendation_id == recommendation)
    if actor_name:
        stmt = stmt.where(AuditEvent.actor == actor_name)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if since is not None:
        stmt = stmt.where(AuditEvent.occurred_at >= since)
    if until is not None:
        stmt = stmt.where(AuditEvent.occurred_at < until)
    return paginate(session, stmt.order_by(AuditEvent.seq), page=page, per_page=per_page)


def verify(session: Session, actor: Actor) -> audit.Verification:
    if not reads_whole_log(actor):
        raise PermissionDenied("Only auditors and administrators may verify the audit chain.")
    return audit.verify_chain(session)
