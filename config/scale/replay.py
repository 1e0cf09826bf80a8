"""The same plan through the services, one use case at a time: the definition of what the bulk
writer (`load`) must write; tests/cli/test_scale_demo.py compares the two databases row by row."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from accord.workflow import services
from accord.workflow.actors import SYSTEM
from accord.workflow.audit_actions import AuditAction
from accord.workflow.models import User
from accord.workflow.validation import clean_body, clean_comment, clean_quote, clean_reason, clean_summary, clean_title

from .load import TRANSITION_TARGETS
from .plan import Plan
from .world import PROCESSES


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
        if step.action is AuditAction.create:
            rec = services.create_recommendation(
                session, actor, process_id=process_ids[life.process],
                title=plan.title(life.topic, life.place), body=plan.body(life.topic, life.place, 1),
                addressed_agencies=[c for c in life.addressed if c != life.proposing],
            )
            ids[step.rec] = rec.id
        elif step.action is AuditAction.edit:
            outcome = services.edit_recommendation(
                session, actor, ids[step.rec], title=plan.title(life.topic, life.place),
                body=plan.body(life.topic, life.place, step.text), base_revision=step.text - 1,
                summary=step.summary,
            )
            assert outcome.saved and not outcome.merged
        elif step.action in TRANSITION_TARGETS:
            services.perform_transition(
                session, actor, ids[step.rec], step.action, reason=step.reason,
                into=ids[step.into] if step.action is AuditAction.merge else None,
            )
        elif step.action in (AuditAction.approve, AuditAction.object):
            services.record_decision(session, actor, ids[step.rec], step.action,
                                     revision=step.revision, reason=step.reason)
        elif step.action is AuditAction.thread_start:
            thread = services.start_thread(session, actor, ids[step.rec],
                                           body=plan.comment_texts[step.text], quote=step.quote)
            threads[(step.rec, step.thread)] = thread.id
        elif step.action is AuditAction.comment:
            services.add_comment(session, actor, threads[(step.rec, step.thread)],
                                 body=plan.comment_texts[step.text])
        elif step.action is AuditAction.thread_resolve:
            services.resolve_thread(session, actor, threads[(step.rec, step.thread)])
        elif step.action is AuditAction.thread_reopen:
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
