"""What a user may see, as a Python predicate and as the same rule in SQL.

A draft is visible only to its proposing agency and to auditors. Once submitted, a
recommendation is visible to every user whose agency takes part in its process, except while it
is a draft again (sent back for changes); one never submitted stays private even when withdrawn.
A process is visible to the users of its agencies, and to auditors and administrators.
Disabled accounts see nothing. An auditor's reading right is only that: acting on a
recommendation needs the actor's agency to see it (`agency_sees`).
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import BindParameter, ColumnElement, Integer, Select, and_, bindparam, false, or_, select, true

from .actors import Actor
from .models import Process, Recommendation, Role, process_agencies
from .states import State


def can_see(actor: Actor, rec: Recommendation) -> bool:
    """Whether the actor may read `rec`: as an auditor, or as a member of an agency that sees it."""
    if not actor.active:
        return False
    return Role.auditor in actor.roles or agency_sees(actor, rec)


def agency_sees(actor: Actor, rec: Recommendation) -> bool:
    """Whether the actor's agency sees `rec`: `can_see` without the auditor's reading right.
    Every right to act rests on this, so an auditor who also drafts reads another agency's
    private draft but can do nothing to it."""
    if not actor.active:
        return False
    agency = actor.agency
    if agency is None:
        return False
    if rec.proposing_agency_id == agency.id:
        return True
    return (
        rec.state != State.draft
        and rec.submitted_at is not None
        and any(a.id == agency.id for a in rec.process.agencies)
    )


#: What nobody sees, and what an auditor sees.
NOTHING: ColumnElement[bool] = false()
EVERYTHING: ColumnElement[bool] = true()


def visibility_of(actor: Actor) -> tuple[ColumnElement[bool], dict[str, int]]:
    """What the actor sees, as one of three clauses on `Recommendation` built once (nothing,
    everything, or what a member of the agency bound as `viewer_agency` sees) and the
    parameters it needs: statements built once take it as part of their first query."""
    if not actor.active:
        return NOTHING, {}
    if Role.auditor in actor.roles:
        return EVERYTHING, {}
    agency = actor.agency
    if agency is None:
        return NOTHING, {}
    return AGENCY_SEES, {"viewer_agency": agency.id}


def visible_clause(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on `Recommendation` that selects exactly what `can_see` allows."""
    clause, parameters = visibility_of(actor)
    return _agency_clause(parameters["viewer_agency"]) if parameters else clause


def _agency_rule(agency_id: int | BindParameter[int]) -> ColumnElement[bool]:
    """What a member of the agency sees: its own proposals, and what is published in the
    processes it takes part in."""
    participates = select(process_agencies.c.process_id).where(process_agencies.c.agency_id == agency_id)
    return or_(
        Recommendation.proposing_agency_id == agency_id,
        and_(published_clause(), Recommendation.process_id.in_(participates)),
    )


@lru_cache(maxsize=1024)
def _agency_clause(agency_id: int) -> ColumnElement[bool]:
    """What a user of this agency sees; built once per agency (a clause is immutable, and
    building it costs more than running the query it is part of)."""
    return _agency_rule(agency_id)


def published_clause() -> ColumnElement[bool]:
    """Recommendations every participant of their process may see: submitted, not a draft."""
    return and_(Recommendation.state != State.draft, Recommendation.submitted_at.is_not(None))


def visible_recommendations(actor: Actor) -> Select[Recommendation]:
    return select(Recommendation).where(visible_clause(actor))


#: Roles that see every process, whether or not their agency takes part.
ALL_PROCESSES_ROLES = frozenset({Role.auditor, Role.admin})


def can_see_process(actor: Actor, process: Process) -> bool:
    if not actor.active:
        return False
    if ALL_PROCESSES_ROLES & actor.roles:
        return True
    return actor.agency is not None and any(a.id == actor.agency.id for a in process.agencies)


def visible_processes_clause(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on `Process` that selects exactly what `can_see_process` allows."""
    if not actor.active:
        return false()
    if ALL_PROCESSES_ROLES & actor.roles:
        return true()
    agency_id = actor.agency.id if actor.agency else None
    return Process.id.in_(
        select(process_agencies.c.process_id).where(process_agencies.c.agency_id == agency_id)
    )


#: `_agency_rule` with the agency as the parameter `viewer_agency` (see `visibility_of`).
AGENCY_SEES: ColumnElement[bool] = _agency_rule(bindparam("viewer_agency", type_=Integer))
