"""Writing a planned data set in bulk (`Load.run`): what the services would write for every step
of the plan, use case by use case, in one write transaction: the rows (`rows`), and one audit
event per use case (`chain`) with the payload the service's own builder makes. The history
happens between the chain's last event and the moment of the run, in order: a recommendation's
events keep their order, events of different recommendations interleave."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from accord.workflow import audit_payloads as payloads
from accord.workflow.audit_actions import AuditAction
from accord.workflow.models import (
    Process,
    Recommendation,
    content_hash,
    process_agencies,
    recommendation_addressees,
    utcnow,
)
from accord.workflow.rendering import render_markdown
from accord.workflow.states import TRANSITIONS, State
from accord.workflow.validation import clean_name, clean_summary

from . import rows as r
from .chain import Chain, lock
from .plan import Plan, Step, _Life, plan
from .world import PROCESSES, Refused, refusal

#: Each transition's target state, as the state machine declares it.
TRANSITION_TARGETS = {t["trigger"]: State(t["dest"]).value for t in TRANSITIONS}


@dataclass(frozen=True)
class Outcome:
    message: str
    counts: dict[str, int]


class Load:
    """A planned data set, ready to write in the caller's write transaction."""

    def __init__(self, session: Session, plan: Plan) -> None:
        self.session, self.plan = session, plan
        counts = Counter(step.action for step in plan.steps)
        comments = counts[AuditAction.thread_start] + counts[AuditAction.comment]
        self.rows = {
            "processes": len(PROCESSES),
            "recommendations": plan.n,
            "revisions": counts[AuditAction.create] + counts[AuditAction.edit],
            "threads": counts[AuditAction.thread_start],
            "comments": comments,
            "approvals": counts[AuditAction.approve] + counts[AuditAction.object],
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
    lock(session)
    reason = refusal(session)
    if reason:
        raise Refused(reason)
    return Load(session, plan(session, n, seed))


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
        self.plan, self.world = plan, plan.world
        self.connection = session.connection()
        self.rows = r.Rows(self.connection, progress)
        self.chain = Chain(self.connection, self.rows, self.world.users)
        self.html: dict[str, str] = {}
        self.hashes: dict[tuple[int, int, int], str] = {}
        self.use_cases: dict[AuditAction, Callable[[Step, _Rec, datetime], None]] = {
            AuditAction.create: self._create,
            AuditAction.edit: self._edit,
            **{AuditAction(trigger): self._transition for trigger in TRANSITION_TARGETS},
            AuditAction.approve: self._decision,
            AuditAction.object: self._decision,
            AuditAction.thread_start: self._thread_start,
            AuditAction.comment: self._comment,
            AuditAction.thread_resolve: self._thread_moderated,
            AuditAction.thread_reopen: self._thread_moderated,
        }

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

    def user_id(self, username: str) -> int:
        return self.world.users[username][0]

    def write(self) -> None:
        plan, world = self.plan, self.world

        # When things happen: simulated seconds onto the real time between the head and now.
        steps = plan.steps
        low = min((s.time for s in steps), default=0) - 1
        high = max((s.time for s in steps), default=0)
        start = self.chain.head_time
        span_us = max((utcnow() - start) // timedelta(microseconds=1), 0)

        def moment(simulated: int) -> datetime:
            return start + timedelta(microseconds=span_us * (simulated - low) // (high - low + 1))

        self.moment = moment

        # The processes, as services.add_process writes them.
        process_ids = [world.demo_process_id]
        created = moment(low)
        for title, codes in PROCESSES:
            pid = self.rows.next_id("processes")
            process_ids.append(pid)
            clean = clean_name(title, "title", limit=300)
            self.connection.execute(insert(Process), [{"id": pid, "title": clean, "created_at": created}])
            self.connection.execute(
                insert(process_agencies),
                [{"process_id": pid, "agency_id": world.agency_ids[c]} for c in sorted(set(codes))],
            )
            self.chain.append(created, None, AuditAction.process_add, None,
                              payload=payloads.process_added(pid, clean, codes))
        self.rows.progress(len(PROCESSES))
        self.process_ids = process_ids

        # The recommendations, with their final values (their history follows).
        recs: dict[int, _Rec] = {}
        for step in steps:
            if step.action is AuditAction.create:
                recs[step.rec] = _Rec(self.rows.next_id("recommendations"), plan.lives[step.rec])
        self.recs = recs
        rows, addressees = [], []
        # Merge targets first: a merged recommendation's row refers to its target's.
        for rec in sorted(recs.values(), key=lambda rec: (rec.life.merge_into >= 0, rec.id)):
            rows.append(self._final_row(rec))
            addressees += [{"recommendation_id": rec.id, "agency_id": world.agency_ids[c]}
                           for c in rec.life.addressed]
            if len(rows) >= r.BATCH:
                self.rows.insert(Recommendation, rows)
                rows = []
        self.rows.insert(Recommendation, rows)
        for chunk in range(0, len(addressees), r.BATCH):
            self.connection.execute(insert(recommendation_addressees), addressees[chunk : chunk + r.BATCH])

        # Their history, in the order it happened.
        use_cases = self.use_cases
        for step in steps:
            use_cases[step.action](step, recs[step.rec], moment(step.time))
        self.rows.finish()

    def _final_row(self, rec: _Rec) -> dict[str, Any]:
        """The recommendation as its last use case leaves it."""
        life = rec.life
        created = updated = submitted = None
        version = 0
        state = "draft"
        revision = 0
        for step in life.steps:
            if step.action in (AuditAction.create, AuditAction.edit) or step.action in TRANSITION_TARGETS:
                version += 1  # each of these updates the row (its optimistic-lock version)
                updated = step.time
            if step.action is AuditAction.create:
                created, revision = step.time, 1
            elif step.action is AuditAction.edit:
                revision += 1
            elif step.action in TRANSITION_TARGETS:
                state = TRANSITION_TARGETS[step.action]
                if step.action is AuditAction.submit and submitted is None:
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
            "created_by_id": self.user_id(life.steps[0].actor),
            "created_at": self.moment(created),
            "updated_at": self.moment(updated),
            "submitted_at": self.moment(submitted) if submitted is not None else None,
            "merged_into_id": self.recs[life.merge_into].id if life.merge_into >= 0 else None,
            "version": version,
        }

    # one method per use case, writing what its service writes

    def _revision(self, step: Step, rec: _Rec, when: datetime, summary: str, base: int | None) -> str:
        rec.revision += 1
        title, body, html, digest = self.text(rec.life, rec.revision)
        rec.hash = digest
        self.rows.add("revisions", r.revision_row(
            self.rows.next_id("revisions"), rec.id, rec.revision, title=title, body=body, body_html=html,
            summary=summary, author_id=self.user_id(step.actor), created_at=when, state=rec.state,
            base_number=base,
        ))
        return digest

    def _create(self, step: Step, rec: _Rec, when: datetime) -> None:
        digest = self._revision(step, rec, when, clean_summary(step.summary) or "First draft", None)
        self.chain.append(when, step.actor, step.action, rec.id, to_state=State.draft.value, revision=1,
                          payload=payloads.recommendation_created(
                              self.process_ids[rec.life.process], rec.life.addressed, digest))

    def _edit(self, step: Step, rec: _Rec, when: datetime) -> None:
        previous = rec.revision
        digest = self._revision(step, rec, when, step.summary or "Edit", previous)
        self.chain.append(when, step.actor, step.action, rec.id, revision=rec.revision,
                          payload=payloads.recommendation_edited(
                              previous_revision=previous, base_revision=previous, merged=False,
                              content_hash=digest))

    def _transition(self, step: Step, rec: _Rec, when: datetime) -> None:
        before, rec.state = rec.state, TRANSITION_TARGETS[step.action]
        into = self.recs[step.into].id if step.action is AuditAction.merge else None
        approvals = None
        if step.action is AuditAction.adopt:
            approvals = [(agency, approval, revision) for agency, (approval, revision) in rec.standing.items()]
        self.chain.append(when, step.actor, step.action, rec.id, from_state=before, to_state=rec.state,
                          revision=rec.revision, reason=step.reason,
                          payload=payloads.transitioned(rec.hash, into=into, approvals=approvals))

    def _decision(self, step: Step, rec: _Rec, when: datetime) -> None:
        approval = self.rows.next_id("approvals")
        agency = self.world.users[step.actor][1]
        self.rows.add("approvals", r.approval_row(
            approval, rec.id, agency_id=self.world.agency_ids[agency], decision=step.action.value,
            revision=rec.revision, reason=step.reason, user_id=self.user_id(step.actor), created_at=when,
        ))
        rec.standing[agency] = (approval, rec.revision)
        self.chain.append(when, step.actor, step.action, rec.id, revision=rec.revision, reason=step.reason,
                          payload=payloads.decided(rec.hash))

    def _comment_row(self, step: Step, thread: int, when: datetime) -> int:
        comment = self.rows.next_id("comments")
        body = self.plan.comment_texts[step.text]
        self.rows.add("comments", r.comment_row(
            comment, thread, author_id=self.user_id(step.actor), body=body, body_html=self.render(body),
            created_at=when,
        ))
        return comment

    def _thread_start(self, step: Step, rec: _Rec, when: datetime) -> None:
        thread = self.rows.next_id("threads")
        rec.threads.append(thread)
        resolved = rec.life.threads[step.thread].resolved
        revision = rec.revision if step.quote is not None else None
        self.rows.add("threads", r.thread_row(
            thread, rec.id, revision=revision, quote=step.quote, created_by_id=self.user_id(step.actor),
            created_at=when, resolved_at=self.moment(resolved.time) if resolved else None,
            resolved_by_id=self.user_id(resolved.actor) if resolved else None,
        ))
        comment = self._comment_row(step, thread, when)
        self.chain.append(when, step.actor, step.action, rec.id, revision=revision,
                          payload=payloads.thread_started(thread, comment, step.quote))

    def _comment(self, step: Step, rec: _Rec, when: datetime) -> None:
        thread = rec.threads[step.thread]
        comment = self._comment_row(step, thread, when)
        self.chain.append(when, step.actor, step.action, rec.id, payload=payloads.commented(thread, comment))

    def _thread_moderated(self, step: Step, rec: _Rec, when: datetime) -> None:
        self.chain.append(when, step.actor, step.action, rec.id,
                          payload=payloads.thread_moderated(rec.threads[step.thread]))
