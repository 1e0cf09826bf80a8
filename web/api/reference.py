"""Who am I; the agencies; the processes."""

from __future__ import annotations

from flask import Response, jsonify

from accord.workflow import services

from . import blueprint, serializers
from .context import actor, database
from .parsing import query
from .requests import Pagination


@blueprint.get("/me")
def me() -> Response:
    """The signed-in user."""
    return jsonify(serializers.me(actor()))


@blueprint.get("/agencies")
def agencies() -> Response:
    """Every agency."""
    with database().read() as session:
        result = services.list_agencies(session, actor(), **query(Pagination).arguments())
        return jsonify(serializers.page(result, serializers.agency))


@blueprint.get("/processes")
def processes() -> Response:
    """Processes the caller's agency takes part in."""
    with database().read() as session:
        result = services.list_processes(session, actor(), **query(Pagination).arguments())
        return jsonify(serializers.page(result, serializers.process))
