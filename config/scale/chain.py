"""The generated events, chained on to the existing head as `audit.record` chains them: the same
fields, the action one of `AuditAction`, the payload built by the services' own builders
(`workflow.audit_payloads`, called by the writer), hashed with `audit.event_hash`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session

from accord.workflow import audit
from accord.workflow.actors import SYSTEM
from accord.workflow.audit_actions import AuditAction
from accord.workflow.models import AuditEvent

from .rows import Rows


def lock(session: Session) -> None:
    """On PostgreSQL: no other writer may insert into the tables written (ids are assigned by
    the writer), then the chain's own lock, as `audit.record` takes it. On SQLite the write
    transaction (BEGIN IMMEDIATE) holds the database's single write lock already."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(
            "LOCK TABLE processes, process_agencies, recommendations, recommendation_addressees, "
            "revisions, threads, comments, approvals, audit_events IN SHARE ROW EXCLUSIVE MODE"
        ))
    audit.lock_chain(session)


class Chain:
    """Appends events after the chain's head, into the rows' buffer of audit events."""

    def __init__(self, connection: Connection, rows: Rows, users: dict[str, tuple[int, str, Any]]) -> None:
        head = connection.execute(
            select(AuditEvent.seq, AuditEvent.hash, AuditEvent.occurred_at).order_by(AuditEvent.seq.desc()).limit(1)
        ).one()
        self.seq, self.prev_hash, self.head_time = head.seq, head.hash, head.occurred_at
        self.rows, self.users = rows, users

    def append(
        self, when: datetime, actor: str | None, action: AuditAction, rec_id: int | None, *,
        from_state: str | None = None, to_state: str | None = None, revision: int | None = None,
        reason: str | None = None, payload: dict[str, Any],
    ) -> None:
        """One event, by `actor` (a username; None for the system operator)."""
        user_id, agency = self.users[actor][:2] if actor else (None, None)
        self.seq += 1
        fields = {
            "seq": self.seq,
            "occurred_at": when,
            "actor": actor or SYSTEM.username,
            "actor_id": user_id,
            "actor_agency": agency,
            "action": action.value,
            "recommendation_id": rec_id,
            "from_state": from_state,
            "to_state": to_state,
            "revision": revision,
            "reason": reason,
            "payload": audit.canonical_json(payload),
            "prev_hash": self.prev_hash,
        }
        fields["hash"] = self.prev_hash = audit.event_hash(fields)
        self.rows.add("audit_events", fields)
