"""The recommendation state machine, declared once.

The same declaration fires transitions in the services, answers "may this happen now?" for the
permission policy, and so drives the buttons on a page and `allowed_actions` in the API.

One `Machine` serves every recommendation: it is built at import with no models attached, and
a transition is fired on a row by handing the row to the event (the library reads and writes its
`state` attribute). Nothing is added to or kept on the machine per object, so it is safe to share
between threads and costs nothing per request.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from transitions import EventData, Machine

from .errors import Conflict

if TYPE_CHECKING:
    from .models.recommendations import Recommendation


class State(enum.StrEnum):
    #: Proposed text, visible to the proposing agency (and auditors) only.
    draft = "draft"
    #: National agencies review the submitted text.
    national_review = "national_review"
    #: EU experts consolidate it and the addressed agencies approve the exact text.
    expert_consolidation = "expert_consolidation"
    #: Approved by every addressed agency and adopted. Read-only.
    adopted = "adopted"
    #: Withdrawn by its proposing agency. Read-only.
    withdrawn = "withdrawn"
    #: Folded into another recommendation, which keeps the link back. Read-only.
    merged = "merged"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


#: States in which a recommendation is read-only.
TERMINAL_STATES = frozenset({State.adopted, State.withdrawn, State.merged})


class Transition(enum.StrEnum):
    submit = "submit"
    request_changes = "request_changes"
    endorse = "endorse"
    return_ = "return"  # a Python keyword, hence the trailing underscore on the member name
    adopt = "adopt"
    merge = "merge"
    withdraw = "withdraw"


#: Transitions that must be given a reason, which goes into the audit event.
REASON_REQUIRED = frozenset({Transition.request_changes, Transition.return_, Transition.withdraw})


@dataclass(frozen=True)
class Guard:
    """A pure condition on a transition, with the sentence shown when it does not hold.

    `needs_input` guards look at the caller's arguments (such as the merge target); they cannot
    be judged before the caller names them, so `allowed_actions` leaves them to the firing.
    """

    predicate: Callable[[Recommendation, dict[str, Any]], bool]
    message: str
    needs_input: bool = False

    def __call__(self, event: EventData) -> bool:
        # fire() is the machine's only way in, and it passes a Recommendation.
        return self.predicate(cast("Recommendation", event.model), event.kwargs)


def _has_title(rec: Recommendation, _: dict[str, Any]) -> bool:
    return bool(rec.title.strip())


def _has_body(rec: Recommendation, _: dict[str, Any]) -> bool:
    return bool(rec.body.strip())


def _has_addressee(rec: Recommendation, _: dict[str, Any]) -> bool:
    return bool(rec.addressed_agencies)


def _every_addressee_approves_current_text(rec: Recommendation, _: dict[str, Any]) -> bool:
    return rec.missing_approvals() == [] and not rec.standing_objections()


def _target_in_consolidation(rec: Recommendation, args: dict[str, Any]) -> bool:
    target = args.get("into")
    return (
        target is not None
        and target.id != rec.id
        and target.process_id == rec.process_id
        and target.state == State.expert_consolidation
    )


TRANSITIONS: list[dict[str, Any]] = [
    {
        "trigger": Transition.submit.value,
        "source": State.draft,
        "dest": State.national_review,
        "conditions": [
            Guard(_has_title, "A recommendation needs a title before it can be submitted."),
            Guard(_has_body, "A recommendation needs a text before it can be submitted."),
            Guard(_has_addressee, "A recommendation needs at least one addressed agency."),
        ],
    },
    {
        "trigger": Transition.request_changes.value,
        "source": State.national_review,
        "dest": State.draft,
    },
    {
        "trigger": Transition.endorse.value,
        "source": State.national_review,
        "dest": State.expert_consolidation,
    },
    {
        "trigger": Transition.return_.value,
        "source": State.expert_consolidation,
        "dest": State.national_review,
    },
    {
        "trigger": Transition.adopt.value,
        "source": State.expert_consolidation,
        "dest": State.adopted,
        "conditions": [
            Guard(
                _every_addressee_approves_current_text,
                "Every addressed agency must approve the current revision, with no objection "
                "standing, before the recommendation can be adopted.",
            )
        ],
    },
    {
        "trigger": Transition.merge.value,
        "source": State.expert_consolidation,
        "dest": State.merged,
        "conditions": [
            Guard(
                _target_in_consolidation,
                "A recommendation can only be merged into another recommendation of the same "
                "process that is in expert consolidation.",
                needs_input=True,
            )
        ],
    },
    {
        "trigger": Transition.withdraw.value,
        "source": [State.draft, State.national_review],
        "dest": State.withdrawn,
    },
]

MACHINE = Machine(
    model=None,
    states=State,
    transitions=TRANSITIONS,
    initial=State.draft,
    auto_transitions=False,  # no to_<state>() shortcuts that would walk past every guard
    send_event=True,
)


def _transition_from(trigger: Transition, state: State) -> Any | None:
    transitions = MACHINE.events[trigger.value].transitions.get(state.name, [])
    return transitions[0] if transitions else None


def source_states(trigger: Transition) -> frozenset[State]:
    """The states from which the declaration lets `trigger` fire."""
    return frozenset(State[name] for name in MACHINE.events[trigger.value].transitions)


def is_valid_from(trigger: Transition, state: State) -> bool:
    return _transition_from(trigger, state) is not None


def failed_guard(
    rec: Recommendation, trigger: Transition, *, judge_input: bool = True, **args: Any
) -> Guard | None:
    """The first guard of `trigger` that does not hold for `rec` now, or None."""
    transition = _transition_from(trigger, rec.state)
    if transition is None:
        raise Conflict(_wrong_state_message(trigger, rec.state), code="wrong_state")
    for condition in transition.conditions:
        guard: Guard = condition.func
        if guard.needs_input and not judge_input:
            continue
        if not guard.predicate(rec, args):
            return guard
    return None


def fire(rec: Recommendation, trigger: Transition, **args: Any) -> tuple[State, State]:
    """Fire `trigger` on `rec`, changing `rec.state`; returns (from, to).

    Raises Conflict when the state does not allow it or a guard fails; `rec` is then untouched.
    """
    before = rec.state
    if not is_valid_from(trigger, before):
        raise Conflict(_wrong_state_message(trigger, before), code="wrong_state")
    if not MACHINE.events[trigger.value].trigger(rec, **args):
        guard = failed_guard(rec, trigger, **args)
        raise Conflict(guard.message if guard else "The transition was refused.", code="guard_failed")
    return before, rec.state


def _wrong_state_message(trigger: Transition, state: State) -> str:
    allowed = ", ".join(sorted(s.label for s in source_states(trigger)))
    return (
        f"“{trigger.value.replace('_', ' ')}” is not possible while the recommendation is "
        f"{state.label}; it needs: {allowed}."
    )
