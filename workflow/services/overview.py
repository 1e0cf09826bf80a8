"""Everything one page about a recommendation shows, gathered in one call."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..actors import Actor
from ..errors import NotFound
from ..models import AuditEvent, ConflictCopy, Process, Recommendation, Thread
from ..policy import Action, allowed_actions, authorize_create, is_allowed, may_create
from ..states import REASON_REQUIRED, State, Transition
from ..validation import fits_db_int
from ..visibility import visible_clause
from ._common import LISTING_LOADING, RECOMMENDATION_LOADING, Page, load_recommendation
from .recommendations import kept_conflict_copies, list_recommendations
from .reference import can_see_process


@dataclass(frozen=True)
class Overview:
    recommendation: Recommendation
    allowed: list[str]
    threads: list[Thread]
    conflict_copies: list[ConflictCopy]
    #: Recommendations this one could be merged into (only when merging is allowed).
    merge_targets: list[Recommendation]
    #: Whether the actor may resolve and reopen threads.
    can_moderate: bool
    #: The workflow decisions taken on it so far (transitions, with their reasons), oldest first.
    decisions: list[AuditEvent]

    def needs_reason(self, action: str) -> bool:
        return action in {t.value for t in REASON_REQUIRED}

    @property
    def transitions(self) -> list[str]:
        names = {t.value for t in Transition}
        return [a for a in self.allowed if a in names]


def recommendation_overview(session: Session, actor: Actor, rec_id: int) -> Overview:
    rec = load_recommendation(session, actor, rec_id)
    threads = list(
        session.scalars(select(Thread).where(Thread.recommendation_id == rec.id).order_by(Thread.id))
    )
    copies = kept_conflict_copies(session, actor, rec)
    targets: list[Recommendation] = []
    if is_allowed(actor, rec, Action.merge):
        targets = list(
            session.scalars(
                select(Recommendation)
                .where(
                    visible_clause(actor),
                    Recommendation.process_id == rec.process_id,
                    Recommendation.state == State.expert_consolidation,
                    Recommendation.id != rec.id,
                )
                .options(*RECOMMENDATION_LOADING)
                .order_by(Recommendation.id)
            ).unique()
        )
    decisions = list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.recommendation_id == rec.id, AuditEvent.to_state.is_not(None))
            .order_by(AuditEvent.seq)
        )
    )
    return Overview(
        rec, allowed_actions(actor, rec), threads, copies, targets,
        can_moderate=is_allowed(actor, rec, Action.moderate_thread),
        decisions=decisions,
    )


@dataclass(frozen=True)
class ProcessListing:
    process: Process
    page: Page[Recommendation]
    #: Whether the actor may draft a recommendation in this process.
    can_create: bool

    def by_state(self) -> list[tuple[State, list[Recommendation]]]:
        """The page's recommendations grouped by state, in the order of the workflow."""
        groups = {state: [] for state in State}
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
    process = session.get(Process, process_id) if fits_db_int(process_id) else None
    if process is None or not can_see_process(actor, process):
        raise NotFound("No such process.")
    listed = list_recommendations(
        session, actor, state=state, agency=agency, process=process.id, q=q, page=page, per_page=per_page,
        loading=LISTING_LOADING,
    )
    return ProcessListing(process, listed, may_create(actor, process))


def new_recommendation_form(session: Session, actor: Actor, process_id: int) -> Process:
    """The process to draft in, if the actor may draft there (else NotFound/PermissionDenied)."""
    process = session.get(Process, process_id) if fits_db_int(process_id) else None
    if process is None or not can_see_process(actor, process):
        raise NotFound("No such process.")
    authorize_create(actor, process)
    return process
