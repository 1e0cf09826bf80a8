"""Who is who in a generated data set, and where it may be loaded.

The rule: it loads into a database that holds the demo (the demo's process and its 19 accounts,
active) and no generated data set yet (none of the four workshops below); `accord demo --scale`
loads the demo first into an empty database. Anything else is refused, and nothing is changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from accord.workflow.models import Agency, AgencyKind, Process, Role, User

from .. import demo

#: Only the demo's own people act in the generated history.
DEMO_PEOPLE = frozenset(username for username, *_ in demo.USERS)
NATIONAL = [code for code, _, _, kind in demo.AGENCIES if kind == "national"]

#: The workshops a generated data set adds; any of them present means one was loaded already.
PROCESSES: list[tuple[str, list[str]]] = [
    (
        "Integrated border management — Bishkek, 3–5 March 2020",
        ["KZ-BS", "KZ-SRC", "KG-BS", "KG-CS", "TJ-BT", "TJ-CS", "LV-SBG", "EE-ASS"],
    ),
    (
        "Customs risk management — Tashkent, 15–17 September 2020",
        ["KZ-SRC", "KG-CS", "TJ-CS", "TM-CS", "UZ-CC", "LV-SRS"],
    ),
    (
        "Green border surveillance — Dushanbe, 10–12 May 2021",
        ["KZ-BS", "KG-BS", "TJ-BT", "TM-BS", "UZ-BT", "LV-SBG", "EE-ASS"],
    ),
    (
        "Trade facilitation at crossing points — Almaty, 22–24 November 2021",
        [*NATIONAL, "LV-SRS"],
    ),
]


@dataclass
class World:
    """The demo's agencies, people and process, as they stand in the database."""

    agency_ids: dict[str, int]
    eu_agencies: frozenset[str]
    users: dict[str, tuple[int, str, frozenset[Role]]]  # username → (id, agency code, roles)
    demo_process_id: int
    by_role: dict[tuple[str, Role], list[str]] = field(default_factory=dict)
    _people: dict[tuple[str, tuple[Role, ...]], list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for username in sorted(self.users):
            _, agency, roles = self.users[username]
            for role in roles:
                self.by_role.setdefault((agency, role), []).append(username)

    def people(self, agency: str, *roles: Role) -> list[str]:
        """The agency's people in any of these roles, by username."""
        key = (agency, roles)
        found = self._people.get(key)
        if found is None:
            found = self._people[key] = sorted({u for r in roles for u in self.by_role.get((agency, r), [])})
        return found

    @classmethod
    def read(cls, session: Session) -> World:
        agencies = session.execute(select(Agency.code, Agency.id, Agency.kind)).all()
        users = session.scalars(select(User).options(selectinload(User.role_rows))).all()
        return cls(
            agency_ids={code: id_ for code, id_, _ in agencies},
            eu_agencies=frozenset(code for code, _, kind in agencies if kind == AgencyKind.eu),
            users={u.username: (u.id, u.agency.code, u.roles) for u in users if u.username in DEMO_PEOPLE},
            # refusal() has made sure the demo is there (data sets go only into the demo).
            demo_process_id=session.scalars(select(Process.id).where(Process.title == demo.PROCESS_TITLE)).one(),
        )


def is_empty(session: Session) -> bool:
    return not session.scalar(select(func.count()).select_from(Agency))


def refusal(session: Session) -> str | None:
    """Why a generated data set cannot be loaded here, or None (see the module's rule)."""
    titles = set(session.scalars(select(Process.title)))
    loaded = [title for title, _ in PROCESSES if title in titles]
    if loaded:
        return (
            f"A generated data set is loaded already (the process “{loaded[0]}” exists); "
            "--scale runs once per database."
        )
    if demo.PROCESS_TITLE not in titles:
        return "This database does not hold the demo; --scale loads only into the demo or an empty database."
    people = {
        u.username: u
        for u in session.scalars(select(User).where(User.username.in_([name for name, *_ in demo.USERS])))
    }
    for username, _, agency, _ in demo.USERS:
        user = people.get(username)
        if user is None or user.agency.code != agency:
            return f"The demo account {username} is missing; --scale loads only into the demo."
        if not user.active:
            return f"The demo account {username} is disabled; --scale needs every demo account active."
    return None


class Refused(Exception):
    pass

