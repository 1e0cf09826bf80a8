"""Discussion threads."""

from __future__ import annotations

from flask import Response, jsonify

from accord.workflow import services

from ..answer_cache import kept_while_unchanged
from . import blueprint, serializers
from .context import actor, database
from .parsing import body, query
from .requests import NewComment, NewThread, Pagination


@blueprint.get("/recommendations/<int:rec_id>/threads")
@kept_while_unchanged(actor)
def list_threads(rec_id: int) -> Response:
    """Threads with their comments, oldest first."""
    with database().read() as session:
        result = services.list_threads(session, actor(), rec_id, **query(Pagination).arguments())
        return jsonify(serializers.page(result, serializers.thread))


@blueprint.post("/recommendations/<int:rec_id>/threads")
def start_thread(rec_id: int) -> tuple[Response, int]:
    """Start a thread, optionally on a quoted passage of a revision."""
    arguments = body(NewThread).arguments()
    with database().write() as session:
        return jsonify(serializers.thread(services.start_thread(session, actor(), rec_id, **arguments))), 201


@blueprint.post("/threads/<int:thread_id>/comments")
def add_comment(thread_id: int) -> tuple[Response, int]:
    """Reply in a thread."""
    arguments = body(NewComment).arguments()
    with database().write() as session:
        return jsonify(serializers.comment(services.add_comment(session, actor(), thread_id, **arguments))), 201


@blueprint.post("/threads/<int:thread_id>/resolve")
def resolve(thread_id: int) -> Response:
    """Mark a thread resolved."""
    with database().write() as session:
        return jsonify(serializers.thread(services.resolve_thread(session, actor(), thread_id)))


@blueprint.post("/threads/<int:thread_id>/reopen")
def reopen(thread_id: int) -> Response:
    """Reopen a resolved thread."""
    with database().write() as session:
        return jsonify(serializers.thread(services.reopen_thread(session, actor(), thread_id)))
