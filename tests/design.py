"""docs/design.md's permission table, transcribed independently of `workflow.policy`, for the tests
that check the engine and the API against it."""

from __future__ import annotations

from accord.workflow import services
from accord.workflow.states import State

from .factories import USERS

OK, HIDDEN, FORBIDDEN, WRONG_STATE = "ok", "404", "403", "409"

#: How each agency of the test world stands to the standard recommendation (proposed by KZ-BS,
#: addressed to KZ-BS and KG-BS, in a process of KZ-BS, KG-BS, UZ-CS and LV-SBG).
AGENCY_RELATION = {
    "KZ-BS": "proposing", "KG-BS": "addressed", "UZ-CS": "participant", "TJ-BS": "outsider",
    "LV-SBG": "participant", "EE-ASS": "outsider",
}
RELATIONS = ("proposing", "addressed", "participant", "outsider")
#: docs/design.md, "Domain": the roles a user may hold in each kind of agency, alone or together.
ROLE_SETS = {
    "national": [
        {"national_expert"}, {"approver"}, {"national_expert", "approver"}, {"auditor"}, {"admin"},
        {"auditor", "national_expert"}, {"auditor", "approver"},
    ],
    "eu": [{"eu_expert"}, {"auditor"}, {"admin"}, {"auditor", "eu_expert"}],
}

# Who each test user is, relative to the standard recommendation.
RELATION = {name: AGENCY_RELATION[agency] for name, (agency, _) in USERS.items()}
ROLE = {name: roles[0] for name, (_, roles) in USERS.items()}

TERMINAL = {State.adopted, State.withdrawn, State.merged}

# docs/design.md, "The state machine": action → (who may, in which states).
DESIGN_TABLE = {
    "submit": (lambda r, rel: r == "national_expert" and rel == "proposing", {State.draft}),
    "request_changes": (
        lambda r, rel: r == "approver" and rel in ("proposing", "addressed"), {State.national_review}
    ),
    "endorse": (lambda r, rel: r == "approver" and rel == "proposing", {State.national_review}),
    "return": (lambda r, rel: r == "eu_expert", {State.expert_consolidation}),
    "adopt": (lambda r, rel: r == "eu_expert", {State.expert_consolidation}),
    "merge": (lambda r, rel: r == "eu_expert", {State.expert_consolidation}),
    "withdraw": (
        lambda r, rel: r in ("national_expert", "approver") and rel == "proposing",
        {State.draft, State.national_review},
    ),
    "approve": (lambda r, rel: r == "approver" and rel in ("proposing", "addressed"), {State.expert_consolidation}),
    "object": (lambda r, rel: r == "approver" and rel in ("proposing", "addressed"), {State.expert_consolidation}),
    "comment": (lambda r, rel: r in ("national_expert", "approver", "eu_expert"), set(State) - TERMINAL),
    "resolve": (lambda r, rel: r in ("national_expert", "approver", "eu_expert"), set(State) - TERMINAL),
}


#: States the standard recommendation reaches through national review (`_move` withdraws it
#: while still a draft, so it never got there).
REACHED_REVIEW = {State.national_review, State.expert_consolidation, State.adopted, State.merged}


def visible(user: str, state: State) -> bool:
    return visible_to({ROLE[user]}, RELATION[user], state)


def visible_to(roles: set[str], relation: str, state: State, *, active: bool = True) -> bool:
    """docs/design.md, "Who sees what": a draft only to its agency and auditors; "from national
    review on", to every user of the process. A disabled account sees nothing (README)."""
    if not active:
        return False
    if "auditor" in roles or relation == "proposing":
        return True
    return state in REACHED_REVIEW and relation != "outsider"


def expected(action: str, user: str, state: State) -> str:
    return outcome_for(action, {ROLE[user]}, RELATION[user], state)


def outcome_for(action: str, roles: set[str], relation: str, state: State, *, active: bool = True) -> str:
    """What docs/design.md says `action` answers to a user with `roles` in an agency of `relation`,
    judged in the documented order: not visible (404), then no grant (403), then wrong state
    (409). A user with several roles may do what any one of them may; but an auditor acts only
    where their agency sees the recommendation (docs/design.md, "Domain"): what only the
    auditor's eyes reach is refused (403) whatever the action."""
    if not visible_to(roles, relation, state, active=active):
        return HIDDEN
    if not visible_to(roles - {"auditor"}, relation, state, active=active):
        return FORBIDDEN
    answers = {_outcome_of_role(action, role, relation, state) for role in roles}
    return next(outcome for outcome in (OK, WRONG_STATE, FORBIDDEN) if outcome in answers)


def _outcome_of_role(action: str, role: str, relation: str, state: State) -> str:
    if action == "edit":
        if role == "national_expert" and relation == "proposing":
            return OK if state is State.draft else WRONG_STATE
        if role == "eu_expert":
            return OK if state is State.expert_consolidation else WRONG_STATE
        return FORBIDDEN
    who, states = DESIGN_TABLE[action]
    if not who(role, relation):
        return FORBIDDEN
    return OK if state in states else WRONG_STATE


ACTIONS = ["edit", *DESIGN_TABLE]
STATES = list(State)
OUTCOMES = (OK, HIDDEN, FORBIDDEN, WRONG_STATE)


def one_case_per_outcome() -> list[tuple[str, str, str, State]]:
    """(action, outcome, user, state): for each action, the first test user and state (in the
    order of USERS and STATES) that docs/design.md answers with each outcome the action can have,
    and an allowed case in each state the action is allowed in (so that every transition fires
    from each of its source states). Derived from the table, so a change to the table moves
    the cases with it."""
    cases = []
    for action in ACTIONS:
        found: dict[tuple[str, State | None], tuple[str, State]] = {}
        for state in STATES:
            for user in USERS:
                outcome = expected(action, user, state)
                found.setdefault((outcome, state if outcome == OK else None), (user, state))
        cases.extend((action, outcome, *case) for (outcome, _), case in found.items())
    return cases


def move_to(session, world, rec, state: State, *, approved: bool):
    """Take the standard draft to `state` (as world.bring_to does, on an existing draft)."""
    fire = lambda action, by, **kw: services.perform_transition(session, world[by], rec.id, action, **kw)  # noqa: E731
    if state is State.draft:
        return rec
    if state is State.withdrawn:
        return fire("withdraw", "kz_expert", reason="Superseded.")
    fire("submit", "kz_expert")
    if state is State.national_review:
        return rec
    fire("endorse", "kz_approver")
    if approved or state in (State.adopted,):
        for approver in ("kz_approver", "kg_approver"):
            services.record_decision(session, world[approver], rec.id, "approve", revision=rec.revision)
    if state is State.expert_consolidation:
        return rec
    if state is State.adopted:
        return fire("adopt", "lv_expert")
    target = world.bring_to(session, State.expert_consolidation, title="Merge target")
    return fire("merge", "lv_expert", into=target.id)
