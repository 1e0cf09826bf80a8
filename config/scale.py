"""A large, realistic data set on top of the demo: `accord demo --scale N`.

N recommendations spread over the demo's process and four more workshops of the programme,
drafted, discussed, revised, decided on and moved through their life by the demo's own people:
about 10 revisions and 20 comments (in threads, some quoting the text, some resolved) each,
approvals pinned to revisions (some made stale by later edits, some objections), and every
state: private drafts, drafts sent back, national review, expert consolidation, adopted,
withdrawn and merged. Everything is deterministic for a given N and seed, but for the times.

How it is written: the life of every recommendation is first planned as the sequence of use
cases the services would run (`plan`), each allowed by the policy at that point; the plan is
then written in bulk (`Load.run`): rows with SQLAlchemy Core `insert()` executemany in batches,
inside the caller's one write transaction, with exactly what the services would have written
(the same columns, Markdown rendered by `render_markdown`, content hashes, the optimistic-lock
version, and one audit event per use case, hashed with `workflow.audit.event_hash` and chained
to the existing head under the chain's lock). `replay` runs the same plan through the services
one call at a time: tests/cli/test_scale_demo.py compares the two databases row by row.

The history happens between the chain's last event and the moment of the run, in order: a
recommendation's events keep their order, events of different recommendations interleave.

The rule: it loads into a database that holds the demo (the demo's process and its 19 accounts,
active) and no generated data set yet (none of the four workshops below); `accord demo --scale`
loads the demo first into an empty database. Anything else is refused, and nothing is changed.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session, selectinload

from accord.workflow import audit, services
from accord.workflow.actors import SYSTEM
from accord.workflow.models import (
    Agency,
    AgencyKind,
    Approval,
    AuditEvent,
    Comment,
    Process,
    Recommendation,
    Revision,
    Role,
    Thread,
    User,
    content_hash,
    process_agencies,
    recommendation_addressees,
    utcnow,
)
from accord.workflow.rendering import render_markdown
from accord.workflow.states import TRANSITIONS, State
from accord.workflow.validation import (
    clean_body,
    clean_comment,
    clean_name,
    clean_quote,
    clean_reason,
    clean_summary,
    clean_title,
)

from . import demo

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
#: How recommendations spread over the demo's process (first) and the workshops above.
PROCESS_WEIGHTS = [2, 3, 2, 2, 3]

#: What becomes of the recommendations, in proportion.
SCENARIOS = {
    "draft": 10,  # never submitted: private to its agency
    "draft_returned": 5,  # sent back for changes, not resubmitted yet
    "national_review": 14,
    "expert_consolidation": 19,
    "adopted": 38,
    "withdrawn": 7,
    "merged": 7,
}

# --- the text -----------------------------------------------------------------------------------

PLACES = [
    "Dostyk", "Khorgos", "Kordai", "Zhibek Zholy", "Ak-Zhol", "Torugart", "Irkeshtam", "Dostuk",
    "Kyzyl-Kiya", "Karamyk", "Panji Poyon", "Kulma", "Fotehobod", "Farap", "Serhetabat",
    "Gaudan", "Oybek", "Termez", "Shavgar", "Sariosiyo", "Nur Zholy", "Kairak", "Isfara",
    "Daut-Ata",
]  # fmt: skip


@dataclass(frozen=True)
class Topic:
    title: str
    paragraphs: tuple[str, ...]
    items: tuple[str, ...]


TOPICS = [
    Topic(
        "Joint risk analysis unit at {place}",
        (
            "Border guards and customs officers at {place} set up a **joint risk analysis unit** "
            "that meets every week.",
            "Each agency seconds at least one analyst to the unit for a period of two years.",
            "The unit shares its risk profiles with:\n\n- the national headquarters of both agencies\n"
            "- the neighbouring crossing points",
            "Risk profiles are reviewed every three months against the results of inspections.",
            "The unit uses a common template for risk indicators, agreed by the heads of agency.",
            "Analysts receive joint training on open-source intelligence and data protection.",
            "The unit reports every quarter to the national coordination council.",
        ),
        (
            "the regional customs directorate",
            "the mobile surveillance teams",
            "the EU programme team, in anonymised form",
        ),
    ),
    Topic(
        "Exchange of information on stolen vehicles through {place}",
        (
            "The border services exchange, in real time, alerts on stolen vehicles expected to "
            "cross at {place}.",
            "A contact point in each agency answers requests within two hours, day and night.",
            "Alerts carry only the data needed:\n\n- the registration number\n- the vehicle "
            "identification number\n- the issuing authority",
            "Personal data is deleted six months after the alert is closed.",
            "The exchange uses the secure channel already operated for wanted persons.",
            "Each agency keeps a log of the alerts it sends and receives.",
            "The results are reviewed once a year at a meeting of the contact points.",
        ),
        ("the colour and make of the vehicle", "the date of the theft", "the case reference"),
    ),
    Topic(
        "Common training curriculum on document fraud for {place}",
        (
            "Border and customs academies develop a joint basic curriculum on **document fraud**.",
            "The first course is held for officers serving at {place} and the neighbouring posts.",
            "The curriculum covers:\n\n- security features of travel documents\n- impostors and "
            "look-alikes\n- forged visas and stamps",
            "Trainers from each academy teach together, so that methods converge.",
            "Each officer on the first line attends a refresher course every two years.",
            "The academies share reference collections of genuine and forged documents.",
            "An evaluation after the first year decides whether the curriculum becomes mandatory.",
        ),
        ("fraudulent breeder documents", "digital document checks", "interview techniques"),
    ),
    Topic(
        "Harmonised opening hours at {place}",
        (
            "Both sides of the {place} crossing point open and close at the same hours.",
            "Opening hours are published in the national languages, Russian and English.",
            "Changes to opening hours are announced at least one month in advance.",
            "During harvest season the crossing point opens two hours earlier for agricultural "
            "goods.",
            "Emergency vehicles may cross at any time, after notice by telephone.",
            "The heads of the crossing point on both sides meet every quarter.",
            "Traffic counts before and after the change are compared after one year.",
        ),
        (),
    ),
    Topic(
        "Joint patrols along the green border near {place}",
        (
            "Border guards of both countries patrol the green border near {place} jointly, on "
            "agreed routes.",
            "Each patrol is led by an officer of the country on whose territory it takes place.",
            "Patrols carry:\n\n- compatible radios on an agreed frequency\n- a copy of the "
            "patrol plan in both languages",
            "Incidents are reported to both headquarters within twenty-four hours.",
            "Patrol plans are agreed every month by the heads of the border detachments.",
            "Officers taking part in joint patrols receive joint training on the legal framework.",
            "The arrangement is evaluated after six months of operation.",
        ),
        ("first-aid kits", "night-vision equipment", "maps with the agreed rendezvous points"),
    ),
    Topic(
        "Pre-arrival exchange of customs data for {place}",
        (
            "Customs services exchange data on consignments before they arrive at {place}.",
            "The exporting side sends the transit declaration as soon as it is accepted.",
            "The data exchanged is limited to:\n\n- the declaration reference\n- the goods "
            "description and codes\n- the gross weight",
            "The importing side uses the data for risk analysis before the truck arrives.",
            "Discrepancies found at arrival are reported back to the exporting side.",
            "A technical working group agrees the message format and the security measures.",
            "A pilot runs for six months before the exchange extends to other crossing points.",
        ),
        ("the seal numbers", "the vehicle registration", "the consignor and consignee"),
    ),
    Topic(
        "Single inspection of goods at {place}",
        (
            "Customs, phytosanitary and veterinary controls at {place} take place in **one "
            "inspection**, at one place.",
            "The agencies agree a common schedule so that no consignment waits for a second "
            "inspection.",
            "A single inspection needs:\n\n- one shared inspection area\n- one appointment "
            "system\n- one record of the inspection",
            "The results of one agency's control are accepted by the others.",
            "Inspectors of all agencies receive joint training on sampling.",
            "Waiting times are measured every month and published.",
            "The arrangement is reviewed after one year by the heads of the agencies concerned.",
        ),
        ("a shared cold store", "a joint laboratory request form", "a common complaints procedure"),
    ),
    Topic(
        "Integrity and anti-corruption measures at {place}",
        (
            "Officers at {place} rotate between posts according to a published schedule.",
            "Every officer signs a code of conduct common to the border and customs services.",
            "Travellers can report improper conduct:\n\n- by a free telephone line\n- by an "
            "online form\n- in a sealed box at the crossing point",
            "Reports are handled by an internal security unit independent of the crossing point.",
            "Cash payments at the crossing point are replaced by bank transfers and cards.",
            "The agencies publish every year the number of reports and their outcome.",
            "An external evaluation takes place three years after adoption.",
        ),
        ("a messaging service", "the ombudsman's office"),
    ),
    Topic(
        "Video surveillance of the {place} crossing point",
        (
            "The approaches to {place} are covered by video surveillance on both sides.",
            "Recordings are kept for thirty days and then deleted, unless needed for a case.",
            "Access to recordings is limited to:\n\n- the duty officer\n- the internal security "
            "unit\n- investigators, on written request",
            "Cameras are placed so as not to film private property beyond the crossing point.",
            "Both sides agree on technical standards so that recordings can be exchanged.",
            "Travellers are informed by signs in three languages.",
            "The data protection authority is consulted before the system starts.",
        ),
        ("the prosecutor's office", "the customs enforcement unit"),
    ),
    Topic(
        "Referral of vulnerable persons met at {place}",
        (
            "Officers at {place} identify vulnerable persons and refer them to the competent "
            "services.",
            "A referral form, common to the border and customs services, records each case.",
            "Vulnerable persons include:\n\n- unaccompanied children\n- victims of trafficking\n"
            "- persons seeking international protection",
            "Each crossing point keeps the contacts of the social services and of interpreters.",
            "Officers receive training on interviewing vulnerable persons.",
            "Cases are reviewed every six months with the international organisations concerned.",
            "Statistics on referrals are published every year.",
        ),
        ("persons with disabilities", "elderly travellers without documents"),
    ),
    Topic(
        "Emergency communication between border posts near {place}",
        (
            "Border posts on both sides of {place} keep a direct line open for emergencies.",
            "The line is tested every week at an agreed time.",
            "Emergencies include:\n\n- fires and natural disasters\n- serious accidents\n- "
            "sudden large movements of people",
            "Each post keeps a list of contacts on the other side, updated every month.",
            "Calls are logged with the time, the persons and the action agreed.",
            "A joint exercise takes place once a year.",
            "Lessons learnt from each real emergency are shared with both headquarters.",
        ),
        ("epidemics", "floods on the border river"),
    ),
    Topic(
        "Detection of drugs and precursors at {place}",
        (
            "Customs and border services at {place} share detection equipment and dog teams.",
            "Dog teams of both services train together once a month.",
            "Equipment shared includes:\n\n- ion scanners\n- mobile X-ray units\n- test kits "
            "for precursors",
            "Seizures are reported at once to the national drug control agency.",
            "A common list of precursors to watch is updated every six months.",
            "Officers receive training on the safe handling of seized substances.",
            "The results are presented every year at the regional drug control meeting.",
        ),
        ("endoscopes", "density meters"),
    ),
    Topic(
        "Queue management for trucks at {place}",
        (
            "Trucks book a slot to cross at {place} through one electronic queue shared by "
            "both sides.",
            "The queue is open to carriers of all countries on equal terms.",
            "Carriers see:\n\n- their position in the queue\n- the expected waiting time\n- "
            "the documents they will need",
            "Trucks carrying perishable goods have priority.",
            "The waiting area is equipped with water, sanitation and lighting.",
            "Waiting times are published every day on the agencies' websites.",
            "The system is evaluated after one year with the carriers' associations.",
        ),
        ("the nearest fuel station", "the customs broker on duty"),
    ),
    Topic(
        "Joint contact centre at {place}",
        (
            "Border guards, police and customs of both countries staff a **joint contact "
            "centre** at {place}.",
            "The centre answers requests for information from any of the agencies within one hour.",
            "The centre handles:\n\n- checks of documents and vehicles\n- coordination of joint "
            "operations\n- exchange of liaison officers",
            "Officers keep working under the law and the command of their own agency.",
            "Costs of the premises are shared equally between the two countries.",
            "The centre keeps statistics on the requests it answers.",
            "A joint steering group reviews the centre's work once a year.",
        ),
        ("preparation of joint risk analysis", "language support"),
    ),
]

AMENDMENTS = [
    "This applies from the first day of the next budget year.",
    "The programme team provides technical assistance on request.",
    "Costs are borne by each agency within its existing budget.",
    "National legislation is amended where necessary.",
    "The measure is reviewed twelve months after it starts.",
    "Each agency names a contact person for this measure.",
    "Progress is reported to the steering committee once a year.",
    "The measure follows the EU Integrated Border Management model, adapted to national law.",
    "Agencies of third countries may be invited as observers.",
    "A short guide for officers explains the new procedure.",
    "The arrangement is set out in a written agreement between the agencies.",
    "Data exchanged under this measure is protected as national law requires.",
]

SUBSTITUTIONS = [
    ("every week", "every two weeks"),
    ("every month", "every two months"),
    ("every quarter", "every month"),
    ("every three months", "every six months"),
    ("once a year", "twice a year"),
    ("two years", "three years"),
    ("six months", "twelve months"),
    ("one year", "eighteen months"),
    ("within two hours", "within four hours"),
    ("thirty days", "sixty days"),
    ("at least one", "one or more"),
]

SUMMARIES = [
    "Clarified who does what",
    "Shorter wording",
    "Added a review clause",
    "Took in the comments from the discussion",
    "Precise timetable",
    "Aligned with national law",
    "Added the list agreed at the meeting",
    "Corrected the frequency",
]
EU_SUMMARIES = [
    "Consolidated wording after the workshop",
    "Aligned with the other recommendations of the process",
    "Took in the objections of the addressed agencies",
    "Reference to the EU Integrated Border Management model",
    "Editorial consolidation",
]

REQUEST_CHANGES = [
    "Say which agency leads and who pays.",
    "The timetable is not realistic for our agency; please propose another one.",
    "Name the legal basis in national law.",
    "The text should say how personal data is protected.",
    "Please shorten the text: it repeats the existing agreement.",
]
RETURNS = [
    "The addressed agencies need to review the new obligations at national level.",
    "The consolidated text changes the scope; it needs a new national review.",
    "Two agencies asked for more time to consult their ministries.",
]
WITHDRAWALS = [
    "Covered by the national programme already under way.",
    "Merged into our agency's annual plan instead.",
    "The neighbouring agency could not commit resources this year.",
    "Superseded by the bilateral agreement signed in the meantime.",
]
OBJECTIONS = [
    "The timetable cannot be met before the next budget cycle.",
    "Our agency cannot commit staff on these terms.",
    "The text goes beyond what national law allows; it needs an amendment first.",
    "We need the costs estimated before we can agree.",
    "The data protection safeguards are not sufficient.",
]

COMMENTS = [
    "We support this text as it stands.",
    "Which agency would bear the costs of the equipment?",
    "Could the same arrangement work at {place} during the night shift?",
    "The customs side agrees in principle; our legal department still has to confirm.",
    "Agreed. I will update the wording after the meeting.",
    "Is the timetable realistic for the first review?",
    "The Latvian experience suggests a pilot at {place} first.",
    "Our headquarters would like to see the data protection part strengthened.",
    "Who chairs the meetings: a fixed agency or each in turn?",
    "Could we add a reference to the existing bilateral agreement?",
    "Good point, thank you. I have no further remarks.",
    "The staff at {place} are ready to start as soon as this is adopted.",
    "Please keep the text short: officers on the first line need to understand it quickly.",
    "We tested something similar at {place} last year, with good results.",
    "Does this need the approval of the ministries, or can the agencies decide alone?",
    "I suggest we discuss this at the next coordination meeting.",
    "The translation into Russian should be checked before adoption.",
    "Fine for us. **Please note** that our budget year starts in January.",
    "Can the EU programme team help with the training part?",
    "We would prefer a longer transition period for {place}.",
    "This matches what was agreed in the working group.",
    "One question: does this also apply to rail traffic?",
    "Yes, it does; the wording covers all modes of transport.",
    "No: rail traffic is covered by a separate agreement.",
    "Noted, we will check with the regional office at {place}.",
    "Thank you, that answers our concern.",
    "The figures for {place} are in the annex of the workshop report.",
    "We can provide two trainers for the first course.",
    "The heads of agency discussed this on Tuesday and agree.",
    "Please see the revised paragraph: does it meet your concern?",
]


def _fill(template: str, place: str) -> str:
    return template.replace("{place}", place)


# --- who is who ---------------------------------------------------------------------------------


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
            demo_process_id=session.scalar(select(Process.id).where(Process.title == demo.PROCESS_TITLE)),
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


# --- the plan -----------------------------------------------------------------------------------


class Step:
    """One use case, as the services would run it."""

    __slots__ = (
        "time", "rec", "order", "action", "actor", "text", "reason", "summary", "thread",
        "quote", "into", "revision",
    )  # fmt: skip

    def __init__(
        self, time: int, rec: int, order: int, action: str, actor: str, *, text: int = 0,
        reason: str | None = None, summary: str = "", thread: int = -1, quote: str | None = None,
        into: int = -1, revision: int = 0,
    ) -> None:
        self.time, self.rec, self.order, self.action, self.actor = time, rec, order, action, actor
        self.text = text  # the body's revision (create, edit) or the comment's number
        self.reason, self.summary, self.quote = reason, summary, quote
        self.thread = thread  # the thread's number within its recommendation
        self.into = into  # the merge target (a recommendation's number in the plan)
        self.revision = revision  # the recommendation's revision when it happens

    def key(self) -> tuple[int, int, int]:
        return (self.time, self.rec, self.order)


@dataclass
class _Thread:
    open: bool = True
    comments: int = 0
    last_author: str = ""
    resolved: Step | None = None  # the resolution that stands, if one does


#: The roles that comment and resolve threads (workflow.policy.DRAFTING_ROLES).
DRAFTING = (Role.national_expert, Role.approver, Role.eu_expert)
HOUR = 3600
DAY = 24 * HOUR
#: The simulated history spans about two years; it is mapped onto the real time of the run.
SPAN = 730 * DAY


class _Life:
    """Plans one recommendation's life, step by step, each step allowed at that point."""

    def __init__(self, plan: Plan, index: int, process: int, rng: random.Random, start: int) -> None:
        self.plan, self.index, self.process, self.rng, self.t = plan, index, process, rng, start
        world = plan.world
        codes = plan.process_agencies[process]
        national = [c for c in codes if c not in world.eu_agencies]
        self.proposing = rng.choice(national)
        others = [c for c in national if c != self.proposing]
        count = min(len(others), rng.choice([0, 1, 1, 2, 2, 3]))
        self.addressed = sorted([self.proposing, *rng.sample(others, count)])
        self.topic, self.place = rng.randrange(len(TOPICS)), rng.randrange(len(PLACES))
        self.eu_experts = [u for c in codes if c in world.eu_agencies for u in world.people(c, Role.eu_expert)]
        self.participants = sorted({u for c in codes for u in world.people(c, *DRAFTING)})
        self.own = world.people(self.proposing, *DRAFTING)
        self.state, self.revision = "draft", 0
        self.standing: dict[str, tuple[str, int]] = {}  # agency → (decision, revision)
        self.threads: list[_Thread] = []
        self.steps: list[Step] = []
        #: Spans of time in expert consolidation: [(from, to or None)].
        self.windows: list[list[int | None]] = []
        self.merge_into = -1

    # the people
    def expert(self) -> str:
        return self.rng.choice(self.plan.world.people(self.proposing, Role.national_expert))

    def approver(self, agency: str | None = None) -> str:
        return self.rng.choice(self.plan.world.people(agency or self.proposing, Role.approver))

    def eu_expert(self) -> str:
        return self.rng.choice(self.eu_experts)

    # the steps
    def step(self, action: str, actor: str, *, gap: tuple[int, int] = (10 * 60, 3 * DAY), **details: Any) -> Step:
        self.t += self.rng.randint(*gap)
        step = Step(self.t, self.index, len(self.steps), action, actor, revision=self.revision, **details)
        self.steps.append(step)
        return step

    def create(self) -> None:
        self.revision = 1
        self.step("create", self.expert(), text=1, gap=(0, 0))

    def edit(self, by: str) -> None:
        pool = EU_SUMMARIES if self.state == "expert_consolidation" else SUMMARIES
        self.revision += 1
        self.step("edit", by, text=self.revision, summary=self.rng.choice(pool))

    def transition(self, action: str, by: str, to: str, reason: str | None = None) -> None:
        if self.state == "expert_consolidation":
            self.windows[-1][1] = self.t + 1  # the step below comes later than t
        self.step(action, by, reason=reason)
        if to == "expert_consolidation":
            self.windows.append([self.t, None])
        self.state = to

    def decide(self, agency: str, decision: str) -> None:
        reason = self.rng.choice(OBJECTIONS) if decision == "object" else None
        self.step(decision, self.approver(agency), reason=reason)
        self.standing[agency] = (decision, self.revision)

    def decision_round(self, objection_rate: float, agencies: Sequence[str] | None = None) -> None:
        for agency in self.rng.sample(self.addressed, len(self.addressed)) if agencies is None else agencies:
            choice = "object" if self.rng.random() < objection_rate else "approve"
            if self.standing.get(agency) != (choice, self.revision):  # a repeat is refused
                self.decide(agency, choice)

    def discuss(self, count: int) -> None:
        rng = self.rng
        for _ in range(count):
            people = self.own if self.state == "draft" else self.participants
            open_threads = [i for i, th in enumerate(self.threads) if th.open]
            closed = [i for i, th in enumerate(self.threads) if not th.open]
            roll = rng.random()
            if closed and roll < 0.02:
                number = rng.choice(closed)
                self.threads[number].open, self.threads[number].resolved = True, None
                self.step("thread.reopen", rng.choice(people), thread=number)
            elif not open_threads or roll < 0.22:
                quote = self.quotable() if rng.random() < 0.35 else None
                author = rng.choice(people)
                self.step("thread.start", author, text=self.plan.comment(rng, self.place),
                          thread=len(self.threads), quote=quote)
                self.threads.append(_Thread(comments=1, last_author=author))
            else:
                number = rng.choice(open_threads)
                thread = self.threads[number]
                if thread.comments >= 2 and roll < 0.34:
                    thread.open = False
                    thread.resolved = self.step("thread.resolve", rng.choice(people), thread=number)
                    continue
                others = [p for p in people if p != thread.last_author] or people
                author = rng.choice(others)
                self.step("comment", author, text=self.plan.comment(rng, self.place), thread=number)
                thread.comments, thread.last_author = thread.comments + 1, author

    def quotable(self) -> str:
        body = self.plan.body(self.topic, self.place, self.revision)
        paragraphs = [p for p in body.split("\n\n") if not p.startswith("- ")]
        return self.rng.choice(paragraphs).split(". ")[0]

    # the phases
    def drafting(self, edits: int, comments: int) -> None:
        for _ in range(edits):
            self.edit(self.expert())
            if self.rng.random() < 0.5:
                self.discuss(1)
        self.discuss(comments)

    def review(self, comments: int) -> None:
        self.transition("submit", self.expert(), "national_review")
        self.discuss(comments)

    def send_back(self) -> None:
        self.transition("request_changes", self.approver(self.rng.choice(self.addressed)), "draft",
                        self.rng.choice(REQUEST_CHANGES))

    def consolidation(self, ending: str) -> None:
        rng = self.rng
        self.transition("endorse", self.approver(), "expert_consolidation")
        rounds = rng.choice([1, 2, 2, 3])
        for round_ in range(rounds):
            for _ in range(rng.randint(1, 4)):
                self.edit(self.eu_expert())
                self.discuss(rng.randint(0, 2))
            self.discuss(rng.randint(4, 8))
            self.decision_round(0.2)
            if round_ < rounds - 1 and ending != "merge" and rng.random() < 0.12:
                self.transition("return", self.eu_expert(), "national_review", rng.choice(RETURNS))
                self.discuss(rng.randint(1, 3))
                self.transition("endorse", self.approver(), "expert_consolidation")
        if ending == "stay":
            if rng.random() < 0.6:  # a late edit leaves the decisions taken so far stale
                self.edit(self.eu_expert())
                self.discuss(rng.randint(1, 3))
                self.decision_round(0.3, self.addressed[: rng.randint(0, len(self.addressed) - 1)])
        elif ending == "adopt":
            for agency in self.addressed:
                if self.standing.get(agency) != ("approve", self.revision):
                    self.decide(agency, "approve")
            self.transition("adopt", self.eu_expert(), "adopted")

    def live(self, scenario: str) -> None:
        rng = self.rng
        self.create()
        self.drafting(rng.randint(3, 7), rng.randint(0, 3))
        if scenario == "draft":
            return
        if scenario == "withdrawn" and rng.random() < 0.4:
            by = rng.choice(self.plan.world.people(self.proposing, Role.national_expert, Role.approver))
            self.transition("withdraw", by, "withdrawn", rng.choice(WITHDRAWALS))
            return
        self.review(rng.randint(5, 10))
        if scenario == "draft_returned" or rng.random() < 0.25:
            self.send_back()
            self.drafting(rng.randint(1, 3), rng.randint(1, 3))
            if scenario == "draft_returned":
                return
            self.review(rng.randint(2, 5))
        if scenario == "national_review":
            return
        if scenario == "withdrawn":
            by = rng.choice(self.plan.world.people(self.proposing, Role.national_expert, Role.approver))
            self.transition("withdraw", by, "withdrawn", rng.choice(WITHDRAWALS))
            return
        ending = {"expert_consolidation": "stay", "adopted": "adopt", "merged": "merge"}[scenario]
        self.consolidation(ending)


class Plan:
    """The whole data set as the steps the services would run, in the order they run."""

    def __init__(self, world: World, n: int, seed: int) -> None:
        self.world, self.n, self.seed = world, n, seed
        self.process_titles = [demo.PROCESS_TITLE] + [title for title, _ in PROCESSES]
        self.process_agencies = [[code for code, *_ in demo.AGENCIES]] + [codes for _, codes in PROCESSES]
        self._bodies: dict[tuple[int, int], list[str]] = {}
        self.comment_texts: list[str] = []
        self._comment_numbers: dict[str, int] = {}
        rng = random.Random(f"accord-scale:{seed}")
        scenarios = _apportion(SCENARIOS, n)
        rng.shuffle(scenarios)
        self.lives: list[_Life] = []
        merged: list[int] = []
        for index, scenario in enumerate(scenarios):
            process = rng.choices(range(len(self.process_titles)), PROCESS_WEIGHTS)[0]
            life = _Life(self, index, process, random.Random(f"accord-scale:{seed}:{index}"),
                         rng.randrange(SPAN))
            self.lives.append(life)
            if scenario == "merged":
                merged.append(index)
            else:
                life.live(scenario)
        targets = [life for life in self.lives if life.windows]
        for index in merged:
            self._merge(index, targets, rng)
        self.steps = sorted((step for life in self.lives for step in life.steps), key=Step.key)

    def _merge(self, index: int, targets: list[_Life], rng: random.Random) -> None:
        """A recommendation merged into another of the same process while that one is in
        consolidation: its life is planned, then moved in time to end inside that span."""
        old = self.lives[index]
        process = rng.choice(targets).process if targets else old.process
        life = self.lives[index] = _Life(self, index, process, old.rng, old.t)
        life.live("merged")
        candidates = [t for t in targets if t.process == process]
        if not candidates:  # nothing to merge into: it stays in consolidation
            return
        target = rng.choice(candidates)
        start, end = rng.choice(target.windows)
        end = end if end is not None else start + 30 * DAY
        if end - start < 3:
            return
        moment = rng.randint(start + 1, end - 1)
        shift = moment - life.t - rng.randint(HOUR, DAY)
        for step in life.steps:
            step.time += shift
        life.t += shift
        life.steps.append(Step(moment, index, len(life.steps), "merge", life.eu_expert(),
                               into=target.index, revision=life.revision))
        life.state, life.merge_into = "merged", target.index

    # the text
    def title(self, topic: int, place: int) -> str:
        return _fill(TOPICS[topic].title, PLACES[place])

    def body(self, topic: int, place: int, revision: int) -> str:
        versions = self._bodies.get((topic, place))
        if versions is None or len(versions) < revision:
            versions = self._bodies[(topic, place)] = _body_versions(
                TOPICS[topic], PLACES[place], random.Random(f"accord-body:{self.seed}:{topic}:{place}"),
                max(revision, 12),
            )
        return versions[revision - 1]

    def comment(self, rng: random.Random, place: int) -> int:
        text_ = _fill(rng.choice(COMMENTS), PLACES[place])
        number = self._comment_numbers.get(text_)
        if number is None:
            number = self._comment_numbers[text_] = len(self.comment_texts)
            self.comment_texts.append(text_)
        return number


def _apportion(weights: dict[str, int], n: int) -> list[str]:
    """n labels in the given proportions (largest remainders), every label once n allows."""
    total = sum(weights.values())
    exact = {label: n * weight / total for label, weight in weights.items()}
    counts = {label: int(value) for label, value in exact.items()}
    for label in sorted(exact, key=lambda lb: exact[lb] - counts[lb], reverse=True)[: n - sum(counts.values())]:
        counts[label] += 1
    return [label for label, count in counts.items() for _ in range(count)]


def _body_versions(topic: Topic, place: str, rng: random.Random, count: int) -> list[str]:
    """How one text evolves, revision by revision; each revision differs from the last."""
    paragraphs = [_fill(p, place) for p in topic.paragraphs[:2]]
    pending = [_fill(p, place) for p in topic.paragraphs[2:]]
    amendments = rng.sample(AMENDMENTS, len(AMENDMENTS))
    items = list(topic.items)
    versions = ["\n\n".join(paragraphs)]
    while len(versions) < count:
        roll = rng.random()
        lists = [i for i, p in enumerate(paragraphs) if p.startswith("- ") or "\n\n- " in p]
        swaps = [(i, old, new) for i, p in enumerate(paragraphs) for old, new in SUBSTITUTIONS if old in p]
        if pending and roll < 0.4:
            paragraphs.append(pending.pop(0))
        elif items and lists and roll < 0.5:
            i = rng.choice(lists)
            paragraphs[i] += "\n- " + items.pop(0)
        elif swaps and roll < 0.75:
            i, old, new = rng.choice(swaps)
            paragraphs[i] = paragraphs[i].replace(old, new, 1)
        elif amendments:
            i = rng.randrange(len(paragraphs))
            if paragraphs[i].startswith("- ") or "\n\n- " in paragraphs[i]:
                paragraphs.append(amendments.pop())
            else:
                paragraphs[i] += " " + amendments.pop()
        else:
            paragraphs.append(f"Point {len(versions) + 1} of the workshop conclusions applies in full.")
        body = "\n\n".join(paragraphs)
        if body != versions[-1]:
            versions.append(body)
    return versions


def plan(session: Session, n: int, seed: int) -> Plan:
    return Plan(World.read(session), n, seed)


# --- writing it ---------------------------------------------------------------------------------

#: Rows per executemany; the buffers are written (in foreign-key order) when they hold this many.
BATCH = 5_000

_TABLES_WITH_IDS = ("processes", "recommendations", "revisions", "threads", "comments", "approvals")


#: Each transition's target state, as the state machine declares it.
_TRANSITIONS = {t["trigger"]: State(t["dest"]).value for t in TRANSITIONS}


@dataclass(frozen=True)
class Outcome:
    message: str
    counts: dict[str, int]


class Load:
    """A planned data set, ready to write in the caller's write transaction."""

    def __init__(self, session: Session, plan: Plan) -> None:
        self.session, self.plan = session, plan
        counts = Counter(step.action for step in plan.steps)
        comments = counts["thread.start"] + counts["comment"]
        self.rows = {
            "processes": len(PROCESSES),
            "recommendations": plan.n,
            "revisions": counts["create"] + counts["edit"],
            "threads": counts["thread.start"],
            "comments": comments,
            "approvals": counts["approve"] + counts["object"],
            "audit_events": len(plan.steps) + len(PROCESSES),
        }
        #: Units of progress: one per row written, addressees and process agencies aside.
        self.total = sum(self.rows.values())

    def run(self, progress: Callable[[int], None] = lambda _: None) -> Outcome:
        _Writer(self.session, self.plan, progress).write()
        counts = dict(self.rows)
        return Outcome(
            f"Generated data set loaded: {counts['recommendations']:,} recommendations, "
            f"{counts['revisions']:,} revisions, {counts['comments']:,} comments in "
            f"{counts['threads']:,} threads, {counts['approvals']:,} decisions, "
            f"{counts['audit_events']:,} audit events.",
            counts,
        )


def prepare(session: Session, n: int, seed: int) -> Load:
    """Lock what the load writes, check the rule (raises Refused), and plan the data set."""
    _lock(session)
    reason = refusal(session)
    if reason:
        raise Refused(reason)
    return Load(session, plan(session, n, seed))


def _lock(session: Session) -> None:
    """On PostgreSQL: no other writer may insert into the tables written (ids are assigned
    here), then the chain's own lock, as `audit.record` takes it. On SQLite the write
    transaction (BEGIN IMMEDIATE) holds the database's single write lock already."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(
            "LOCK TABLE processes, process_agencies, recommendations, recommendation_addressees, "
            "revisions, threads, comments, approvals, audit_events IN SHARE ROW EXCLUSIVE MODE"
        ))
    audit.lock_chain(session)


class _Rec:
    """What the writer keeps of a recommendation while it writes its history."""

    __slots__ = ("id", "life", "revision", "state", "hash", "standing", "threads")

    def __init__(self, id_: int, life: _Life) -> None:
        self.id, self.life = id_, life
        self.revision, self.state, self.hash = 0, "draft", ""
        self.standing: dict[str, tuple[int, int]] = {}  # agency → (approval id, revision)
        self.threads: list[int] = []


class _Writer:
    def __init__(self, session: Session, plan: Plan, progress: Callable[[int], None]) -> None:
        self.session, self.plan, self.progress = session, plan, progress
        self.connection = session.connection()
        self.pg = self.connection.dialect.name == "postgresql"
        self.world = plan.world
        self.html: dict[str, str] = {}
        self.hashes: dict[tuple[int, int, int], str] = {}
        self.buffers: dict[str, list[dict[str, Any]]] = {
            name: [] for name in ("threads", "comments", "revisions", "approvals", "audit_events")
        }
        self.buffered = 0

    # ids, as the database would hand them out
    def _first_ids(self) -> dict[str, int]:
        first = {}
        for table in _TABLES_WITH_IDS:
            if self.pg:
                first[table] = self.connection.scalar(
                    text(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id'))")
                )
            else:
                first[table] = (self.connection.scalar(text(f"SELECT max(id) FROM {table}")) or 0) + 1
        return first

    def _set_sequences(self, next_ids: dict[str, int]) -> None:
        if self.pg:
            for table, next_id in next_ids.items():
                self.connection.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), :next, false)"),
                    {"next": next_id},
                )

    def render(self, markdown: str) -> str:
        html = self.html.get(markdown)
        if html is None:
            html = self.html[markdown] = render_markdown(markdown)
        return html

    def text(self, life: _Life, revision: int) -> tuple[str, str, str, str]:
        """Title, body, body HTML and content hash of a revision."""
        title = self.plan.title(life.topic, life.place)
        body = self.plan.body(life.topic, life.place, revision)
        key = (life.topic, life.place, revision)
        digest = self.hashes.get(key)
        if digest is None:
            digest = self.hashes[key] = content_hash(title, body)
        return title, body, self.render(body), digest

    def write(self) -> None:
        plan, world = self.plan, self.world
        head = self.session.execute(
            select(AuditEvent.seq, AuditEvent.hash, AuditEvent.occurred_at)
            .order_by(AuditEvent.seq.desc())
            .limit(1)
        ).one()
        self.seq, self.prev_hash = head.seq, head.hash
        self.next_ids = self._first_ids()

        # When things happen: simulated seconds onto the real time between the head and now.
        steps = plan.steps
        low = min((s.time for s in steps), default=0) - 1
        high = max((s.time for s in steps), default=0)
        start = head.occurred_at
        span_us = max((utcnow() - start) // timedelta(microseconds=1), 0)

        def moment(simulated: int) -> datetime:
            return start + timedelta(microseconds=span_us * (simulated - low) // (high - low + 1))

        self.moment = moment

        # The processes, as services.add_process writes them.
        process_ids = [world.demo_process_id]
        created = moment(low)
        for title, codes in PROCESSES:
            pid = self._next("processes")
            process_ids.append(pid)
            clean = clean_name(title, "title", limit=300)
            self.connection.execute(insert(Process.__table__), [{"id": pid, "title": clean, "created_at": created}])
            self.connection.execute(
                insert(process_agencies),
                [{"process_id": pid, "agency_id": world.agency_ids[c]} for c in sorted(set(codes))],
            )
            self._event(created, None, "process.add", None, payload={
                "process": pid, "title": clean, "agencies": sorted(set(codes)),
            })
        self.progress(len(PROCESSES))
        self.process_ids = process_ids

        # The recommendations, with their final values (their history follows).
        recs: dict[int, _Rec] = {}
        for step in steps:
            if step.action == "create":
                recs[step.rec] = _Rec(self._next("recommendations"), plan.lives[step.rec])
        self.recs = recs
        rows, addressees = [], []
        # Merge targets first: a merged recommendation's row refers to its target's.
        for rec in sorted(recs.values(), key=lambda r: (r.life.merge_into >= 0, r.id)):
            rows.append(self._final_row(rec))
            addressees += [{"recommendation_id": rec.id, "agency_id": world.agency_ids[c]}
                           for c in rec.life.addressed]
            if len(rows) >= BATCH:
                self._insert(Recommendation.__table__, rows)
                rows = []
        self._insert(Recommendation.__table__, rows)
        for chunk in range(0, len(addressees), BATCH):
            self.connection.execute(insert(recommendation_addressees), addressees[chunk : chunk + BATCH])

        # Their history, in the order it happened.
        for step in steps:
            getattr(self, "_" + step.action.replace(".", "_"))(step, recs[step.rec], moment(step.time))
            if self.buffered >= BATCH:
                self._flush()
        self._flush()
        self._set_sequences(self.next_ids)

    def _next(self, table: str) -> int:
        value = self.next_ids[table]
        self.next_ids[table] = value + 1
        return value

    def _insert(self, table: Any, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.connection.execute(insert(table), rows)
            self.progress(len(rows))

    def _flush(self) -> None:
        for name, table in (
            ("threads", Thread.__table__),
            ("comments", Comment.__table__),
            ("revisions", Revision.__table__),
            ("approvals", Approval.__table__),
            ("audit_events", AuditEvent.__table__),
        ):
            self._insert(table, self.buffers[name])
            self.buffers[name] = []
        self.buffered = 0

    def _final_row(self, rec: _Rec) -> dict[str, Any]:
        """The recommendation as its last use case leaves it."""
        life = rec.life
        created = updated = submitted = None
        version = 0
        state = "draft"
        revision = 0
        for step in life.steps:
            if step.action in ("create", "edit") or step.action in _TRANSITIONS:
                version += 1  # each of these updates the row (its optimistic-lock version)
                updated = step.time
            if step.action == "create":
                created, revision = step.time, 1
            elif step.action == "edit":
                revision += 1
            elif step.action in _TRANSITIONS:
                state = _TRANSITIONS[step.action]
                if step.action == "submit" and submitted is None:
                    submitted = step.time
        title, body, html, _ = self.text(life, revision)
        assert created is not None and updated is not None
        return {
            "id": rec.id,
            "process_id": self.process_ids[life.process],
            "title": title,
            "body": body,
            "body_html": html,
            "state": state,
            "proposing_agency_id": self.world.agency_ids[life.proposing],
            "revision": revision,
            "created_by_id": self.world.users[life.steps[0].actor][0],
            "created_at": self.moment(created),
            "updated_at": self.moment(updated),
            "submitted_at": self.moment(submitted) if submitted is not None else None,
            "merged_into_id": self.recs[life.merge_into].id if life.merge_into >= 0 else None,
            "version": version,
        }

    # one method per use case, writing what its service writes
    def _event(
        self, when: datetime, actor: str | None, action: str, rec: _Rec | None, *,
        from_state: str | None = None, to_state: str | None = None, revision: int | None = None,
        reason: str | None = None, payload: dict[str, Any],
    ) -> None:
        user_id, agency = (self.world.users[actor][:2]) if actor else (None, None)
        self.seq += 1
        fields = {
            "seq": self.seq,
            "occurred_at": when,
            "actor": actor or SYSTEM.username,
            "actor_id": user_id,
            "actor_agency": agency,
            "action": action,
            "recommendation_id": rec.id if rec else None,
            "from_state": from_state,
            "to_state": to_state,
            "revision": revision,
            "reason": reason,
            "payload": audit.canonical_json(payload),
            "prev_hash": self.prev_hash,
        }
        fields["hash"] = self.prev_hash = audit.event_hash(fields)
        self.buffers["audit_events"].append(fields)
        self.buffered += 1

    def _revision(self, step: Step, rec: _Rec, when: datetime, summary: str, base: int | None) -> str:
        rec.revision += 1
        title, body, html, digest = self.text(rec.life, rec.revision)
        rec.hash = digest
        self.buffers["revisions"].append({
            "id": self._next("revisions"),
            "recommendation_id": rec.id,
            "number": rec.revision,
            "title": title,
            "body": body,
            "body_html": html,
            "summary": summary,
            "author_id": self.world.users[step.actor][0],
            "created_at": when,
            "state": rec.state,
            "base_number": base,
        })
        self.buffered += 1
        return digest

    def _create(self, step: Step, rec: _Rec, when: datetime) -> None:
        digest = self._revision(step, rec, when, clean_summary(step.summary) or "First draft", None)
        self._event(when, step.actor, "create", rec, to_state="draft", revision=1, payload={
            "process": self.process_ids[rec.life.process],
            "addressed_agencies": rec.life.addressed,
            "content_hash": digest,
        })

    def _edit(self, step: Step, rec: _Rec, when: datetime) -> None:
        previous = rec.revision
        digest = self._revision(step, rec, when, step.summary or "Edit", previous)
        self._event(when, step.actor, "edit", rec, revision=rec.revision, payload={
            "previous_revision": previous, "base_revision": previous, "merged": False,
            "content_hash": digest,
        })

    def _transition(self, step: Step, rec: _Rec, when: datetime) -> None:
        before, rec.state = rec.state, _TRANSITIONS[step.action]
        payload: dict[str, Any] = {"content_hash": rec.hash}
        if step.action == "merge":
            payload["into"] = self.recs[step.into].id
        elif step.action == "adopt":
            payload["approvals"] = [
                {"agency": agency, "approval": approval, "revision": revision}
                for agency, (approval, revision) in sorted(rec.standing.items())
            ]
        self._event(when, step.actor, step.action, rec, from_state=before, to_state=rec.state,
                    revision=rec.revision, reason=step.reason, payload=payload)

    _submit = _request_changes = _endorse = _return = _adopt = _merge = _withdraw = _transition

    def _decision(self, step: Step, rec: _Rec, when: datetime) -> None:
        approval = self._next("approvals")
        agency = self.world.users[step.actor][1]
        self.buffers["approvals"].append({
            "id": approval,
            "recommendation_id": rec.id,
            "agency_id": self.world.agency_ids[agency],
            "decision": step.action,
            "revision_number": rec.revision,
            "reason": step.reason,
            "user_id": self.world.users[step.actor][0],
            "created_at": when,
        })
        self.buffered += 1
        rec.standing[agency] = (approval, rec.revision)
        self._event(when, step.actor, step.action, rec, revision=rec.revision, reason=step.reason,
                    payload={"content_hash": rec.hash})

    _approve = _object = _decision

    def _comment_row(self, step: Step, thread: int, when: datetime) -> int:
        comment = self._next("comments")
        body = self.plan.comment_texts[step.text]
        self.buffers["comments"].append({
            "id": comment, "thread_id": thread, "author_id": self.world.users[step.actor][0],
            "body": body, "body_html": self.render(body), "created_at": when,
        })
        self.buffered += 1
        return comment

    def _thread_start(self, step: Step, rec: _Rec, when: datetime) -> None:
        thread = self._next("threads")
        rec.threads.append(thread)
        planned = rec.life.threads[step.thread]
        revision = rec.revision if step.quote is not None else None
        resolved = planned.resolved
        self.buffers["threads"].append({
            "id": thread,
            "recommendation_id": rec.id,
            "revision_number": revision,
            "quote": step.quote,
            "created_by_id": self.world.users[step.actor][0],
            "created_at": when,
            "resolved_at": self.moment(resolved.time) if resolved else None,
            "resolved_by_id": self.world.users[resolved.actor][0] if resolved else None,
        })
        self.buffered += 1
        comment = self._comment_row(step, thread, when)
        self._event(when, step.actor, "thread.start", rec, revision=revision,
                    payload={"thread": thread, "comment": comment, "quote": step.quote})

    def _comment(self, step: Step, rec: _Rec, when: datetime) -> None:
        thread = rec.threads[step.thread]
        comment = self._comment_row(step, thread, when)
        self._event(when, step.actor, "comment", rec, payload={"thread": thread, "comment": comment})

    def _thread_resolve(self, step: Step, rec: _Rec, when: datetime) -> None:
        self._event(when, step.actor, step.action, rec, payload={"thread": rec.threads[step.thread]})

    _thread_reopen = _thread_resolve


# --- the same plan through the services -----------------------------------------------------


def replay(session: Session, plan: Plan) -> None:
    """Run the plan through the services, one use case at a time, as people would have.

    Slow (a flush, a chain lock and an event per step) but the definition of what `Load.run`
    must write; tests compare the two. Nothing here is checked that the services do not check.
    """
    users = {u.username: u for u in session.scalars(select(User).options(selectinload(User.role_rows)))}
    process_ids = [plan.world.demo_process_id]
    for title, codes in PROCESSES:
        process_ids.append(services.add_process(session, SYSTEM, title=title, agency_codes=codes).id)
    ids: dict[int, int] = {}
    threads: dict[tuple[int, int], int] = {}
    for step in plan.steps:
        actor, life = users[step.actor], plan.lives[step.rec]
        if step.action == "create":
            rec = services.create_recommendation(
                session, actor, process_id=process_ids[life.process],
                title=plan.title(life.topic, life.place), body=plan.body(life.topic, life.place, 1),
                addressed_agencies=[c for c in life.addressed if c != life.proposing],
            )
            ids[step.rec] = rec.id
        elif step.action == "edit":
            outcome = services.edit_recommendation(
                session, actor, ids[step.rec], title=plan.title(life.topic, life.place),
                body=plan.body(life.topic, life.place, step.text), base_revision=step.text - 1,
                summary=step.summary,
            )
            assert outcome.saved and not outcome.merged
        elif step.action in _TRANSITIONS:
            services.perform_transition(
                session, actor, ids[step.rec], step.action, reason=step.reason,
                into=ids[step.into] if step.action == "merge" else None,
            )
        elif step.action in ("approve", "object"):
            services.record_decision(session, actor, ids[step.rec], step.action,
                                     revision=step.revision, reason=step.reason)
        elif step.action == "thread.start":
            thread = services.start_thread(session, actor, ids[step.rec],
                                           body=plan.comment_texts[step.text], quote=step.quote)
            threads[(step.rec, step.thread)] = thread.id
        elif step.action == "comment":
            services.add_comment(session, actor, threads[(step.rec, step.thread)],
                                 body=plan.comment_texts[step.text])
        elif step.action == "thread.resolve":
            services.resolve_thread(session, actor, threads[(step.rec, step.thread)])
        elif step.action == "thread.reopen":
            services.reopen_thread(session, actor, threads[(step.rec, step.thread)])
        else:  # pragma: no cover
            raise AssertionError(step.action)


def check_texts(plan: Plan) -> None:
    """Every text of the plan is already what the services' cleaning would store."""
    for life in plan.lives:
        title = plan.title(life.topic, life.place)
        assert clean_title(title) == title, title
    for versions in plan._bodies.values():
        for body in versions:
            assert clean_body(body) == body, body
    for comment in plan.comment_texts:
        assert clean_comment(comment) == comment, comment
    for step in plan.steps:
        if step.reason is not None:
            assert clean_reason(step.reason, required=True) == step.reason
        if step.quote is not None:
            assert clean_quote(step.quote) == step.quote
        assert clean_summary(step.summary) == step.summary
