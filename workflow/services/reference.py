"""Agencies and processes, as people pick them from lists."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..actors import Actor
from ..models import Agency, Process
from ..visibility import visible_processes_clause
from ._common import Page, paginate


def list_agencies(session: Session, actor: Actor, *, page: int = 1, per_page: int = 50) -> Page[Agency]:
    return paginate(session, select(Agency).order_by(Agency.code), page=page, per_page=per_page)


def list_processes(session: Session, actor: Actor, *, page: int = 1, per_page: int = 50) -> Page[Process]:
    """Processes the actor's agency takes part in; auditors and administrators see them all."""
    stmt = select(Process).where(visible_processes_clause(actor)).order_by(Process.id)
    return paginate(session, stmt, page=page, per_page=per_page)
