"""Every action × every role (alone or together) × every relation to the recommendation × every
state, active or disabled, against the table of docs/design.md (tests/design.py, transcribed
independently of `workflow.policy`).

The table is checked on plain model objects, with no database: `authorize` must answer what the
design says (allowed, 404 not visible, 403 not allowed, 409 wrong state) and `allowed_actions`
must list exactly the allowed actions. Then one case per action and outcome runs the real
service on a real database, proving that each service asks the policy and that a refusal
changes nothing while an allowed action writes one audit event.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from accord.workflow import services
from accord.workflow.actors import SYSTEM
from accord.workflow.errors import Conflict, NotFound, PermissionDenied
from accord.workflow.models import (
    Agency,
    AgencyKind,
    Approval,
    AuditEvent,
    Decision,
    Process,
    Recommendation,
    Role,
    User,
    UserRole,
)
from accord.workflow.policy import Action, allowed_actions, authorize
from accord.workflow.states import State

from ..design import (
    ACTIONS,
    AGENCY_RELATION,
    FORBIDDEN,
    HIDDEN,
    OK,
    REACHED_REVIEW,
    ROLE_SETS,
    STATES,
    WRONG_STATE,
    move_to,
    one_case_per_outcome,
    outcome_for,
)
from ..factories import AGENCIES, PASSWORD, PROCESS_AGENCIES
from ..helpers import snapshot

OUTCOME_OF = {NotFound: HIDDEN, PermissionDenied: FORBIDDEN, Conflict: WRONG_STATE}
#: tests/design.py names thread moderation "resolve", as docs/design.md does.
POLICY_ACTION = {action: Action.moderate_thread if action == "resolve" else Action(action) for action in ACTIONS}

# --- the table on plain objects ---------------------------------------------------------------

AGENCY = {
    code: Agency(id=number, code=code, name=name, country=country, kind=AgencyKind(kind))
    for number, (code, name, country, kind) in enumerate(AGENCIES, 1)
}
PROCESS = Process(id=1, title="Joint strategic management", agencies=[AGENCY[c] for c in PROCESS_AGENCIES])


def _person(number: int, code: str, roles: set[str], active: bool) -> User:
    agency = AGENCY[code]
    return User(
        id=number, username=f"{'+'.join(sorted(roles))}@{code}{'' if active else ' (disabled)'}",
        agency=agency, agency_id=agency.id, active=active,
        role_rows=[UserRole(role=Role(role)) for role in sorted(roles)],
    )


#: Someone of every agency (so of every relation) in every role set its kind allows, active or not.
PEOPLE = [
    (_person(number, code, roles, active), roles, AGENCY_RELATION[code], active)
    for number, (code, roles, active) in enumerate(
        ((code, roles, active)
         for code, *_, kind in AGENCIES
         for roles in ROLE_SETS[kind]
         for active in (True, False)),
        1,
    )
]


def standard_recommendation(state: State, *, approved: bool) -> Recommendation:
    """The standard recommendation of tests/design.py (KZ-BS's, addressed to KZ-BS and KG-BS)
    at `state` by the paths `move_to` takes; with `approved`, both agencies approved its
    current revision on the way through consolidation."""
    rec = Recommendation(
        id=1, process=PROCESS, process_id=PROCESS.id, title="Joint working group", body="Its text.",
        state=state, revision=1, proposing_agency=AGENCY["KZ-BS"], proposing_agency_id=AGENCY["KZ-BS"].id,
        addressed_agencies=[AGENCY["KG-BS"], AGENCY["KZ-BS"]],
        submitted_at=datetime(2019, 11, 12, tzinfo=UTC) if state in REACHED_REVIEW else None,
    )
    if approved and state in (State.expert_consolidation, State.adopted, State.merged):
        for number, code in enumerate(("KZ-BS", "KG-BS"), 1):
            Approval(
                id=number, recommendation=rec, agency=AGENCY[code], agency_id=AGENCY[code].id,
                decision=Decision.approve, revision_number=rec.revision,
            )
    return rec


def policy_answer(person: User, rec: Recommendation, action: str) -> str:
    try:
        authorize(person, rec, POLICY_ACTION[action])
    except (NotFound, PermissionDenied, Conflict) as refusal:
        return OUTCOME_OF[type(refusal)]
    return OK


def test_the_people_cover_every_relation_and_role():
    assert {relation for *_, relation, _ in PEOPLE} == {"proposing", "addressed", "participant", "outsider"}
    assert {role for _, roles, *_ in PEOPLE for role in roles} == {role.value for role in Role}
    assert len(PEOPLE) == 72


@pytest.mark.parametrize("state", STATES, ids=lambda s: s.value)
@pytest.mark.parametrize("action", ACTIONS)
def test_policy_answers_as_the_design_table(action: str, state: State):
    rec = standard_recommendation(state, approved=(action == "adopt"))
    answers = {person.username: policy_answer(person, rec, action) for person, *_ in PEOPLE}
    designed = {
        person.username: outcome_for(action, roles, relation, state, active=active)
        for person, roles, relation, active in PEOPLE
    }
    assert answers == designed


def designed_list(roles: set[str], relation: str, state: State, *, active: bool, approved: bool) -> set[str]:
    """What a page offers: every action the table allows (resolving a thread has no button),
    but adoption only once every addressed agency approved (its guard), and no `approve` where
    the agency's approval already stands (it would change nothing)."""
    offered = {
        action for action in ACTIONS
        if action != "resolve" and outcome_for(action, roles, relation, state, active=active) == OK
    }
    if approved:
        offered.discard("approve")
    if not approved:
        offered.discard("adopt")
    return offered


@pytest.mark.parametrize("approved", [True, False], ids=["approved", "not approved"])
@pytest.mark.parametrize("state", STATES, ids=lambda s: s.value)
def test_allowed_actions_list_exactly_what_the_design_allows(state: State, approved: bool):
    rec = standard_recommendation(state, approved=approved)
    listed = {person.username: set(allowed_actions(person, rec)) for person, *_ in PEOPLE}
    designed = {
        person.username: designed_list(roles, relation, state, active=active, approved=approved)
        for person, roles, relation, active in PEOPLE
    }
    assert listed == designed


# --- one case per outcome through the services ------------------------------------------------


def perform(session, world, action: str, user, rec, thread_id: int, merge_target_id: int | None):
    actor = world[user] if isinstance(user, str) else user
    if action == "edit":
        return services.edit_recommendation(
            session, actor, rec.id, title=rec.title, body=rec.body + "\n\nOne more sentence.",
            base_revision=rec.revision,
        )
    if action in ("approve", "object"):
        return services.record_decision(
            session, actor, rec.id, action, revision=rec.revision, reason="Our reasons."
        )
    if action == "comment":
        return services.start_thread(session, actor, rec.id, body="A remark.")
    if action == "resolve":
        return services.resolve_thread(session, actor, thread_id)
    return services.perform_transition(
        session, actor, rec.id, action, reason="Our reasons.", into=merge_target_id
    )


@pytest.mark.parametrize(
    ("action", "outcome", "user", "state"), one_case_per_outcome(),
    ids=lambda value: getattr(value, "value", value),
)
def test_each_service_asks_the_policy(session, world, action, outcome, user, state):
    # Approvals are only in place where the adoption guard needs them, so that an `approve`
    # in consolidation is a new decision.
    rec = world.draft(session)
    thread = services.start_thread(session, world["kz_expert"], rec.id, body="Opening remark.")
    world_rec = move_to(session, world, rec, state, approved=(action == "adopt"))
    merge_target = None
    if action == "merge" and state is State.expert_consolidation:
        merge_target = world.bring_to(session, State.expert_consolidation, title="Target").id
    session.commit()

    before = snapshot(session)
    if outcome == OK:
        perform(session, world, action, user, world_rec, thread.id, merge_target)
        session.commit()
        after = snapshot(session)
        assert after["counts"]["audit_events"] == before["counts"]["audit_events"] + 1
        return
    with pytest.raises((NotFound, PermissionDenied, Conflict)) as refused:
        perform(session, world, action, user, world_rec, thread.id, merge_target)
    session.rollback()
    assert OUTCOME_OF[type(refused.value)] == outcome, refused.value.message
    assert snapshot(session) == before, "a refused action changed something"


def test_refused_action_writes_no_event(session, world):
    rec = world.draft(session)
    session.commit()
    count = session.query(AuditEvent).count()
    with pytest.raises(PermissionDenied):
        services.perform_transition(session, world["kz_approver"], rec.id, "submit")
    session.rollback()
    assert session.query(AuditEvent).count() == count


@pytest.mark.parametrize(("role", "agency"), [
    ("national_expert", "KG-BS"), ("approver", "KG-BS"),  # an addressed agency
    ("national_expert", "UZ-CS"),  # an agency that only takes part
    ("eu_expert", "LV-SBG"),
])
def test_an_auditor_who_also_drafts_reads_a_private_draft_but_acts_on_nothing(session, world, role, agency):
    """The auditor's reading right does not become a writing right: every action on another
    agency's private draft is refused (403) and changes nothing; once the draft is submitted,
    the drafting role acts as it always did."""
    actor = services.add_user(session, SYSTEM, username=f"auditing_{role}_{agency[:2].lower()}",
                              agency_code=agency, roles=["auditor", role], password=PASSWORD)
    rec = world.draft(session)
    thread = services.start_thread(session, world["kz_expert"], rec.id, body="Opening remark.")
    session.commit()
    assert services.get_recommendation(session, actor, rec.id).id == rec.id
    assert [t.id for t in services.list_threads(session, actor, rec.id).items] == [thread.id]
    assert allowed_actions(actor, rec) == []
    before = snapshot(session)
    for action in ACTIONS:
        with pytest.raises(PermissionDenied, match="Auditors read another agency's private draft"):
            perform(session, world, action, actor, rec, thread.id, None)
        session.rollback()
        with pytest.raises(PermissionDenied):
            services.add_comment(session, actor, thread.id, body="A reply.")
        session.rollback()
    assert snapshot(session) == before
    services.perform_transition(session, world["kz_expert"], rec.id, "submit")
    session.commit()
    assert "comment" in allowed_actions(actor, rec)
    services.add_comment(session, actor, thread.id, body="Now that it is submitted.")
    services.resolve_thread(session, actor, thread.id)
