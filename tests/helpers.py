"""Assertions shared by the tests."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.workflow.models import (
    Approval,
    AuditEvent,
    Comment,
    ConflictCopy,
    Recommendation,
    Revision,
    Thread,
    utcnow,
)
from accord.workflow.services import auth, sign_in_limits

_CSRF_VALUE = re.compile(r'(name="csrf_token" value=")[^"]+(")')


def without_csrf_token(html: str) -> str:
    """A page with its CSRF token's value blanked: Flask-WTF signs the session's token with the
    current second, so two answers of the same page may differ there and nowhere else."""
    return _CSRF_VALUE.sub(r"\1…\2", html)


#: The tables the use cases write.
WRITTEN_TABLES = (Recommendation, Revision, Approval, Thread, Comment, ConflictCopy, AuditEvent)


def row_counts(session: Session) -> dict[str, int]:
    """How many rows each table the use cases write holds."""
    return {model.__tablename__: session.scalar(select(func.count()).select_from(model)) for model in WRITTEN_TABLES}


def snapshot(session: Session) -> dict[str, Any]:
    """Everything a refused action must leave as it was: row counts, each recommendation's
    state, revision and version, each thread's resolution, and the head of the audit chain."""
    session.expire_all()
    counts = row_counts(session)
    recommendations = session.execute(
        select(
            Recommendation.id, Recommendation.state, Recommendation.revision,
            Recommendation.version, Recommendation.title, Recommendation.body,
            Recommendation.merged_into_id,
        ).order_by(Recommendation.id)
    ).all()
    threads = session.execute(select(Thread.id, Thread.resolved_at).order_by(Thread.id)).all()
    head = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1))
    return {"counts": counts, "recommendations": recommendations, "threads": threads, "head": head}


def events(session: Session) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))


class Clock:
    """The time signing in sees (its limits, and the sessions and tokens it issues and checks),
    standing still until a test moves it: a delay of one second is exactly one second, however
    slow the machine."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now: datetime = utcnow()
        for module in (sign_in_limits, auth):
            monkeypatch.setattr(module, "utcnow", lambda: self.now)

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
