"""The demo data set: the workshop on joint strategic management in Ashgabat, 12–14 November
2019, with the border and customs agencies of the five Central Asian countries and three EU
bodies. It is loaded through the services, so its history and audit chain are real.

Every demo account's password is DEMO_PASSWORD (see the README).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.workflow import services
from accord.workflow.actors import SYSTEM
from accord.workflow.models import Agency, Recommendation, User

DEMO_PASSWORD = "ashgabat-workshop-2019"

PROCESS_TITLE = "Joint strategic management — Ashgabat, 12–14 November 2019"

AGENCIES = [
    # code, name, country, kind
    ("KZ-BS", "Border Service of the National Security Committee", "Kazakhstan", "national"),
    ("KZ-SRC", "State Revenue Committee (Customs)", "Kazakhstan", "national"),
    ("KG-BS", "Border Service of the State Committee for National Security", "Kyrgyzstan", "national"),
    ("KG-CS", "State Customs Service", "Kyrgyzstan", "national"),
    ("TJ-BT", "Border Troops of the State Committee for National Security", "Tajikistan", "national"),
    ("TJ-CS", "Customs Service under the Government", "Tajikistan", "national"),
    ("TM-BS", "State Border Service", "Turkmenistan", "national"),
    ("TM-CS", "State Customs Service", "Turkmenistan", "national"),
    ("UZ-BT", "Border Troops of the State Security Service", "Uzbekistan", "national"),
    ("UZ-CC", "State Customs Committee", "Uzbekistan", "national"),
    ("LV-SBG", "State Border Guard of Latvia", "Latvia", "eu"),
    ("LV-SRS", "State Revenue Service of Latvia", "Latvia", "eu"),
    ("EE-ASS", "Estonian Academy of Security Sciences", "Estonia", "eu"),
]

# username, display name, agency, roles
USERS = [
    ("aigerim", "Aigerim Nurlanovna", "KZ-BS", ["national_expert"]),
    ("serik", "Serik Bekov", "KZ-BS", ["approver"]),
    ("dana", "Dana Omarova", "KZ-SRC", ["national_expert", "approver"]),
    ("bakyt", "Bakyt Toktogulov", "KG-BS", ["national_expert"]),
    ("chynara", "Chynara Asanova", "KG-BS", ["approver"]),
    ("azamat", "Azamat Jumabaev", "KG-CS", ["national_expert", "approver"]),
    ("farrukh", "Farrukh Rahimov", "TJ-BT", ["national_expert", "approver"]),
    ("nigina", "Nigina Saidova", "TJ-CS", ["national_expert"]),
    ("parviz", "Parviz Nazarov", "TJ-CS", ["approver"]),
    ("merdan", "Merdan Atayev", "TM-BS", ["national_expert", "approver"]),
    ("ogulgerek", "Ogulgerek Berdiyeva", "TM-CS", ["national_expert", "approver"]),
    ("jasur", "Jasur Karimov", "UZ-BT", ["national_expert"]),
    ("dilnoza", "Dilnoza Yusupova", "UZ-BT", ["approver"]),
    ("sardor", "Sardor Tursunov", "UZ-CC", ["national_expert", "approver"]),
    ("ilze", "Ilze Kalniņa", "LV-SBG", ["eu_expert"]),
    ("janis", "Jānis Ozols", "LV-SRS", ["eu_expert"]),
    ("kadri", "Kadri Tamm", "EE-ASS", ["eu_expert"]),
    ("auditor", "Programme auditor", "EE-ASS", ["auditor"]),
    ("admin", "Programme administrator", "LV-SBG", ["admin"]),
]


@dataclass(frozen=True)
class Outcome:
    loaded: bool
    message: str


def load(session: Session) -> Outcome:
    """Load the demo into an empty database; on any other database, change nothing."""
    if session.scalar(select(func.count()).select_from(Agency)):
        already = session.scalar(select(User.id).where(User.username == "admin")) is not None
        return Outcome(
            False,
            "Demo data already loaded; nothing changed."
            if already
            else "The database already holds data; the demo loads only into an empty one.",
        )
    for code, name, country, kind in AGENCIES:
        services.add_agency(session, SYSTEM, code=code, name=name, country=country, kind=kind)
    process = services.add_process(
        session, SYSTEM, title=PROCESS_TITLE, agency_codes=[code for code, *_ in AGENCIES]
    )
    people = {
        username: services.add_user(
            session, SYSTEM, username=username, display_name=display, agency_code=agency,
            roles=roles, password=DEMO_PASSWORD,
        )
        for username, display, agency, roles in USERS
    }
    _Story(session, people, process.id).tell()
    count = session.scalar(select(func.count()).select_from(Recommendation))
    return Outcome(True, f"Demo data loaded: {len(people)} users, {count} recommendations.")


class _Story:
    """The workshop's recommendations, each taken to a different point of its life."""

    def __init__(self, session: Session, people: dict[str, User], process_id: int) -> None:
        self.session, self.people, self.process_id = session, people, process_id

    def draft(self, by: str, title: str, body: str, addressed: list[str]) -> Recommendation:
        return services.create_recommendation(
            self.session, self.people[by], process_id=self.process_id, title=title, body=body,
            addressed_agencies=addressed,
        )

    def edit(self, by: str, rec: Recommendation, body: str, summary: str, title: str | None = None) -> None:
        services.edit_recommendation(
            self.session, self.people[by], rec.id, title=title or rec.title, body=body,
            base_revision=rec.revision, summary=summary,
        )

    def act(
        self, by: str, rec: Recommendation, action: str, *, reason: str | None = None, into: int | None = None
    ) -> None:
        services.perform_transition(self.session, self.people[by], rec.id, action, reason=reason, into=into)

    def decide(self, by: str, rec: Recommendation, decision: str, reason: str | None = None) -> None:
        services.record_decision(
            self.session, self.people[by], rec.id, decision, revision=rec.revision, reason=reason
        )

    def discuss(self, rec: Recommendation, by: str, body: str, *replies: tuple[str, str], quote: str | None = None):
        thread = services.start_thread(self.session, self.people[by], rec.id, body=body, quote=quote)
        for who, text in replies:
            services.add_comment(self.session, self.people[who], thread.id, body=text)
        return thread

    def tell(self) -> None:
        self.adopted_planning_cycle()
        self.consolidation_with_stale_approval()
        self.merged_liaison_officers()
        self.in_national_review()
        self.private_draft()
        self.withdrawn_queue()

    def adopted_planning_cycle(self) -> None:
        rec = self.draft(
            "jasur",
            "Joint strategic planning cycle for border management agencies",
            "Border and customs agencies **align their strategic plans** on a common five-year "
            "cycle.\n\nEach agency names a strategic planning unit.\n\n"
            "The units meet once a year to compare priorities and shared risks.",
            ["UZ-CC"],
        )
        self.act("jasur", rec, "submit")
        self.act("dilnoza", rec, "request_changes", reason="Say who chairs the annual meeting.")
        self.edit(
            "jasur", rec,
            rec.body.replace(
                "The units meet once a year to compare priorities and shared risks.",
                "The units meet once a year, chaired in turn by each agency, to compare "
                "priorities and shared risks.",
            ),
            "Rotating chair for the annual meeting",
        )
        self.act("jasur", rec, "submit")
        self.act("dilnoza", rec, "endorse")
        self.edit(
            "ilze", rec,
            rec.body + "\n\nThe plans follow the EU Integrated Border Management model, "
            "adapted to national law.",
            "Reference to Integrated Border Management",
        )
        self.discuss(
            rec, "sardor", "Customs agrees; can the cycle start in 2021?",
            ("ilze", "Yes: the first cycle would run 2021–2025."),
        )
        self.decide("dilnoza", rec, "approve")
        self.decide("sardor", rec, "approve")
        self.act("kadri", rec, "adopt")

    def consolidation_with_stale_approval(self) -> None:
        rec = self.draft(
            "aigerim",
            "Inter-agency coordination council at each border crossing point",
            "A coordination council of border guards, customs and phytosanitary control meets "
            "weekly at each crossing point.\n\nIt agrees on shared inspection schedules.",
            ["KZ-SRC", "KG-BS"],
        )
        self.act("aigerim", rec, "submit")
        self.act("serik", rec, "endorse")
        self.decide("dana", rec, "approve")  # made stale by the EU expert's edit below
        self.edit(
            "janis", rec,
            rec.body + "\n\nThe council keeps minutes, shared with the agencies' headquarters.",
            "Minutes for headquarters",
        )
        self.decide("serik", rec, "approve")
        self.decide(
            "chynara", rec, "object",
            "Weekly meetings are too frequent for small crossing points; propose monthly.",
        )
        self.discuss(
            rec, "chynara", "Could small crossing points meet monthly instead?",
            ("janis", "Agreed in principle; I will propose wording."),
            quote="meets weekly at each crossing point",
        )

    def merged_liaison_officers(self) -> None:
        target = self.draft(
            "bakyt",
            "Liaison officers and joint contact centres",
            "Neighbouring border agencies exchange liaison officers.\n\n"
            "Joint contact centres operate at the main crossing points.",
            ["KG-CS", "TJ-BT"],
        )
        source = self.draft(
            "farrukh",
            "Exchange of liaison officers between neighbouring border agencies",
            "Border agencies of neighbouring countries second a liaison officer to each "
            "other for at least one year.",
            ["KG-BS"],
        )
        for rec, proposer, approver in ((target, "bakyt", "chynara"), (source, "farrukh", "farrukh")):
            self.act(proposer, rec, "submit")
            self.act(approver, rec, "endorse")
        self.act("kadri", source, "merge", into=target.id)
        self.edit(
            "kadri", target,
            target.body.replace(
                "exchange liaison officers.",
                "exchange liaison officers, seconded for at least one year.",
            ),
            "Merged the secondment period from the Tajik proposal",
        )

    def in_national_review(self) -> None:
        rec = self.draft(
            "azamat",
            "Joint training curriculum for border and customs officers",
            "Border and customs academies develop a joint basic curriculum on risk analysis "
            "and integrity.\n\n- a shared module on risk profiling\n- a shared module on "
            "anti-corruption",
            ["KG-BS"],
        )
        self.act("azamat", rec, "submit")
        self.discuss(
            rec, "chynara", "Should the Estonian Academy host the first train-the-trainer course?",
            ("kadri", "We would be glad to: spring would suit us."),
            ("azamat", "Spring suits the customs academy as well."),
        )

    def private_draft(self) -> None:
        rec = self.draft(
            "nigina",
            "Common risk indicators for inter-agency data exchange",
            "Customs and border agencies agree a common list of risk indicators.",
            ["TJ-BT"],
        )
        self.edit(
            "nigina", rec,
            rec.body + "\n\nThe list is reviewed every six months.",
            "Review period",
        )

    def withdrawn_queue(self) -> None:
        rec = self.draft(
            "ogulgerek",
            "Unified electronic queue at road crossing points",
            "Trucks book a crossing slot through one electronic queue shared by both sides.",
            ["TM-BS"],
        )
        self.act("ogulgerek", rec, "submit")
        self.act(
            "ogulgerek", rec, "withdraw",
            reason="Covered by the national single-window programme already under way.",
        )
