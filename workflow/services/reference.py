"""Agencies and processes, as people pick them from lists."""

from __future__ import annotations

from sqlalchemy import false, select
from sqlalchemy.orm import Session

from ..actors import Actor
from ..models import Agency, Process, Role, process_agencies
from ._common import Page, paginate


def list_agencies(session: Session, actor: Actor, *, page: int = 1, per_page: int = 50) -> Page[Agency]:
    return paginate(session, select(Agency).order_by(Agency.code), page=page, per_page=per_page)


#: Roles that see every process, whether or not their agency takes part.
ALL_PROCESSES_ROLES = frozenset({Role.auditor, Role.admin})


def can_see_process(actor: Actor, process: Process) -> bool:
    if not actor.active:
        return False
    if ALL_PROCESSES_ROLES & actor.roles:
        return True
    return actor.agency is not None and any(a.id == actor.agency.id for a in process.agencies)


def list_processes(session: Session, actor: Actor, *, page: int = 1, per_page: int = 50) -> Page[Process]:
    """Processes the actor's agency takes part in; auditors and administrators see them all."""
    stmt = select(Process).order_by(Process.id)
    if not actor.active:
        stmt = stmt.where(false())
    elif not (ALL_PROCESSES_ROLES & actor.roles):
        agency_id = actor.agency.id if actor.agency else None
        stmt = stmt.where(
            Process.id.in_(
                select(process_agencies.c.process_id).where(process_agencies.c.agency_id == agency_id)
            )
        )
    return paginate(session, stmt, page=page, per_page=per_page)
