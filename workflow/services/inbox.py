"""What awaits a person now: the home page's three lists."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from ..actors import Actor
from ..models import Comment, Recommendation, Role, Thread
from ..policy import Action, is_allowed
from ..states import State
from ..visibility import visible_clause
from ._common import RECOMMENDATION_LOADING

#: Transitions that take a recommendation forward; the inbox offers them as the next step.
FORWARD = (Action.submit, Action.endorse, Action.adopt)
#: How many items each list shows at most; the process pages list everything.
LIMIT = 100


@dataclass(frozen=True)
class NextStep:
    recommendation: Recommendation
    action: Action


@dataclass(frozen=True)
class Inbox:
    next_steps: list[NextStep] = field(default_factory=list)
    approvals_owed: list[Recommendation] = field(default_factory=list)
    threads_with_replies: list[Thread] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.next_steps or self.approvals_owed or self.threads_with_replies)


def inbox(session: Session, actor: Actor) -> Inbox:
    open_recs = session.scalars(
        select(Recommendation)
        .where(
            visible_clause(actor),
            Recommendation.state.in_([State.draft, State.national_review, State.expert_consolidation]),
        )
        .options(*RECOMMENDATION_LOADING)
        .order_by(Recommendation.updated_at.desc())
        .limit(LIMIT * 5)
    ).unique().all()
    next_steps = [
        NextStep(rec, action)
        for rec in open_recs
        for action in FORWARD
        if is_allowed(actor, rec, action)
    ][:LIMIT]
    owed = []
    if Role.approver in actor.roles and actor.agency is not None:
        owed = [
            rec for rec in open_recs
            if is_allowed(actor, rec, Action.approve) and any(a.id == actor.agency.id for a in rec.missing_approvals())
        ][:LIMIT]
    return Inbox(next_steps, owed, _threads_with_new_replies(session, actor))


def _threads_with_new_replies(session: Session, actor: Actor) -> list[Thread]:
    """Open threads the actor wrote in, whose latest comment is someone else's."""
    if actor.id is None:
        return []
    mine = (
        select(Comment.thread_id, func.max(Comment.id).label("my_last"))
        .where(Comment.author_id == actor.id)
        .group_by(Comment.thread_id)
        .subquery()
    )
    latest = select(Comment.thread_id, func.max(Comment.id).label("last")).group_by(Comment.thread_id).subquery()
    visible = select(Recommendation.id).where(visible_clause(actor))
    return list(
        session.scalars(
            select(Thread)
            .join(mine, mine.c.thread_id == Thread.id)
            .join(latest, latest.c.thread_id == Thread.id)
            .where(
                latest.c.last > mine.c.my_last,
                Thread.resolved_at.is_(None),
                Thread.recommendation_id.in_(visible),
            )
            .options(joinedload(Thread.recommendation))
            .order_by(latest.c.last.desc())
            .limit(LIMIT)
        ).unique()
    )
