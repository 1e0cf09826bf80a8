"""Domain objects as the JSON shapes of docs/api.md, declared in `shapes.py`. Times are ISO 8601 UTC.

They build plain dicts (no validation on the way out: the answer cache and the statement counts
pin their speed); the annotations let a type checker hold each one to its declared shape."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import TypeVar, overload

from flask import url_for

from accord.workflow import audit
from accord.workflow.actors import Actor
from accord.workflow.models import (
    Agency,
    Approval,
    AuditEvent,
    Comment,
    ConflictCopy,
    Process,
    Recommendation,
    Revision,
    Thread,
    User,
)
from accord.workflow.policy import allowed_actions
from accord.workflow.services import Page
from accord.workflow.services.auth import IssuedToken

from . import shapes

T = TypeVar("T")
Shape = TypeVar("Shape")


@overload
def iso(moment: datetime) -> str: ...
@overload
def iso(moment: None) -> None: ...
@overload
def iso(moment: datetime | None) -> str | None: ...
def iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def page(result: Page[T], render: Callable[[T], Shape]) -> shapes.Page[Shape]:
    return {
        "items": [render(item) for item in result.items],
        "page": result.page,
        "per_page": result.per_page,
        "total": result.total,
    }


def token(issued: IssuedToken) -> shapes.Token:
    return {"token": issued.token, "expires_at": iso(issued.record.expires_at)}


def agency(a: Agency) -> shapes.Agency:
    return {"code": a.code, "name": a.name, "country": a.country, "kind": a.kind.value}


def me(user: User) -> shapes.Me:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "agency": {"code": user.agency.code, "name": user.agency.name, "kind": user.agency.kind.value},
        "roles": sorted(user.roles),
    }


def process(p: Process) -> shapes.Process:
    return {"id": p.id, "title": p.title, "agencies": [a.code for a in p.agencies]}


def approval(a: Approval) -> shapes.Approval:
    return {
        "agency": a.agency.code,
        "decision": a.decision.value,
        "revision": a.revision_number,
        "stale": a.is_stale,
        "by": a.user.username,
        "at": iso(a.created_at),
        "reason": a.reason,
    }


def recommendation(rec: Recommendation, actor: Actor) -> shapes.Recommendation:
    return {
        "id": rec.id,
        "process": rec.process_id,
        "title": rec.title,
        "body": rec.body,
        "body_html": rec.body_html,
        "state": rec.state.value,
        "proposing_agency": rec.proposing_agency.code,
        "addressed_agencies": [a.code for a in rec.addressed_agencies],
        "revision": rec.revision,
        "created_by": rec.created_by.username,
        "created_at": iso(rec.created_at),
        "updated_at": iso(rec.updated_at),
        "allowed_actions": allowed_actions(actor, rec),
        # Each addressed agency's standing decision (its latest), stale or not.
        "approvals": [
            approval(a)
            for a in sorted(rec.standing_decisions().values(), key=lambda a: a.agency.code)
        ],
        "merged_into": rec.merged_into_id,
        "merged_from": [r.id for r in rec.merged_from],
    }


def revision_summary(r: Revision) -> shapes.RevisionSummary:
    return {
        "number": r.number,
        "author": r.author.username,
        "created_at": iso(r.created_at),
        "summary": r.summary,
        "state": r.state.value,
    }


def revision(r: Revision) -> shapes.Revision:
    return {
        "number": r.number,
        "title": r.title,
        "body": r.body,
        "body_html": r.body_html,
        "author": r.author.username,
        "created_at": iso(r.created_at),
        "summary": r.summary,
        "state": r.state.value,
        "base_revision": r.base_number,
    }


def diff(old: int, new: int, ops: Sequence[tuple[str, str]]) -> shapes.Diff:
    return {"from": old, "to": new, "ops": [list(op) for op in ops]}


def comment(c: Comment) -> shapes.Comment:
    return {
        "id": c.id,
        "author": c.author.username,
        "body": c.body,
        "body_html": c.body_html,
        "created_at": iso(c.created_at),
    }


def thread(t: Thread) -> shapes.Thread:
    return {
        "id": t.id,
        "recommendation": t.recommendation_id,
        "revision": t.revision_number,
        "quote": t.quote,
        "passage_changed": t.passage_changed,
        "resolved": t.is_resolved,
        "resolved_by": t.resolved_by.username if t.resolved_by else None,
        "resolved_at": iso(t.resolved_at),
        "created_by": t.created_by.username,
        "created_at": iso(t.created_at),
        "comments": [comment(c) for c in t.comments],
    }


def conflict_copy(c: ConflictCopy) -> shapes.ConflictCopy:
    return {
        "id": c.id,
        "recommendation": c.recommendation_id,
        "base_revision": c.base_revision,
        "conflicting_revision": c.conflicting_revision,
        "title": c.title,
        "body": c.body,
        "summary": c.summary,
        "created_at": iso(c.created_at),
        "discarded": c.discarded_at is not None,
    }


def conflict_outcome(rec: Recommendation, copy: ConflictCopy) -> shapes.ConflictOutcome:
    """Where the text of an edit that could not be merged was kept (`EditConflict`)."""
    return {
        "current_revision": rec.revision,
        "your_text_saved_as": copy.id,
        "conflict_copy_url": url_for("api.get_conflict_copy", copy_id=copy.id),
    }


def event(e: AuditEvent, withheld: bool = False) -> shapes.AuditEvent:
    document = audit.event_document(e, withhold=withheld)
    return {
        "seq": e.seq,
        "occurred_at": iso(e.occurred_at),
        "actor": e.actor,
        "actor_agency": e.actor_agency,
        "action": e.action,
        "recommendation": e.recommendation_id,
        "from_state": e.from_state,
        "to_state": e.to_state,
        "revision": e.revision,
        "reason": document["reason"],
        "payload": document["payload"],
        "prev_hash": e.prev_hash,
        "hash": e.hash,
        "withheld": withheld,
    }


def verification(result: audit.Verification) -> shapes.Verification:
    return {"ok": result.ok, "events": result.events, "head": result.head, "first_bad": result.first_bad}


def items(values: Iterable[T], render: Callable[[T], Shape]) -> list[Shape]:
    return [render(v) for v in values]
