"""Recommendations: create, list, read, edit, move through the workflow, decide, compare."""

from __future__ import annotations

from flask import Response, jsonify

from accord.workflow import services

from ..answer_cache import kept_while_unchanged
from . import blueprint, serializers
from .context import actor, database
from .errors import error_response
from .parsing import body, query
from .requests import (
    DecisionRequest,
    DiffQuery,
    NewRecommendation,
    Pagination,
    RecommendationEdit,
    RecommendationFilters,
    TransitionRequest,
)


def _one(rec, status: int = 200) -> tuple[Response, int]:
    return jsonify(serializers.recommendation(rec, actor())), status


@blueprint.post("/recommendations")
def create_recommendation() -> tuple[Response, int]:
    """Draft a new recommendation (revision 1)."""
    arguments = body(NewRecommendation).arguments()
    with database().write() as session:
        return _one(services.create_recommendation(session, actor(), **arguments), 201)


@blueprint.get("/recommendations")
@kept_while_unchanged(actor)
def list_recommendations() -> Response:
    """Recommendations the caller may see, filtered and paginated."""
    filters = query(RecommendationFilters).arguments()
    with database().read() as session:
        result = services.list_recommendations(session, actor(), **filters)
        return jsonify(serializers.page(result, lambda rec: serializers.recommendation(rec, actor())))


@blueprint.get("/recommendations/<int:rec_id>")
@kept_while_unchanged(actor)
def get_recommendation(rec_id: int) -> tuple[Response, int]:
    """One recommendation, with what the caller may do to it now."""
    with database().read() as session:
        return _one(services.get_recommendation(session, actor(), rec_id))


@blueprint.put("/recommendations/<int:rec_id>")
def edit_recommendation(rec_id: int) -> tuple[Response, int] | Response:
    """Save new text, started from `base_revision`; merged or kept as a conflict copy."""
    arguments = body(RecommendationEdit).arguments()
    with database().write() as session:
        outcome = services.edit_recommendation(session, actor(), rec_id, **arguments)
        if outcome.conflict is None:
            return _one(outcome.recommendation)
        # The conflict copy is committed with this transaction: nothing typed is lost.
        copy = outcome.conflict
        return error_response(
            409,
            "edit_conflict",
            f"Someone saved revision {outcome.recommendation.revision} since revision "
            f"{copy.base_revision}, changing the same passages. Your text is kept as conflict "
            f"copy {copy.id}: compare, merge by hand and save again from revision "
            f"{outcome.recommendation.revision}.",
            conflict=serializers.conflict_outcome(outcome.recommendation, copy),
        )


@blueprint.post("/recommendations/<int:rec_id>/transitions")
def transition(rec_id: int) -> tuple[Response, int]:
    """Fire a workflow action: submit, request_changes, endorse, return, adopt, merge, withdraw."""
    arguments = body(TransitionRequest).arguments()
    with database().write() as session:
        rec = services.perform_transition(session, actor(), rec_id, **arguments)
        return _one(rec)


@blueprint.get("/recommendations/<int:rec_id>/revisions")
@kept_while_unchanged(actor)
def list_revisions(rec_id: int) -> Response:
    """The revision history, oldest first."""
    with database().read() as session:
        result = services.list_revisions(session, actor(), rec_id, **query(Pagination).arguments())
        return jsonify(serializers.page(result, serializers.revision_summary))


@blueprint.get("/recommendations/<int:rec_id>/revisions/<int:number>")
@kept_while_unchanged(actor)
def get_revision(rec_id: int, number: int) -> Response:
    """One revision's full text."""
    with database().read() as session:
        return jsonify(serializers.revision(services.get_revision(session, actor(), rec_id, number)))


@blueprint.get("/recommendations/<int:rec_id>/diff")
@kept_while_unchanged(actor)
def diff(rec_id: int) -> Response:
    """Word-level changes between two revisions."""
    revisions = query(DiffQuery)
    with database().read() as session:
        ops = services.diff_revisions(session, actor(), rec_id, revisions.old, revisions.new)
    return jsonify(serializers.diff(revisions.old, revisions.new, ops))


@blueprint.post("/recommendations/<int:rec_id>/approvals")
def decide(rec_id: int) -> tuple[Response, int]:
    """Approve or object to the current revision, for the caller's agency."""
    arguments = body(DecisionRequest).arguments()
    with database().write() as session:
        approval = services.record_decision(session, actor(), rec_id, **arguments)
        return jsonify(serializers.approval(approval)), 201


@blueprint.get("/conflict-copies/<int:copy_id>")
def get_conflict_copy(copy_id: int) -> Response:
    """A conflict copy of the caller's, to merge by hand."""
    with database().read() as session:
        return jsonify(serializers.conflict_copy(services.get_conflict_copy(session, actor(), copy_id)))


@blueprint.delete("/conflict-copies/<int:copy_id>")
def discard_conflict_copy(copy_id: int) -> tuple[str, int]:
    """Discard a conflict copy once its text is merged or no longer wanted."""
    with database().write() as session:
        services.discard_conflict_copy(session, actor(), copy_id)
    return "", 204
