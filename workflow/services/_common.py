"""Loading helpers shared by the services: visibility-checked, optionally row-locked."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar, TypeVarTuple, cast, overload

from sqlalchemy import ColumnElement, CursorResult, Row, Select, bindparam, delete, func, inspect, select
from sqlalchemy.orm import InstrumentedAttribute, Session, defaultload, lazyload, load_only, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from ..actors import Actor
from ..errors import InvalidInput, NotFound
from ..models import Agency, Approval, Base, Process, Recommendation, process_agencies, recommendation_addressees
from ..rendering import render_markdown
from ..validation import DB_INT_MAX, fits_db_int
from ..visibility import can_see, visibility_of

T = TypeVar("T")
Ts = TypeVarTuple("Ts")

MAX_PER_PAGE = 200

#: How recommendations are loaded wherever they are shown: the links of merged ones as bare
#: ids (one query for a whole page), without loading everything about each of them.
RECOMMENDATION_LOADING = (
    selectinload(Recommendation.merged_from)
    .load_only(Recommendation.id, Recommendation.merged_into_id)
    .lazyload("*"),
)

def render_ahead(text: object, clean: Callable[[object], str]) -> dict[str, str]:
    """The HTML of `text` as it will be stored, keyed by the cleaned text, rendered before the
    service's first statement: that statement starts the write transaction (SQLite's BEGIN
    IMMEDIATE) or takes its row locks, and a render must not hold them (the HTML depends on the
    text alone, so rendering early changes nothing). Text that `clean` refuses renders nothing:
    the service refuses it later, after its usual checks (404 and 403 come first)."""
    try:
        cleaned = clean(text)
    except InvalidInput:
        return {}
    return {cleaned: render_markdown(cleaned)}


def rendered_html(rendered: Mapping[str, str], text: str) -> str:
    """The HTML rendered ahead for `text`; a text only known under the lock (a three-way merge
    of two saves) is rendered there, within the same deterministic budget."""
    html = rendered.get(text)
    return render_markdown(text) if html is None else html


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    page: int
    per_page: int
    total: int


@overload
def paginate(
    session: Session, stmt: Select[T], *, page: int, per_page: int, rows: Literal[False] = False,
    count: Select[int] | None = None,
) -> Page[T]: ...
@overload
def paginate(
    session: Session, stmt: Select[*Ts], *, page: int, per_page: int, rows: Literal[True],
    count: Select[int] | None = None,
) -> Page[Row[*Ts]]: ...
def paginate(
    session: Session, stmt: Select[*tuple[Any, ...]], *, page: int, per_page: int, rows: bool = False,
    count: Select[int] | None = None,
) -> Page[Any]:
    """One page of `stmt`'s results and their total; with `rows`, plain rows of the columns
    it selects (not ORM objects); `count`, when given, counts the same rows more cheaply
    than `stmt` as a subquery."""
    if page < 1 or page > DB_INT_MAX:
        raise InvalidInput(f"The page number is between 1 and {DB_INT_MAX}.", code="invalid_page")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidInput(
            f"per_page must be between 1 and {MAX_PER_PAGE}.", code="invalid_per_page"
        )
    if count is None:
        count = select(func.count()).select_from(stmt.order_by(None).subquery())
    total = session.scalar(count)
    limited = stmt.limit(per_page).offset((page - 1) * per_page)
    items = session.execute(limited).all() if rows else session.scalars(limited).unique().all()
    return Page(items=items, page=page, per_page=per_page, total=total or 0)


#: Reading one recommendation, the hot path of its page and of the API: statements built once
#: (building one costs more than running it), and its collections loaded by `_load_collections`
#: with four plain queries (SQLAlchemy's selectin loader spends more on each than the query).
_LOAD = select(Recommendation).where(Recommendation.id == bindparam("rec_id")).options(
    lazyload(Recommendation.merged_from),
    lazyload(Recommendation.addressed_agencies),
    lazyload(Recommendation.approvals),
    defaultload(Recommendation.process).lazyload(Process.agencies),
)


@functools.cache
def _visible_load(visible: ColumnElement[bool]) -> Select[Recommendation]:
    """`_LOAD` restricted to what the reader sees, one of `visibility_of`'s three clauses: the
    check is part of the first query, so another agency's private draft costs exactly what a
    missing id costs, and answers as fast."""
    return _LOAD.where(visible)


_MERGED_FROM = (
    select(Recommendation)
    .where(Recommendation.merged_into_id == bindparam("rec_id"))
    .options(load_only(Recommendation.id, Recommendation.merged_into_id), lazyload("*"))
    .order_by(Recommendation.id)
)
_ADDRESSEES = (
    select(Agency)
    .join(recommendation_addressees, recommendation_addressees.c.agency_id == Agency.id)
    .where(recommendation_addressees.c.recommendation_id == bindparam("rec_id"))
    .order_by(Agency.code)
)
_APPROVALS = select(Approval).where(Approval.recommendation_id == bindparam("rec_id")).order_by(Approval.id)
_PROCESS_AGENCIES = (
    select(Agency)
    .join(process_agencies, process_agencies.c.agency_id == Agency.id)
    .where(process_agencies.c.process_id == bindparam("process_id"))
    .order_by(Agency.code)
)


_PROCESS = select(Process).where(Process.id == bindparam("process_id")).options(lazyload(Process.agencies))


def load_process(session: Session, process_id: int) -> Process | None:
    """A process with its agencies (two plain queries), or None; no visibility check."""
    process = session.scalars(_PROCESS, {"process_id": process_id}).one_or_none()
    if process is not None:
        _load_process_agencies(session, process)
    return process


def _load_process_agencies(session: Session, process: Process) -> None:
    if "agencies" in inspect(process).unloaded:
        set_committed_value(process, "agencies", list(session.scalars(_PROCESS_AGENCIES, {"process_id": process.id})))


def _load_collections(session: Session, rec: Recommendation) -> None:
    """What the selectin loaders of RECOMMENDATION_LOADING and the models would load, in the
    same order, for one recommendation; collections already loaded in this session are kept."""
    unloaded = inspect(rec).unloaded
    if "merged_from" in unloaded:
        set_committed_value(rec, "merged_from", list(session.scalars(_MERGED_FROM, {"rec_id": rec.id})))
    if "addressed_agencies" in unloaded:
        set_committed_value(rec, "addressed_agencies", list(session.scalars(_ADDRESSEES, {"rec_id": rec.id})))
    if "approvals" in unloaded:
        approvals = list(session.scalars(_APPROVALS, {"rec_id": rec.id}))
        for approval in approvals:
            if "recommendation" in inspect(approval).unloaded:
                set_committed_value(approval, "recommendation", rec)
        set_committed_value(rec, "approvals", approvals)
    _load_process_agencies(session, rec.process)


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
    visible, parameters = visibility_of(actor)
    if lock:
        stmt = (select(Recommendation).where(Recommendation.id == rec_id, visible).options(*RECOMMENDATION_LOADING)
                .with_for_update(of=Recommendation, key_share=True).execution_options(populate_existing=True))
        rec = session.scalars(stmt, parameters).unique().one_or_none()
    else:
        rec = session.scalars(_visible_load(visible), {"rec_id": rec_id, **parameters}).unique().one_or_none()
        if rec is not None:
            _load_collections(session, rec)
    if rec is None or not can_see(actor, rec):  # the second is the first query's rule again, in Python
        raise NotFound("No such recommendation.")
    return rec


def delete_batch(
    session: Session, model: type[Base], key: InstrumentedAttribute[int], condition: ColumnElement[bool], limit: int
) -> int:
    """Delete up to `limit` rows of `model` matching `condition`; how many went. Rows another
    transaction is deleting meanwhile are skipped (PostgreSQL), not waited for, so pruning
    never queues behind another request's pruning."""
    victims = select(key).where(condition).limit(limit).with_for_update(skip_locked=True).scalar_subquery()
    result = cast(CursorResult[Any], session.execute(  # a DELETE's result has its row count
        delete(model).where(key.in_(victims)).execution_options(synchronize_session=False)
    ))
    return result.rowcount or 0
