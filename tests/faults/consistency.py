"""What must hold of a database whatever happened to the process writing it.

Every change of a use case is written in one transaction with its audit event, so after any
crash or fault: the chain verifies, every row a use case writes has its event and every such
event its rows, every recommendation stands where its last event left it, and everything a
client was told was saved (a 2xx) is there.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from accord.web.api.serializers import iso
from accord.workflow import audit
from accord.workflow.db import Database
from accord.workflow.models import (
    Agency,
    Approval,
    AuditEvent,
    Comment,
    ConflictCopy,
    Recommendation,
    Revision,
    Thread,
    User,
)

from .. import helpers

REVISION_ACTIONS = ("create", "edit")
DECISION_ACTIONS = ("approve", "object")


def sqlite_integrity(path: Path) -> list[str]:
    """`PRAGMA integrity_check` and `foreign_key_check` on the file, opened as any tool would
    (a leftover WAL is recovered on opening)."""
    connection = sqlite3.connect(path, timeout=30)
    try:
        integrity = [row[0] for row in connection.execute("PRAGMA integrity_check")]
        foreign = connection.execute("PRAGMA foreign_key_check").fetchall()
    finally:
        connection.close()
    problems = [] if integrity == ["ok"] else [f"integrity_check: {integrity}"]
    if foreign:
        problems.append(f"foreign_key_check: {foreign[:5]}")
    return problems


def consistency_problems(database: Database) -> list[str]:
    """Everything that does not hold, as sentences (an empty list when all is well)."""
    problems: list[str] = []
    with database.read() as session:
        verification = audit.verify_chain(session)
        if not verification.ok:
            problems.append(f"audit chain broken at event {verification.first_bad}: {verification.problem}")
        events = session.execute(
            select(
                AuditEvent.seq, AuditEvent.action, AuditEvent.recommendation_id,
                AuditEvent.to_state, AuditEvent.revision, AuditEvent.actor_agency,
                AuditEvent.payload,
            ).order_by(AuditEvent.seq)
        ).all()
        recs = {r.id: r for r in session.execute(
            select(Recommendation.id, Recommendation.state, Recommendation.revision,
                   Recommendation.merged_into_id)
        )}
        revisions = session.execute(select(Revision.recommendation_id, Revision.number)).all()
        approvals = session.execute(
            select(Approval.recommendation_id, Agency.code, Approval.decision, Approval.revision_number)
            .join(Agency, Agency.id == Approval.agency_id)
        ).all()
        threads = {t.id: t for t in session.execute(select(Thread.id, Thread.resolved_at))}
        comment_ids = set(session.scalars(select(Comment.id)))
        copies = {c.id: c for c in session.execute(select(ConflictCopy.id, ConflictCopy.discarded_at))}

    # Revisions: each (recommendation, number) has exactly one create/edit event, and back.
    revision_keys = Counter((r.recommendation_id, r.number) for r in revisions)
    revision_events = Counter(
        (e.recommendation_id, e.revision) for e in events if e.action in REVISION_ACTIONS
    )
    if revision_keys != revision_events:
        problems.append(
            f"revisions without their event: {sorted((revision_keys - revision_events).elements())[:10]}; "
            f"events without their revision: {sorted((revision_events - revision_keys).elements())[:10]}"
        )
    # Each recommendation: where its last state-changing event left it, at its last revision.
    last_state: dict[int, str] = {}
    last_merge: dict[int, int] = {}
    for e in events:
        if e.recommendation_id is not None and e.to_state is not None:
            last_state[e.recommendation_id] = e.to_state
        if e.action == "merge":
            last_merge[e.recommendation_id] = json.loads(e.payload)["into"]
    numbers: dict[int, list[int]] = {}
    for r in revisions:
        numbers.setdefault(r.recommendation_id, []).append(r.number)
    for rec in recs.values():
        if last_state.get(rec.id) != rec.state.value:
            problems.append(
                f"recommendation {rec.id} is {rec.state.value} but its last event says {last_state.get(rec.id)}"
            )
        if sorted(numbers.get(rec.id, [])) != list(range(1, rec.revision + 1)):
            problems.append(
                f"recommendation {rec.id} is at revision {rec.revision} with revisions {sorted(numbers.get(rec.id, []))}"
            )
        if rec.merged_into_id != last_merge.get(rec.id):
            problems.append(f"recommendation {rec.id} merged into {rec.merged_into_id}, events say {last_merge.get(rec.id)}")
    orphans = {e.recommendation_id for e in events if e.recommendation_id is not None} - set(recs)
    if orphans:
        problems.append(f"events of recommendations that do not exist: {sorted(orphans)}")
    # Decisions: the same multiset of (recommendation, agency, decision, revision) both ways.
    decision_rows = Counter((a.recommendation_id, a.code, a.decision.value, a.revision_number) for a in approvals)
    decision_events = Counter(
        (e.recommendation_id, e.actor_agency, e.action, e.revision) for e in events if e.action in DECISION_ACTIONS
    )
    if decision_rows != decision_events:
        problems.append(
            f"decisions without their event: {sorted((decision_rows - decision_events).elements())[:10]}; "
            f"events without their decision: {sorted((decision_events - decision_rows).elements())[:10]}"
        )
    # Threads and comments: each started by a thread.start event, each comment by its event.
    started: set[int] = set()
    event_comments: list[int] = []
    resolved: dict[int, bool] = {}
    kept_copies: set[int] = set()
    discarded: set[int] = set()
    for e in events:
        payload: dict[str, Any] = json.loads(e.payload) if e.payload else {}
        if e.action == "thread.start":
            started.add(payload["thread"])
            event_comments.append(payload["comment"])
        elif e.action == "comment":
            event_comments.append(payload["comment"])
        elif e.action in ("thread.resolve", "thread.reopen"):
            resolved[payload["thread"]] = e.action == "thread.resolve"
        elif e.action == "edit_conflict":
            kept_copies.add(payload["conflict_copy"])
        elif e.action == "conflict_copy.discard":
            discarded.add(payload["conflict_copy"])
    if started != set(threads):
        problems.append(f"threads without their event: {sorted(set(threads) - started)[:10]}; "
                        f"events without their thread: {sorted(started - set(threads))[:10]}")
    if Counter(event_comments) != Counter(comment_ids):
        problems.append(
            f"comments without their event: {sorted(comment_ids - set(event_comments))[:10]}; "
            f"events without their comment: {sorted(set(event_comments) - comment_ids)[:10]}"
        )
    for thread_id, thread in threads.items():
        if (thread.resolved_at is not None) != resolved.get(thread_id, False):
            problems.append(f"thread {thread_id} resolved={thread.resolved_at is not None}, events say otherwise")
    if kept_copies != set(copies):
        problems.append(f"conflict copies and their events differ: {sorted(kept_copies ^ set(copies))[:10]}")
    for copy_id, copy in copies.items():
        if (copy.discarded_at is not None) != (copy_id in discarded):
            problems.append(f"conflict copy {copy_id} discarded={copy.discarded_at is not None}, events say otherwise")
    return problems


@dataclass
class Acknowledged:
    """What clients were told was saved (2xx answers), to look for afterwards."""

    created: dict[int, str] = field(default_factory=dict)  # recommendation id → title
    revisions: set[tuple[int, int, str]] = field(default_factory=set)  # (rec, number, body)
    transitions: Counter = field(default_factory=Counter)  # (rec, action, to_state)
    decisions: set[tuple[int, str, str, int, str]] = field(default_factory=set)  # (rec, user, decision, revision, at)
    threads: set[int] = field(default_factory=set)
    comments: set[int] = field(default_factory=set)

    def merge(self, other: Acknowledged) -> None:
        self.created.update(other.created)
        self.revisions |= other.revisions
        self.transitions += other.transitions
        self.decisions |= other.decisions
        self.threads |= other.threads
        self.comments |= other.comments

    @property
    def count(self) -> int:
        return (len(self.created) + len(self.revisions) + sum(self.transitions.values())
                + len(self.decisions) + len(self.threads) + len(self.comments))


def missing_acknowledged(database: Database, acked: Acknowledged) -> list[str]:
    """Acknowledged writes that are not in the database."""
    problems: list[str] = []
    with database.read() as session:
        titles = {row.id: row.title for row in session.execute(select(Recommendation.id, Recommendation.title))}
        for rec_id, title in acked.created.items():
            if rec_id not in titles:
                problems.append(f"created recommendation {rec_id} ({title!r}) is missing")
        revisions = {tuple(row) for row in session.execute(
            select(Revision.recommendation_id, Revision.number, Revision.body)
        )}
        for key in sorted(acked.revisions - revisions)[:10]:
            problems.append(f"acknowledged revision {key[:2]} is missing or has other text")
        transitions = Counter(tuple(row) for row in session.execute(
            select(AuditEvent.recommendation_id, AuditEvent.action, AuditEvent.to_state)
            .where(AuditEvent.from_state.is_not(None))
        ))
        for key, count in acked.transitions.items():
            if transitions[key] < count:
                problems.append(f"{count} acknowledged {key} transitions, {transitions[key]} events")
        decisions = {
            (a.recommendation_id, a.username, a.decision.value, a.revision_number, iso(a.created_at))
            for a in session.execute(
                select(Approval.recommendation_id, User.username, Approval.decision,
                       Approval.revision_number, Approval.created_at)
                .join(User, User.id == Approval.user_id)
            )
        }
        for key in sorted(acked.decisions - decisions)[:10]:
            problems.append(f"acknowledged decision {key} is missing")
        thread_ids = set(session.scalars(select(Thread.id)))
        comment_ids = set(session.scalars(select(Comment.id)))
        if acked.threads - thread_ids:
            problems.append(f"acknowledged threads missing: {sorted(acked.threads - thread_ids)[:10]}")
        if acked.comments - comment_ids:
            problems.append(f"acknowledged comments missing: {sorted(acked.comments - comment_ids)[:10]}")
    return problems


def row_counts(database: Database) -> dict[str, int]:
    with database.read() as session:
        return helpers.row_counts(session)
