"""The state machine declaration: exactly docs/design.md's transitions, shared, guarded."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from accord.workflow.errors import Conflict
from accord.workflow.states import MACHINE, State, Transition, fire, is_valid_from, source_states

DESIGN = {
    "submit": ({"draft"}, "national_review"),
    "request_changes": ({"national_review"}, "draft"),
    "endorse": ({"national_review"}, "expert_consolidation"),
    "return": ({"expert_consolidation"}, "national_review"),
    "adopt": ({"expert_consolidation"}, "adopted"),
    "merge": ({"expert_consolidation"}, "merged"),
    "withdraw": ({"draft", "national_review"}, "withdrawn"),
}


def test_declaration_is_the_design_table():
    declared = {}
    for name, event in MACHINE.events.items():
        sources = set(event.transitions)
        dests = {t.dest for transitions in event.transitions.values() for t in transitions}
        declared[name] = (sources, dests.pop())
    assert declared == DESIGN


def test_no_auto_transitions_walk_past_the_guards():
    assert not any(name.startswith("to_") for name in MACHINE.events)


def test_terminal_states_have_no_way_out():
    for state in (State.adopted, State.withdrawn, State.merged):
        assert not any(is_valid_from(t, state) for t in Transition)


def _rec(state, **fields):
    defaults = dict(id=1, process_id=1, title="T", body="B", addressed_agencies=[object()])
    return SimpleNamespace(state=state, **{**defaults, **fields})


def test_fire_changes_the_state_of_any_object_without_attaching_it():
    rec = _rec(State.draft)
    assert fire(rec, Transition.submit) == (State.draft, State.national_review)
    assert rec.state is State.national_review
    assert MACHINE.models == []  # nothing is kept per object


@pytest.mark.parametrize("field", ["title", "body"])
def test_submit_guard_names_what_is_missing(field):
    rec = _rec(State.draft, **{field: "   "})
    with pytest.raises(Conflict, match=field if field == "title" else "text"):
        fire(rec, Transition.submit)
    assert rec.state is State.draft


def test_submit_needs_an_addressed_agency():
    rec = _rec(State.draft, addressed_agencies=[])
    with pytest.raises(Conflict, match="addressed agency"):
        fire(rec, Transition.submit)


def test_wrong_state_is_a_conflict_that_says_where_the_action_applies():
    rec = _rec(State.adopted)
    with pytest.raises(Conflict, match="expert consolidation") as refused:
        fire(rec, Transition.merge, into=None)
    assert refused.value.code == "wrong_state"
    assert rec.state is State.adopted


def test_merge_guard_wants_another_recommendation_in_consolidation():
    rec = _rec(State.expert_consolidation)
    for into in (None, rec, _rec(State.national_review, id=2), _rec(State.expert_consolidation, id=2, process_id=9)):
        with pytest.raises(Conflict):
            fire(rec, Transition.merge, into=into)
    fire(rec, Transition.merge, into=_rec(State.expert_consolidation, id=2))
    assert rec.state is State.merged


def test_source_states():
    assert source_states(Transition.withdraw) == {State.draft, State.national_review}
