"""Loading helpers shared by the services: visibility-checked, optionally row-locked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, joinedload, lazyload, load_only, selectinload

from ..actors import Actor
from ..errors import InvalidInput, NotFound
from ..validation import DB_INT_MAX, fits_db_int
from ..models import Recommendation
from ..visibility import can_see

T = TypeVar("T")

MAX_PER_PAGE = 200

#: How recommendations are loaded wherever they are shown: the links of merged ones as bare
#: ids (one query for a whole page), without loading everything about each of them.
RECOMMENDATION_LOADING = (
    selectinload(Recommendation.merged_from)
    .load_only(Recommendation.id, Recommendation.merged_into_id)
    .lazyload("*"),
)

#: How a process's list page loads recommendations: what one row of the list shows, no more
#: (neither the text nor the approvals of a hundred recommendations).
LISTING_LOADING = (
    load_only(
        Recommendation.id, Recommendation.process_id, Recommendation.title, Recommendation.state,
        Recommendation.proposing_agency_id, Recommendation.revision, Recommendation.updated_at,
    ),
    joinedload(Recommendation.proposing_agency),
    selectinload(Recommendation.addressed_agencies),
    lazyload(Recommendation.process),
    lazyload(Recommendation.created_by),
    lazyload(Recommendation.approvals),
)


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    page: int
    per_page: int
    total: int


def paginate(session: Session, stmt: Select[tuple[T]], *, page: int, per_page: int) -> Page[T]:
    if page < 1 or page > DB_INT_MAX:
        raise InvalidInput(f"The page number is between 1 and {DB_INT_MAX}.", code="invalid_page")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidInput(
            f"per_page must be between 1 and {MAX_PER_PAGE}.", code="invalid_per_page"
        )
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).unique().all()
    return Page(items=items, page=page, per_page=per_page, total=total or 0)


def load_recommendation(
    session: Session, actor: Actor, rec_id: int, *, lock: bool = False
) -> Recommendation:
    """The recommendation if the actor may see it, else NotFound (existence does not leak).

    With `lock`, the row is locked until the transaction ends (SELECT … FOR NO KEY UPDATE on
    PostgreSQL; SQLite's write transactions hold the database lock already) and reloaded, so a
    writer that waited for another sees the state that one left.

    NO KEY: writers still queue behind each other, but rows that merely reference the
    recommendation (an audit event, a comment) can be inserted meanwhile. A plain FOR UPDATE
    also blocks their foreign-key check, and deadlocks with the chain's lock: one transaction
    holds the row and waits for the chain, another holds the chain and waits to reference the
    row in its audit event.
    """
    if not fits_db_int(rec_id):
        raise NotFound("No such recommendation.")
    stmt = select(Recommendation).where(Recommendation.id == rec_id).options(*RECOMMENDATION_LOADING)
    if lock:
        stmt = stmt.with_for_update(of=Recommendation, key_share=True).execution_options(populate_existing=True)
    rec = session.scalars(stmt).unique().one_or_none()
    if rec is None or not can_see(actor, rec):
        raise NotFound("No such recommendation.")
    return rec
