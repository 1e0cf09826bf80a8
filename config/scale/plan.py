"""The plan of a generated data set: the life of every recommendation as the sequence of use
cases the services would run, each allowed by the policy at that point (`Plan.steps`, in the
order they happen). Everything is deterministic for a given N and seed, but for the times.

N recommendations spread over the demo's process and four more workshops of the programme,
drafted, discussed, revised, decided on and moved through their life by the demo's own people:
about 10 revisions and 20 comments (in threads, some quoting the text, some resolved) each,
approvals pinned to revisions (some made stale by later edits, some objections), and every
state: private drafts, drafts sent back, national review, expert consolidation, adopted,
withdrawn and merged.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from accord.workflow.audit_actions import AuditAction
from accord.workflow.models import Role

from .. import demo
from .texts import (
    COMMENTS,
    EU_SUMMARIES,
    OBJECTIONS,
    PLACES,
    REQUEST_CHANGES,
    RETURNS,
    SUMMARIES,
    TOPICS,
    WITHDRAWALS,
    body_versions,
    fill,
)
from .world import PROCESSES, World

#: How recommendations spread over the demo's process (first) and the workshops of world.PROCESSES.
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

class Step:
    """One use case, as the services would run it."""

    __slots__ = (
        "time", "rec", "order", "action", "actor", "text", "reason", "summary", "thread",
        "quote", "into", "revision",
    )  # fmt: skip

    def __init__(
        self, time: int, rec: int, order: int, action: AuditAction, actor: str, *, text: int = 0,
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
        self.standing: dict[str, tuple[AuditAction, int]] = {}  # agency → (decision, revision)
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
    def step(
        self, action: AuditAction, actor: str, *, gap: tuple[int, int] = (10 * 60, 3 * DAY), **details: Any
    ) -> Step:
        self.t += self.rng.randint(*gap)
        step = Step(self.t, self.index, len(self.steps), action, actor, revision=self.revision, **details)
        self.steps.append(step)
        return step

    def create(self) -> None:
        self.revision = 1
        self.step(AuditAction.create, self.expert(), text=1, gap=(0, 0))

    def edit(self, by: str) -> None:
        pool = EU_SUMMARIES if self.state == "expert_consolidation" else SUMMARIES
        self.revision += 1
        self.step(AuditAction.edit, by, text=self.revision, summary=self.rng.choice(pool))

    def transition(self, action: AuditAction, by: str, to: str, reason: str | None = None) -> None:
        if self.state == "expert_consolidation":
            self.windows[-1][1] = self.t + 1  # the step below comes later than t
        self.step(action, by, reason=reason)
        if to == "expert_consolidation":
            self.windows.append([self.t, None])
        self.state = to

    def decide(self, agency: str, decision: AuditAction) -> None:
        reason = self.rng.choice(OBJECTIONS) if decision is AuditAction.object else None
        self.step(decision, self.approver(agency), reason=reason)
        self.standing[agency] = (decision, self.revision)

    def decision_round(self, objection_rate: float, agencies: Sequence[str] | None = None) -> None:
        for agency in self.rng.sample(self.addressed, len(self.addressed)) if agencies is None else agencies:
            choice = AuditAction.object if self.rng.random() < objection_rate else AuditAction.approve
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
                self.step(AuditAction.thread_reopen, rng.choice(people), thread=number)
            elif not open_threads or roll < 0.22:
                quote = self.quotable() if rng.random() < 0.35 else None
                author = rng.choice(people)
                self.step(AuditAction.thread_start, author, text=self.plan.comment(rng, self.place),
                          thread=len(self.threads), quote=quote)
                self.threads.append(_Thread(comments=1, last_author=author))
            else:
                number = rng.choice(open_threads)
                thread = self.threads[number]
                if thread.comments >= 2 and roll < 0.34:
                    thread.open = False
                    thread.resolved = self.step(AuditAction.thread_resolve, rng.choice(people), thread=number)
                    continue
                others = [p for p in people if p != thread.last_author] or people
                author = rng.choice(others)
                self.step(AuditAction.comment, author, text=self.plan.comment(rng, self.place), thread=number)
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
        self.transition(AuditAction.submit, self.expert(), "national_review")
        self.discuss(comments)

    def send_back(self) -> None:
        self.transition(AuditAction.request_changes, self.approver(self.rng.choice(self.addressed)), "draft",
                        self.rng.choice(REQUEST_CHANGES))

    def consolidation(self, ending: str) -> None:
        rng = self.rng
        self.transition(AuditAction.endorse, self.approver(), "expert_consolidation")
        rounds = rng.choice([1, 2, 2, 3])
        for round_ in range(rounds):
            for _ in range(rng.randint(1, 4)):
                self.edit(self.eu_expert())
                self.discuss(rng.randint(0, 2))
            self.discuss(rng.randint(4, 8))
            self.decision_round(0.2)
            if round_ < rounds - 1 and ending != "merge" and rng.random() < 0.12:
                self.transition(AuditAction.return_, self.eu_expert(), "national_review", rng.choice(RETURNS))
                self.discuss(rng.randint(1, 3))
                self.transition(AuditAction.endorse, self.approver(), "expert_consolidation")
        if ending == "stay":
            if rng.random() < 0.6:  # a late edit leaves the decisions taken so far stale
                self.edit(self.eu_expert())
                self.discuss(rng.randint(1, 3))
                self.decision_round(0.3, self.addressed[: rng.randint(0, len(self.addressed) - 1)])
        elif ending == "adopt":
            for agency in self.addressed:
                if self.standing.get(agency) != (AuditAction.approve, self.revision):
                    self.decide(agency, AuditAction.approve)
            self.transition(AuditAction.adopt, self.eu_expert(), "adopted")

    def live(self, scenario: str) -> None:
        rng = self.rng
        self.create()
        self.drafting(rng.randint(3, 7), rng.randint(0, 3))
        if scenario == "draft":
            return
        if scenario == "withdrawn" and rng.random() < 0.4:
            by = rng.choice(self.plan.world.people(self.proposing, Role.national_expert, Role.approver))
            self.transition(AuditAction.withdraw, by, "withdrawn", rng.choice(WITHDRAWALS))
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
            self.transition(AuditAction.withdraw, by, "withdrawn", rng.choice(WITHDRAWALS))
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
        assert start is not None  # a window always has its start; only its end may be open
        end = end if end is not None else start + 30 * DAY
        if end - start < 3:
            return
        moment = rng.randint(start + 1, end - 1)
        shift = moment - life.t - rng.randint(HOUR, DAY)
        for step in life.steps:
            step.time += shift
        life.t += shift
        life.steps.append(Step(moment, index, len(life.steps), AuditAction.merge, life.eu_expert(),
                               into=target.index, revision=life.revision))
        life.state, life.merge_into = "merged", target.index

    # the text
    def title(self, topic: int, place: int) -> str:
        return fill(TOPICS[topic].title, PLACES[place])

    def body(self, topic: int, place: int, revision: int) -> str:
        versions = self._bodies.get((topic, place))
        if versions is None or len(versions) < revision:
            versions = self._bodies[(topic, place)] = body_versions(
                TOPICS[topic], PLACES[place], random.Random(f"accord-body:{self.seed}:{topic}:{place}"),
                max(revision, 12),
            )
        return versions[revision - 1]

    def comment(self, rng: random.Random, place: int) -> int:
        text_ = fill(rng.choice(COMMENTS), PLACES[place])
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


def plan(session: Session, n: int, seed: int) -> Plan:
    return Plan(World.read(session), n, seed)

