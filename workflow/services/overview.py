"""Everything one page about a recommendation shows, gathered in one call."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Row, bindparam, func, select
from sqlalchemy.orm import Session, aliased

from ..actors import Actor
from ..errors import NotFound
from ..models import (
    Agency,
    AuditEvent,
    Comment,
    ConflictCopy,
    Process,
    Recommendation,
    Thread,
    User,
    recommendation_addressees,
)
from ..models.threads import quoted_passage_changed
from ..policy import Action, allowed_actions, authorize_create, is_allowed, may_create
from ..states import REASON_REQUIRED, State, Transition
from ..validation import fits_db_int
from ..visibility import can_see_process, visible_clause
from ._common import Page, load_process, load_recommendation, paginate
from .recommendations import LISTING_ORDER, kept_conflict_copies, listing_conditions


@dataclass(frozen=True)
class CommentView:
    """One comment as the page shows it (read-only rows, not ORM objects: a page shows dozens)."""

    id: int
    body: str
    body_html: str
    created_at: datetime
    author_name: str
    author_agency: str | None

    # As attributes, not methods the template calls for each of fifty comments.
    @property
    def created_iso(self) -> str:
        return self.created_at.isoformat()

    @property
    def created_minute(self) -> str:
        return self.created_at.strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class ThreadView:
    """One thread as the page shows it, with its comments in order."""

    id: int
    revision_number: int | None
    quote: str | None
    resolved_at: datetime | None
    resolved_by_name: str | None
    #: The quoted passage no longer appears in the current text.
    passage_changed: bool
    comments: list[CommentView] = field(default_factory=list)

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None


@dataclass(frozen=True)
class MergeTarget:
    id: int
    title: str


@dataclass(frozen=True)
class Overview:
    recommendation: Recommendation
    allowed: list[str]
    threads: list[ThreadView]
    conflict_copies: list[ConflictCopy]
    #: Recommendations this one could be merged into (only when merging is allowed).
    merge_targets: list[MergeTarget]
    #: Whether the actor may resolve and reopen threads.
    can_moderate: bool
    #: The workflow decisions taken on it so far (transitions, with their reasons), oldest first:
    #: rows of the audit events' columns (seq, occurred_at, actor, actor_agency, action,
    #: from_state, to_state, revision, reason).
    decisions: list[Row[int, datetime, str, str | None, str, str | None, str | None, int | None, str | None]]

    def needs_reason(self, action: str) -> bool:
        return action in {t.value for t in REASON_REQUIRED}

    @property
    def transitions(self) -> list[str]:
        names = {t.value for t in Transition}
        return [a for a in self.allowed if a in names]


def recommendation_overview(session: Session, actor: Actor, rec_id: int) -> Overview:
    rec = load_recommendation(session, actor, rec_id)
    threads = thread_views(session, rec)
    copies = kept_conflict_copies(session, actor, rec)
    targets: list[MergeTarget] = []
    if is_allowed(actor, rec, Action.merge):
        # Ids and titles only; ordered here, not in SQL: ORDER BY id made SQLite walk the
        # index on state (every recommendation in consolidation, of all processes) to skip
        # a sort, instead of the index on (process, state).
        targets = sorted(
            (MergeTarget(id_, title) for id_, title in session.execute(
                select(Recommendation.id, Recommendation.title).where(
                    visible_clause(actor),
                    Recommendation.process_id == rec.process_id,
                    Recommendation.state == State.expert_consolidation,
                    Recommendation.id != rec.id,
                )
            )),
            key=lambda target: target.id,
        )
    decisions = list(session.execute(_DECISIONS, {"rec_id": rec.id}))
    return Overview(
        rec, allowed_actions(actor, rec), threads, copies, targets,
        can_moderate=is_allowed(actor, rec, Action.moderate_thread),
        decisions=decisions,
    )


_resolver = aliased(User)
#: Built once: building a statement costs more than running it (`rec_id` is bound per call).
_THREADS = (
    select(Thread.id, Thread.revision_number, Thread.quote, Thread.resolved_at, _resolver.display_name)
    .outerjoin(_resolver, _resolver.id == Thread.resolved_by_id)
    .where(Thread.recommendation_id == bindparam("rec_id"))
    .order_by(Thread.id)
)
_COMMENTS = (
    select(Comment.id, Comment.thread_id, Comment.body, Comment.body_html, Comment.created_at,
           User.display_name, Agency.code)
    .join(Thread, Thread.id == Comment.thread_id)
    .join(User, User.id == Comment.author_id)
    .outerjoin(Agency, Agency.id == User.agency_id)
    .where(Thread.recommendation_id == bindparam("rec_id"))
    .order_by(Comment.id)
)
_DECISIONS = (  # the columns the page shows, as rows (seq, occurred_at, actor, …), not whole events
    select(AuditEvent.seq, AuditEvent.occurred_at, AuditEvent.actor, AuditEvent.actor_agency, AuditEvent.action,
           AuditEvent.from_state, AuditEvent.to_state, AuditEvent.revision, AuditEvent.reason)
    .where(AuditEvent.recommendation_id == bindparam("rec_id"), AuditEvent.to_state.is_not(None))
    .order_by(AuditEvent.seq)
)


def thread_views(session: Session, rec: Recommendation) -> list[ThreadView]:
    """The recommendation's threads and their comments, oldest first: two queries of plain
    rows, whatever the number of comments."""
    threads = {
        id_: ThreadView(id_, number, quote, resolved_at, resolved_by,
                        passage_changed=quoted_passage_changed(quote, rec.body))
        for id_, number, quote, resolved_at, resolved_by in session.execute(_THREADS, {"rec_id": rec.id})
    }
    if threads:
        for id_, thread_id, body, body_html, created_at, name, code in session.execute(_COMMENTS, {"rec_id": rec.id}):
            # Under READ COMMITTED a thread started between the two reads has comments but no
            # row here (found by the two-server load test): it shows on the next read.
            if (thread := threads.get(thread_id)) is not None:
                thread.comments.append(CommentView(id_, body, body_html, created_at, name, code))
    return list(threads.values())


@dataclass(frozen=True)
class ListedRecommendation:
    """What one row of a process's list shows of a recommendation."""

    id: int
    title: str
    state: State
    revision: int
    updated_at: datetime
    proposing_agency_code: str
    addressed_codes: list[str] = field(default_factory=list)

    # What the row prints, as attributes: a template calling a method per row of a hundred
    # costs more than the rest of the row.
    @property
    def addressed(self) -> str:
        return ", ".join(self.addressed_codes)

    @property
    def updated_iso(self) -> str:
        return self.updated_at.isoformat()

    @property
    def updated_minute(self) -> str:
        return self.updated_at.strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class ProcessListing:
    process: Process
    page: Page[ListedRecommendation]
    #: Whether the actor may draft a recommendation in this process.
    can_create: bool

    def by_state(self) -> list[tuple[State, list[ListedRecommendation]]]:
        """The page's recommendations grouped by state, in the order of the workflow."""
        groups: dict[State, list[ListedRecommendation]] = {state: [] for state in State}
        for rec in self.page.items:
            groups[rec.state].append(rec)
        return [(state, recs) for state, recs in groups.items() if recs]


def process_listing(
    session: Session,
    actor: Actor,
    process_id: int,
    *,
    state: str | None = None,
    agency: str | None = None,
    q: str | None = None,
    page: int = 1,
    per_page: int = 100,
) -> ProcessListing:
    """A process the actor's agency takes part in (any, for auditors and administrators), with
    the recommendations they may see in it."""
    process = load_process(session, process_id) if fits_db_int(process_id) else None
    if process is None or not can_see_process(actor, process):
        raise NotFound("No such process.")
    conditions = listing_conditions(session, actor, state=state, agency=agency, process=process.id, q=q)
    # Plain rows of what the list shows (a hundred ORM objects cost more than the page's HTML).
    found = paginate(
        session,
        select(Recommendation.id, Recommendation.title, Recommendation.state, Recommendation.revision,
               Recommendation.updated_at, Agency.code)
        .join(Agency, Agency.id == Recommendation.proposing_agency_id)
        .where(*conditions)
        .order_by(*LISTING_ORDER),
        page=page, per_page=per_page, rows=True,
        # Every recommendation has its proposing agency (a foreign key, an inner join
        # everywhere): counting needs neither the join nor the columns shown.
        count=select(func.count()).select_from(Recommendation).where(*conditions),
    )
    items = {row[0]: ListedRecommendation(*row) for row in found.items}
    if items:
        for rec_id, code in session.execute(
            select(recommendation_addressees.c.recommendation_id, Agency.code)
            .join(Agency, Agency.id == recommendation_addressees.c.agency_id)
            .where(recommendation_addressees.c.recommendation_id.in_(list(items)))
            .order_by(Agency.code)
        ):
            items[rec_id].addressed_codes.append(code)
    listed = Page(items=list(items.values()), page=found.page, per_page=found.per_page, total=found.total)
    return ProcessListing(process, listed, may_create(actor, process))


def new_recommendation_form(session: Session, actor: Actor, process_id: int) -> Process:
    """The process to draft in, if the actor may draft there (else NotFound/PermissionDenied)."""
    process = session.get(Process, process_id) if fits_db_int(process_id) else None
    if process is None or not can_see_process(actor, process):
        raise NotFound("No such process.")
    authorize_create(actor, process)
    return process
