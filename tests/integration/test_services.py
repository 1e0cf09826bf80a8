"""The use cases, one behaviour at a time."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from accord.workflow import audit, services
from accord.workflow.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from accord.workflow.models import AuditEvent, Recommendation, Revision
from accord.workflow.states import State
from accord.workflow.visibility import can_see, visible_recommendations

from ..factories import BODY, USERS
from ..helpers import snapshot


def refused(session, error, call, *args, code=None, **kwargs):
    """Run a service that must be refused; check it changed nothing."""
    session.commit()  # what the test set up stays; only the refused call may be rolled back
    before = snapshot(session)
    with pytest.raises(error) as info:
        call(session, *args, **kwargs)
    session.rollback()
    assert snapshot(session) == before
    if code:
        assert info.value.code == code
    return info.value


# --- create --------------------------------------------------------------------------------


def test_create_starts_a_draft_at_revision_one(session, world):
    rec = world.draft(session)
    assert (rec.state, rec.revision, rec.proposing_agency.code) == (State.draft, 1, "KZ-BS")
    assert [a.code for a in rec.addressed_agencies] == ["KG-BS", "KZ-BS"]  # proposing always in
    assert "<p>Establish a joint working group" in rec.body_html
    revision = services.get_revision(session, world["kz_expert"], rec.id, 1)
    assert (revision.title, revision.body, revision.author.username) == (rec.title, BODY, "kz_expert")


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"title": "   "}, "title_required"),
        ({"title": "x" * 301}, "title_too_long"),
        ({"addressed_agencies": ["XX-NOPE"]}, "unknown_agency"),
        ({"addressed_agencies": ["TJ-BS"]}, "agency_not_in_process"),
        ({"addressed_agencies": "KG-BS"}, "invalid_type"),
        ({"body": "bad\x00byte"}, "invalid_text"),
        ({"process_id": 999_999}, "unknown_process"),
    ],
)
def test_create_refuses_invalid_input(session, world, kwargs, code):
    arguments = {
        "process_id": world.process.id, "title": "A title", "body": "A text",
        "addressed_agencies": ["KG-BS"], **kwargs,
    }
    refused(session, InvalidInput, services.create_recommendation, world["kz_expert"], code=code, **arguments)


@pytest.mark.parametrize("user", ["kz_approver", "lv_expert", "auditor", "admin", "tj_approver"])
def test_only_national_experts_draft(session, world, user):
    refused(
        session, PermissionDenied, services.create_recommendation, world[user],
        process_id=world.process.id, title="T", body="B",
    )


def test_an_agency_outside_the_process_cannot_draft_in_it(session, world):
    outsider = services.add_user(
        session, __import__("accord.workflow.actors").workflow.actors.SYSTEM, username="tj_expert",
        agency_code="TJ-BS", roles=["national_expert"], password="a long enough passphrase",
    )
    refused(
        session, PermissionDenied, services.create_recommendation, outsider,
        process_id=world.process.id, title="T", body="B", code="agency_not_in_process",
    )


# --- edit ----------------------------------------------------------------------------------


def edit(session, world, rec, body, *, by="kz_expert", base=None, title=None):
    return services.edit_recommendation(
        session, world[by], rec.id, title=title or rec.title, body=body,
        base_revision=base or rec.revision, summary="test edit",
    )


def test_every_save_makes_an_immutable_revision(session, world):
    rec = world.draft(session)
    outcome = edit(session, world, rec, BODY + "\n\nA new paragraph.")
    assert outcome.saved and not outcome.merged
    assert rec.revision == 2 and rec.body.endswith("A new paragraph.")
    numbers = [r.number for r in services.list_revisions(session, world["kz_expert"], rec.id).items]
    assert numbers == [1, 2]
    assert services.get_revision(session, world["kz_expert"], rec.id, 1).body == BODY


def test_saving_unchanged_text_makes_no_revision(session, world):
    rec = world.draft(session)
    session.commit()
    before = snapshot(session)
    outcome = edit(session, world, rec, BODY)
    assert not outcome.saved and outcome.conflict is None
    assert snapshot(session) == before


def test_edit_from_a_revision_that_does_not_exist_is_refused(session, world):
    rec = world.draft(session)
    refused(
        session, InvalidInput, services.edit_recommendation, world["kz_expert"], rec.id,
        title="T", body="B", base_revision=7, code="unknown_revision",
    )


def test_a_stale_base_with_separate_changes_is_merged(session, world):
    rec = world.draft(session)
    paragraphs = BODY.split("\n\n")
    edit(session, world, rec, "\n\n".join([paragraphs[0] + " Now.", *paragraphs[1:]]))
    outcome = edit(session, world, rec, "\n\n".join([*paragraphs[:2], paragraphs[2] + " Soon."]), base=1)
    assert outcome.saved and outcome.merged
    assert rec.revision == 3
    assert rec.body == "\n\n".join([paragraphs[0] + " Now.", paragraphs[1], paragraphs[2] + " Soon."])
    event = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert event.action == "edit" and '"merged":true' in event.payload


def test_a_stale_base_with_overlapping_changes_keeps_a_conflict_copy(session, world):
    rec = world.draft(session)
    edit(session, world, rec, BODY.replace("every quarter", "every month"))
    mine = BODY.replace("every quarter", "twice a year")
    outcome = edit(session, world, rec, mine, base=1)
    assert not outcome.saved and outcome.conflict is not None
    assert rec.revision == 2 and "every month" in rec.body
    copy = services.get_conflict_copy(session, world["kz_expert"], outcome.conflict.id)
    assert (copy.body, copy.base_revision, copy.conflicting_revision) == (mine, 1, 2)
    assert [c.id for c in services.list_conflict_copies(session, world["kz_expert"], rec.id)] == [copy.id]
    # Only its author sees it; the author can discard it once read.
    with pytest.raises(NotFound):
        services.get_conflict_copy(session, world["kz_approver"], copy.id)
    services.discard_conflict_copy(session, world["kz_expert"], copy.id)
    assert services.list_conflict_copies(session, world["kz_expert"], rec.id) == []
    assert audit.verify_chain(session).ok


def test_a_conflicting_title_is_a_conflict_too(session, world):
    rec = world.draft(session)
    edit(session, world, rec, BODY, title="Working group, first title")
    outcome = edit(session, world, rec, BODY, title="Working group, second title", base=1)
    assert outcome.conflict is not None and outcome.conflict.title == "Working group, second title"


# --- approvals and adoption ----------------------------------------------------------------


def decide(session, world, rec, who, decision="approve", *, revision=None, reason=None):
    return services.record_decision(
        session, world[who], rec.id, decision, revision=revision or rec.revision, reason=reason
    )


def test_an_approval_is_pinned_to_the_current_revision(session, world):
    rec = world.bring_to(session, State.expert_consolidation)
    refused(session, Conflict, services.record_decision, world["kz_approver"], rec.id, "approve",
            revision=rec.revision + 1, code="stale_revision")
    approval = decide(session, world, rec, "kz_approver")
    assert (approval.revision_number, approval.agency.code, approval.is_stale) == (1, "KZ-BS", False)


def test_an_edit_makes_earlier_approvals_stale(session, world):
    rec = world.bring_to(session, State.expert_consolidation, approved=True)
    assert rec.missing_approvals() == []
    edit(session, world, rec, rec.body + "\n\nConsolidated wording.", by="lv_expert")
    assert all(a.is_stale for a in rec.approvals)
    assert {a.code for a in rec.missing_approvals()} == {"KZ-BS", "KG-BS"}
    error = refused(session, Conflict, services.perform_transition, world["lv_expert"], rec.id, "adopt")
    assert "approve the current revision" in error.message
    decide(session, world, rec, "kz_approver")
    decide(session, world, rec, "kg_approver")
    assert world.fire(session, rec, "adopt", "lv_expert").state is State.adopted


def test_a_standing_objection_blocks_adoption_until_replaced(session, world):
    rec = world.bring_to(session, State.expert_consolidation)
    decide(session, world, rec, "kz_approver")
    refused(session, InvalidInput, services.record_decision, world["kg_approver"], rec.id, "object",
            revision=rec.revision, code="reason_required")
    decide(session, world, rec, "kg_approver", "object", reason="Too frequent.")
    assert [o.agency.code for o in rec.standing_objections()] == ["KG-BS"]
    refused(session, Conflict, services.perform_transition, world["lv_expert"], rec.id, "adopt")
    decide(session, world, rec, "kg_approver", "approve")
    assert rec.standing_objections() == []
    assert world.fire(session, rec, "adopt", "lv_expert").state is State.adopted


def test_repeating_the_standing_decision_is_refused(session, world):
    rec = world.bring_to(session, State.expert_consolidation)
    decide(session, world, rec, "kz_approver")
    refused(session, Conflict, services.record_decision, world["kz_approver"], rec.id, "approve",
            revision=rec.revision, code="already_decided")


# --- transitions ---------------------------------------------------------------------------


@pytest.mark.parametrize(("state", "action", "who"), [
    (State.national_review, "request_changes", "kg_approver"),
    (State.expert_consolidation, "return", "lv_expert"),
    (State.draft, "withdraw", "kz_expert"),
])
def test_a_reason_is_required_and_recorded(session, world, state, action, who):
    rec = world.bring_to(session, state)
    refused(session, InvalidInput, services.perform_transition, world[who], rec.id, action,
            reason="  ", code="reason_required")
    world.fire(session, rec, action, who, reason="Because.")
    event = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert (event.action, event.reason) == (action, "Because.")


def test_unknown_action_is_invalid(session, world):
    rec = world.draft(session)
    refused(session, InvalidInput, services.perform_transition, world["kz_expert"], rec.id, "publish",
            code="unknown_action")


def test_merge_keeps_provenance_both_ways(session, world):
    source = world.bring_to(session, State.merged)
    target = source.merged_into
    assert target.state is State.expert_consolidation
    assert target.merged_from == [source]
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "merge")).one()
    assert f'"into":{target.id}' in event.payload


def test_merge_needs_a_target_in_consolidation(session, world):
    rec = world.bring_to(session, State.expert_consolidation)
    elsewhere = world.bring_to(session, State.national_review)
    refused(session, InvalidInput, services.perform_transition, world["lv_expert"], rec.id, "merge",
            code="into_required")
    refused(session, InvalidInput, services.perform_transition, world["lv_expert"], rec.id, "merge",
            into=987654, code="unknown_target")
    refused(session, Conflict, services.perform_transition, world["lv_expert"], rec.id, "merge",
            into=elsewhere.id, code="guard_failed")
    refused(session, Conflict, services.perform_transition, world["lv_expert"], rec.id, "merge",
            into=rec.id, code="guard_failed")


def test_changes_requested_hide_the_draft_again_from_other_agencies(session, world):
    rec = world.bring_to(session, State.national_review)
    assert can_see(world["kg_approver"], rec)
    world.fire(session, rec, "request_changes", "kg_approver", reason="Be more specific.")
    assert not can_see(world["kg_approver"], rec)
    with pytest.raises(NotFound):
        services.get_recommendation(session, world["kg_approver"], rec.id)
    world.fire(session, rec, "submit", "kz_expert")
    assert can_see(world["kg_approver"], rec)


def test_read_only_once_terminal(session, world):
    rec = world.bring_to(session, State.adopted)
    refused(session, Conflict, services.edit_recommendation, world["lv_expert"], rec.id,
            title=rec.title, body="new", base_revision=rec.revision, code="wrong_state")
    refused(session, Conflict, services.start_thread, world["kz_expert"], rec.id, body="Late remark.")


def test_disabled_users_can_do_nothing(session, world):
    from accord.workflow.actors import SYSTEM

    rec = world.draft(session)
    services.set_user_active(session, SYSTEM, "kz_expert", active=False)
    with pytest.raises(NotFound):
        services.perform_transition(session, world["kz_expert"], rec.id, "submit")
    with pytest.raises(PermissionDenied):
        world.draft(session)


# --- threads -------------------------------------------------------------------------------


def test_a_thread_on_a_quoted_passage(session, world):
    rec = world.bring_to(session, State.national_review)
    thread = services.start_thread(
        session, world["kg_approver"], rec.id, body="Why *quarterly*?", quote="every quarter"
    )
    assert (thread.revision_number, thread.quote, thread.passage_changed) == (1, "every quarter", False)
    assert thread.comments[0].body_html == "<p>Why <em>quarterly</em>?</p>"
    services.add_comment(session, world["kz_expert"], thread.id, body="To keep momentum.")
    services.resolve_thread(session, world["kg_approver"], thread.id)
    refused(session, Conflict, services.add_comment, world["kz_expert"], thread.id, body="More.",
            code="thread_resolved")
    refused(session, Conflict, services.resolve_thread, world["kz_expert"], thread.id)
    services.reopen_thread(session, world["kz_expert"], thread.id)
    services.add_comment(session, world["kz_expert"], thread.id, body="More.")
    assert [c.author.username for c in services.list_threads(session, world["kz_expert"], rec.id).items[0].comments] == [
        "kg_approver", "kz_expert", "kz_expert"
    ]


def test_a_thread_knows_when_its_passage_changed(session, world):
    rec = world.bring_to(session, State.expert_consolidation)
    thread = services.start_thread(session, world["kg_approver"], rec.id, body="Hm.", quote="every quarter")
    edit(session, world, rec, rec.body.replace("every quarter", "every month"), by="lv_expert")
    assert thread.passage_changed


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"quote": "not in the text"}, "quote_not_found"),
    ({"revision": 9}, "unknown_revision"),
    ({"body": "  "}, "comment_required"),
])
def test_thread_input_is_checked(session, world, kwargs, code):
    rec = world.bring_to(session, State.national_review)
    refused(session, InvalidInput, services.start_thread, world["kg_approver"], rec.id,
            **{"body": "Remark.", **kwargs}, code=code)


# --- what may this user see ----------------------------------------------------------------


def test_the_visibility_query_and_predicate_agree(session, world):
    for state in State:
        world.bring_to(session, state)
    returned = world.bring_to(session, State.national_review)
    world.fire(session, returned, "request_changes", "kg_approver", reason="Redo.")
    everything = session.scalars(select(Recommendation)).all()
    for username in USERS:
        user = world[username]
        by_query = {r.id for r in session.scalars(visible_recommendations(user))}
        assert by_query == {r.id for r in everything if can_see(user, r)}, username


def test_lists_filter_search_and_paginate(session, world):
    world.bring_to(session, State.national_review, title="Risk analysis 50% shared")
    world.bring_to(session, State.expert_consolidation, title="Joint patrols")
    world.draft(session, title="Private idea")
    reader = world["kg_approver"]
    page = services.list_recommendations(session, reader)
    assert {r.title for r in page.items} == {"Risk analysis 50% shared", "Joint patrols"}
    assert services.list_recommendations(session, reader, state="expert_consolidation").total == 1
    assert services.list_recommendations(session, reader, q="50%").total == 1
    assert services.list_recommendations(session, reader, q="5_%").total == 0  # LIKE escaped
    assert services.list_recommendations(session, reader, q="PATROL").total == 1
    assert services.list_recommendations(session, reader, agency="KG-BS").total == 0
    assert services.list_recommendations(session, world["kz_expert"], agency="KZ-BS").total == 3
    second = services.list_recommendations(session, reader, page=2, per_page=1)
    assert (len(second.items), second.total) == (1, 2)
    with pytest.raises(InvalidInput):
        services.list_recommendations(session, reader, state="bogus")
    with pytest.raises(InvalidInput):
        services.list_recommendations(session, reader, per_page=201)


def test_markdown_is_rendered_once_and_sanitized(session, world):
    rec = world.draft(session, body="Click [here](javascript:alert(1)) <script>alert(2)</script>")
    stored = session.scalar(select(Revision.body_html).where(Revision.recommendation_id == rec.id))
    assert "javascript:" not in stored and "<script" not in stored
    assert rec.body_html == stored


# --- signing in ----------------------------------------------------------------------------


def test_authenticate(session, world):
    from accord.workflow.actors import SYSTEM

    from ..factories import PASSWORD

    assert services.authenticate(session, "kz_expert", PASSWORD) is world["kz_expert"]
    assert services.authenticate(session, "KZ_Expert ", PASSWORD) is world["kz_expert"]
    assert services.authenticate(session, "kz_expert", PASSWORD + "!") is None
    assert services.authenticate(session, "nobody", PASSWORD) is None
    services.set_user_active(session, SYSTEM, "kz_expert", active=False)
    assert services.authenticate(session, "kz_expert", PASSWORD) is None
