"""Discussion threads on a recommendation: start, reply, resolve, reopen."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit
from .. import audit_payloads as payloads
from ..actors import Actor
from ..audit_actions import AuditAction
from ..errors import Conflict, InvalidInput, NotFound
from ..models import Comment, Revision, Thread, utcnow
from ..policy import Action, authorize
from ..validation import clean_comment, clean_quote, fits_db_int
from ..visibility import can_see, visibility_of
from ._common import Page, load_recommendation, paginate, render_ahead, rendered_html


def list_threads(
    session: Session, actor: Actor, rec_id: int, *, page: int = 1, per_page: int = 50
) -> Page[Thread]:
    rec = load_recommendation(session, actor, rec_id)
    stmt = select(Thread).where(Thread.recommendation_id == rec.id).order_by(Thread.id)
    return paginate(session, stmt, page=page, per_page=per_page)


def start_thread(
    session: Session,
    actor: Actor,
    rec_id: int,
    *,
    body: str,
    revision: int | None = None,
    quote: str | None = None,
) -> Thread:
    """Open a thread with its first comment, optionally on a quoted passage of a revision.

    A quote without a revision is taken from the current one; the passage must appear in it.
    """
    rendered = render_ahead(body, clean_comment)  # before the lock: see render_ahead
    rec = load_recommendation(session, actor, rec_id, lock=True)
    authorize(actor, rec, Action.comment)
    body = clean_comment(body)
    if revision is not None and (not isinstance(revision, int) or isinstance(revision, bool)):
        raise InvalidInput("revision must be a revision number.", code="invalid_type")
    if revision is not None and not fits_db_int(revision):
        raise InvalidInput(f"No revision {revision} of this recommendation.", code="unknown_revision")
    if quote is not None:
        quote = clean_quote(quote)
        revision = rec.revision if revision is None else revision
    if revision is not None:
        anchored = session.scalar(
            select(Revision).where(
                Revision.recommendation_id == rec.id, Revision.number == revision
            )
        )
        if anchored is None:
            raise InvalidInput(f"No revision {revision} of this recommendation.", code="unknown_revision")
        if quote is not None and quote not in anchored.body and quote not in anchored.title:
            raise InvalidInput(
                f"The quoted passage does not appear in revision {revision}.", code="quote_not_found"
            )
    now = utcnow()
    thread = Thread(
        recommendation=rec,
        revision_number=revision,
        quote=quote,
        created_by_id=actor.id,
        created_at=now,
    )
    thread.comments.append(
        Comment(author_id=actor.id, body=body, body_html=rendered_html(rendered, body), created_at=now)
    )
    session.add(thread)
    session.flush()
    audit.record(
        session,
        actor,
        AuditAction.thread_start,
        recommendation=rec,
        revision=revision,
        payload=payloads.thread_started(thread.id, thread.comments[0].id, quote),
    )
    return thread


def _load_thread(session: Session, actor: Actor, thread_id: int) -> Thread:
    if not fits_db_int(thread_id):
        raise NotFound("No such thread.")
    # Visibility is part of the query: a thread of a hidden draft costs what a missing one does.
    visible, parameters = visibility_of(actor)
    thread = session.scalars(
        select(Thread)
        .join(Thread.recommendation)
        .where(Thread.id == thread_id, visible)
        .with_for_update(of=Thread, key_share=True)  # see load_recommendation
        .execution_options(populate_existing=True),
        parameters,
    ).unique().one_or_none()
    if thread is None or not can_see(actor, thread.recommendation):
        raise NotFound("No such thread.")
    return thread


def add_comment(session: Session, actor: Actor, thread_id: int, *, body: str) -> Comment:
    """Reply in an open thread."""
    rendered = render_ahead(body, clean_comment)  # before the lock: see render_ahead
    thread = _load_thread(session, actor, thread_id)
    authorize(actor, thread.recommendation, Action.comment)
    body = clean_comment(body)
    if thread.is_resolved:
        raise Conflict("This thread is resolved; reopen it to reply.", code="thread_resolved")
    comment = Comment(
        author_id=actor.id, body=body, body_html=rendered_html(rendered, body), created_at=utcnow()
    )
    thread.comments.append(comment)
    session.flush()
    audit.record(
        session,
        actor,
        AuditAction.comment,
        recommendation=thread.recommendation,
        payload=payloads.commented(thread.id, comment.id),
    )
    return comment


def resolve_thread(session: Session, actor: Actor, thread_id: int) -> Thread:
    thread = _load_thread(session, actor, thread_id)
    authorize(actor, thread.recommendation, Action.moderate_thread)
    if thread.is_resolved:
        raise Conflict("This thread is already resolved.", code="thread_resolved")
    thread.resolved_at, thread.resolved_by_id = utcnow(), actor.id
    audit.record(
        session, actor, AuditAction.thread_resolve,
        recommendation=thread.recommendation, payload=payloads.thread_moderated(thread.id),
    )
    return thread


def reopen_thread(session: Session, actor: Actor, thread_id: int) -> Thread:
    thread = _load_thread(session, actor, thread_id)
    authorize(actor, thread.recommendation, Action.moderate_thread)
    if not thread.is_resolved:
        raise Conflict("This thread is already open.", code="thread_open")
    thread.resolved_at, thread.resolved_by_id = None, None
    audit.record(
        session, actor, AuditAction.thread_reopen,
        recommendation=thread.recommendation, payload=payloads.thread_moderated(thread.id),
    )
    return thread
