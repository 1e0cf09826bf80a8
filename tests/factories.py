"""A small world of agencies, users and a process, and recommendations brought to any state
through the services themselves (so every fixture has a valid audit chain behind it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from accord.workflow import services
from accord.workflow.actors import SYSTEM
from accord.workflow.models import Process, Recommendation, User
from accord.workflow.states import State

PASSWORD = "correct horse battery staple"

AGENCIES = [
    # code, name, country, kind
    ("KZ-BS", "Border Service of Kazakhstan", "Kazakhstan", "national"),
    ("KG-BS", "Border Service of Kyrgyzstan", "Kyrgyzstan", "national"),
    ("UZ-CS", "Customs Committee of Uzbekistan", "Uzbekistan", "national"),
    ("TJ-BS", "Border Troops of Tajikistan", "Tajikistan", "national"),
    ("LV-SBG", "State Border Guard of Latvia", "Latvia", "eu"),
    ("EE-ASS", "Estonian Academy of Security Sciences", "Estonia", "eu"),
]

#: The process takes in every agency but TJ-BS and EE-ASS, which stand outside it.
PROCESS_AGENCIES = ["KZ-BS", "KG-BS", "UZ-CS", "LV-SBG"]

#: username → (agency, roles). The standard recommendation is proposed by KZ-BS and addressed
#: to KZ-BS and KG-BS; UZ-CS only takes part in the process.
USERS = {
    "kz_expert": ("KZ-BS", ["national_expert"]),
    "kz_approver": ("KZ-BS", ["approver"]),
    "kg_expert": ("KG-BS", ["national_expert"]),
    "kg_approver": ("KG-BS", ["approver"]),
    "uz_expert": ("UZ-CS", ["national_expert"]),
    "uz_approver": ("UZ-CS", ["approver"]),
    "tj_approver": ("TJ-BS", ["approver"]),
    "lv_expert": ("LV-SBG", ["eu_expert"]),
    "ee_expert": ("EE-ASS", ["eu_expert"]),
    "auditor": ("LV-SBG", ["auditor"]),
    "admin": ("LV-SBG", ["admin"]),
}

BODY = (
    "Establish a joint working group on inter-agency cooperation.\n\n"
    "The group meets every quarter and reports to the heads of agencies.\n\n"
    "Its first task is a shared risk analysis of the common border."
)


@dataclass
class World:
    process: Process
    users: dict[str, User] = field(default_factory=dict)

    def __getitem__(self, username: str) -> User:
        return self.users[username]

    def draft(
        self,
        session: Session,
        *,
        by: str = "kz_expert",
        title: str = "Joint working group on inter-agency cooperation",
        body: str = BODY,
        addressed: tuple[str, ...] = ("KG-BS",),
    ) -> Recommendation:
        return services.create_recommendation(
            session,
            self[by],
            process_id=self.process.id,
            title=title,
            body=body,
            addressed_agencies=list(addressed),
        )

    def bring_to(
        self, session: Session, state: State, *, approved: bool = False, **draft_args
    ) -> Recommendation:
        """A recommendation of KZ-BS, addressed to KZ-BS and KG-BS, moved to `state` by the
        people whose job it is. With `approved`, both agencies approve in consolidation."""
        rec = self.draft(session, **draft_args)
        if state is State.draft:
            return rec
        if state is State.withdrawn:
            return self.fire(session, rec, "withdraw", "kz_expert", reason="Superseded.")
        self.fire(session, rec, "submit", "kz_expert")
        if state is State.national_review:
            return rec
        self.fire(session, rec, "endorse", "kz_approver")
        if state is State.expert_consolidation and not approved:
            return rec
        for approver in ("kz_approver", "kg_approver"):
            services.record_decision(session, self[approver], rec.id, "approve", revision=rec.revision)
        if state is State.expert_consolidation:
            return rec
        if state is State.adopted:
            return self.fire(session, rec, "adopt", "lv_expert")
        if state is State.merged:
            target = self.bring_to(session, State.expert_consolidation, title="Merge target")
            return self.fire(session, rec, "merge", "lv_expert", into=target.id)
        raise AssertionError(f"no way to {state}")

    def fire(self, session: Session, rec: Recommendation, action: str, by: str, **kwargs) -> Recommendation:
        return services.perform_transition(session, self[by], rec.id, action, **kwargs)


PROCESS_TITLE = "Joint strategic management — test"


def build_world(session: Session) -> World:
    for code, name, country, kind in AGENCIES:
        services.add_agency(session, SYSTEM, code=code, name=name, country=country, kind=kind)
    process = services.add_process(session, SYSTEM, title=PROCESS_TITLE, agency_codes=PROCESS_AGENCIES)
    world = World(process=process)
    for username, (agency, roles) in USERS.items():
        world.users[username] = services.add_user(
            session, SYSTEM, username=username, agency_code=agency, roles=roles, password=PASSWORD
        )
    session.flush()
    return world


def load_world(session: Session) -> World:
    """The world `build_world` made earlier in this database, read in `session`."""
    process = session.scalars(select(Process).where(Process.title == PROCESS_TITLE)).one()
    users = session.scalars(
        select(User).where(User.username.in_(USERS)).options(selectinload(User.role_rows))
    ).all()
    world = World(process=process, users={user.username: user for user in users})
    assert set(world.users) == set(USERS), "the world was not built in this database"
    return world
