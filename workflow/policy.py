"""Who may do what, declared once: action × role × relation to the agency × state, and who
may administer and read the whole audit log.

Every permission check in the engine, the buttons on a page, the sections the navigation
offers and `allowed_actions` in the API come from the functions below. For transitions the
states come from the state machine declaration (`workflow.states`); this table only says who.
What a person may *see* is `workflow.visibility`'s to say; this module builds on it.

A refusal is judged in a fixed order, so the answer never leaks more than the actor may know:
not visible → NotFound; visible to the actor as an auditor only, not to their agency (another
agency's private draft), or no grant for the actor's roles and agency → PermissionDenied; a
grant, but not in this state (or a guard fails) → Conflict. Every grant rests on the agency
seeing the recommendation: an auditor's reading right never becomes a writing right, even for
an account that also holds a drafting role.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from .actors import Actor
from .errors import Conflict, NotFound, PermissionDenied
from .models import Process, Recommendation, Role
from .states import TERMINAL_STATES, State, Transition, failed_guard, is_valid_from
from .visibility import agency_sees, can_see


class Action(enum.StrEnum):
    """Everything one can do to a recommendation (creation aside, which has none yet)."""

    submit = "submit"
    request_changes = "request_changes"
    endorse = "endorse"
    return_ = "return"
    adopt = "adopt"
    merge = "merge"
    withdraw = "withdraw"
    edit = "edit"
    approve = "approve"
    object = "object"
    comment = "comment"
    #: Resolve or reopen a thread.
    moderate_thread = "moderate_thread"

    @property
    def transition(self) -> Transition | None:
        return Transition(self.value) if self.value in Transition._value2member_map_ else None


class Relation(enum.StrEnum):
    """How the actor's agency stands to a recommendation."""

    #: The agency that proposed it.
    proposing = "proposing"
    #: An agency whose approval adoption needs (the proposing agency is always one).
    addressed = "addressed"
    #: Any agency taking part in the recommendation's process.
    participant = "participant"


NON_TERMINAL = frozenset(State) - TERMINAL_STATES
#: Roles that take part in the drafting; auditors and administrators only watch and manage.
DRAFTING_ROLES = (Role.national_expert, Role.approver, Role.eu_expert)


@dataclass(frozen=True)
class Grant:
    role: Role
    relation: Relation
    #: States in which the grant holds; None for transitions, whose states the machine declares.
    states: frozenset[State] | None = None

    def describe(self) -> str:
        role = self.role.value.replace("_", " ")
        article = "an" if role[0] in "aeiou" else "a"
        where = {
            Relation.proposing: "of the proposing agency",
            Relation.addressed: "of an addressed agency",
            Relation.participant: "of an agency taking part in the process",
        }[self.relation]
        return f"{article} {role} {where}"


def _grants(
    roles: Iterable[Role], relation: Relation, states: frozenset[State] | None = None
) -> tuple[Grant, ...]:
    return tuple(Grant(role, relation, states) for role in roles)


POLICY: dict[Action, tuple[Grant, ...]] = {
    Action.submit: _grants([Role.national_expert], Relation.proposing),
    Action.request_changes: _grants([Role.approver], Relation.addressed),
    Action.endorse: _grants([Role.approver], Relation.proposing),
    Action.return_: _grants([Role.eu_expert], Relation.participant),
    Action.adopt: _grants([Role.eu_expert], Relation.participant),
    Action.merge: _grants([Role.eu_expert], Relation.participant),
    Action.withdraw: _grants([Role.national_expert, Role.approver], Relation.proposing),
    Action.edit: (
        Grant(Role.national_expert, Relation.proposing, frozenset({State.draft})),
        Grant(Role.eu_expert, Relation.participant, frozenset({State.expert_consolidation})),
    ),
    Action.approve: _grants([Role.approver], Relation.addressed, frozenset({State.expert_consolidation})),
    Action.object: _grants([Role.approver], Relation.addressed, frozenset({State.expert_consolidation})),
    Action.comment: _grants(DRAFTING_ROLES, Relation.participant, NON_TERMINAL),
    Action.moderate_thread: _grants(DRAFTING_ROLES, Relation.participant, NON_TERMINAL),
}

#: Actions listed in `allowed_actions`, in the order pages show their buttons.
LISTED_ACTIONS: tuple[Action, ...] = (
    Action.edit,
    Action.submit,
    Action.endorse,
    Action.request_changes,
    Action.approve,
    Action.object,
    Action.adopt,
    Action.return_,
    Action.merge,
    Action.withdraw,
    Action.comment,
)


#: Who may start a recommendation: a national expert, for their own agency, in a process it
#: takes part in. (Creation has no recommendation yet, so it stands outside the table above.)
CREATE_ROLE = Role.national_expert


def authorize_create(actor: Actor, process: Process) -> None:
    if not actor.active or CREATE_ROLE not in actor.roles or actor.agency is None:
        raise PermissionDenied(
            "Only a national expert may draft a recommendation.", code="forbidden"
        )
    if all(a.id != actor.agency.id for a in process.agencies):
        raise PermissionDenied(
            "Your agency does not take part in this process.", code="agency_not_in_process"
        )


def may_create(actor: Actor, process: Process) -> bool:
    try:
        authorize_create(actor, process)
    except PermissionDenied:
        return False
    return True


def relations(actor: Actor, rec: Recommendation) -> frozenset[Relation]:
    agency = actor.agency
    if agency is None:
        return frozenset()
    found = set()
    if agency.id == rec.proposing_agency_id:
        found.add(Relation.proposing)
    if agency.id in rec.addressed_agency_ids:
        found.add(Relation.addressed)
    if any(a.id == agency.id for a in rec.process.agencies):
        found.add(Relation.participant)
    return frozenset(found)


def _matching_grants(
    actor: Actor, rec: Recommendation, action: Action,
    mine: frozenset[Relation] | None = None, roles: frozenset[Role] | None = None,
) -> list[Grant]:
    if not actor.active:
        return []
    mine = relations(actor, rec) if mine is None else mine
    roles = actor.roles if roles is None else roles
    return [g for g in POLICY[action] if g.role in roles and g.relation in mine]


def _state_allows(grant: Grant, action: Action, state: State) -> bool:
    transition = action.transition
    if transition is not None:
        return is_valid_from(transition, state)
    assert grant.states is not None, f"{action} needs its states declared"
    return state in grant.states


def authorize(actor: Actor, rec: Recommendation, action: Action) -> None:
    """Raise unless `actor` may do `action` to `rec` in its current state.

    Guards of transitions are left to the firing, which knows the caller's arguments.
    """
    if not can_see(actor, rec):
        raise NotFound("No such recommendation.")
    if not agency_sees(actor, rec):
        raise PermissionDenied(
            f"Auditors read another agency's private draft, but may not {_verb(action)} it.",
        )
    grants = _matching_grants(actor, rec, action)
    if not grants:
        who = " or ".join(g.describe() for g in POLICY[action])
        raise PermissionDenied(f"Only {who} may {_verb(action)} this recommendation.")
    if not any(_state_allows(g, action, rec.state) for g in grants):
        raise Conflict(
            f"You cannot {_verb(action)} this recommendation while it is {rec.state.label}.",
            code="wrong_state",
        )


def is_allowed(actor: Actor, rec: Recommendation, action: Action) -> bool:
    """Whether `action` would be accepted now, guards included (those that need no input)."""
    if not agency_sees(actor, rec):  # what only an auditor reads, nobody acts on
        return False
    return _allowed(actor, rec, action, relations(actor, rec), actor.roles)


def _allowed(
    actor: Actor, rec: Recommendation, action: Action, mine: frozenset[Relation], roles: frozenset[Role]
) -> bool:
    """`is_allowed` for an actor who can see `rec`, with their relations and roles known."""
    grants = _matching_grants(actor, rec, action, mine, roles)
    if not any(_state_allows(g, action, rec.state) for g in grants):
        return False
    transition = action.transition
    if transition is not None:
        return failed_guard(rec, transition, judge_input=False) is None
    if action in (Action.approve, Action.object):
        return not repeats_standing_decision(actor, rec, action)
    return True


def repeats_standing_decision(actor: Actor, rec: Recommendation, action: Action) -> bool:
    """The actor's agency already stands by this very decision on the current revision, so
    deciding it again would change nothing (the service refuses it; pages do not offer it)."""
    if actor.agency is None:
        return False
    standing = rec.standing_decisions().get(actor.agency.id)
    return standing is not None and standing.decision.value == action.value and not standing.is_stale


def allowed_actions(actor: Actor, rec: Recommendation) -> list[str]:
    """What the actor may do now, as the API lists it and as pages draw their buttons.

    `is_allowed` for each listed action, with visibility, relations and roles judged once (a
    list of a hundred recommendations asks this a hundred times)."""
    if not agency_sees(actor, rec):  # what only an auditor reads, nobody acts on
        return []
    mine, roles = relations(actor, rec), actor.roles
    return [action.value for action in LISTED_ACTIONS if _allowed(actor, rec, action, mine, roles)]


def _verb(action: Action) -> str:
    return {
        Action.moderate_thread: "resolve or reopen threads of",
        Action.comment: "comment on",
        Action.object: "object to",
        Action.request_changes: "request changes to",
    }.get(action, action.value)


# --- administration and oversight ---------------------------------------------------------------

#: Roles that read the whole audit log: every event, including administration and sign-ins.
WHOLE_LOG_ROLES = frozenset({Role.auditor, Role.admin})


def is_admin(actor: Actor) -> bool:
    """Whether the actor may manage agencies, users, processes and passwords."""
    return actor.active and Role.admin in actor.roles


def authorize_admin(actor: Actor) -> None:
    if not is_admin(actor):
        raise PermissionDenied("Only an administrator may do this.")


def reads_whole_log(actor: Actor) -> bool:
    return actor.active and bool(WHOLE_LOG_ROLES & actor.roles)


def authorize_whole_log(actor: Actor, *, to: str = "read the audit log") -> None:
    """Raise unless the actor reads the whole log (everyone else is refused, not shown a part)."""
    if not reads_whole_log(actor):
        raise PermissionDenied(f"Only auditors and administrators may {to}.")
