"""The permission table of docs/design.md, transcribed independently of `workflow.policy`,
for the tests that check the engine and the API against it."""

from __future__ import annotations

from accord.workflow import services
from accord.workflow.states import State

from .factories import USERS

OK, HIDDEN, FORBIDDEN, WRONG_STATE = "ok", "404", "403", "409"

# Who each test user is, relative to the standard recommendation (proposed by KZ-BS, addressed
# to KZ-BS and KG-BS, in a process of KZ-BS, KG-BS, UZ-CS and LV-SBG).
RELATION = {
    "kz_expert": "proposing", "kz_approver": "proposing",
    "kg_expert": "addressed", "kg_approver": "addressed",
    "uz_expert": "participant", "uz_approver": "participant",
    "tj_approver": "outsider", "ee_expert": "outsider",
    "lv_expert": "participant", "auditor": "participant", "admin": "participant",
}
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
    """docs/design.md, "Who sees what": a draft only to its agency and auditors; "from national
    review on", to every user of the process."""
    if ROLE[user] == "auditor" or RELATION[user] == "proposing":
        return True
    return state in REACHED_REVIEW and RELATION[user] != "outsider"


def expected(action: str, user: str, state: State) -> str:
    if not visible(user, state):
        return HIDDEN
    if action == "edit":
        if ROLE[user] == "national_expert" and RELATION[user] == "proposing":
            return OK if state is State.draft else WRONG_STATE
        if ROLE[user] == "eu_expert":
            return OK if state is State.expert_consolidation else WRONG_STATE
        return FORBIDDEN
    who, states = DESIGN_TABLE[action]
    if not who(ROLE[user], RELATION[user]):
        return FORBIDDEN
    return OK if state in states else WRONG_STATE


ACTIONS = ["edit", *DESIGN_TABLE]
STATES = list(State)



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
