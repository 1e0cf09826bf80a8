"""Turning a request into plain arguments, or a 400 that says what is wrong with it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import request

from .errors import ApiError

_MISSING = object()


def json_body() -> dict[str, Any]:
    """The request body as a JSON object (any content type is read as JSON)."""
    try:
        body = request.get_json(force=True, silent=True)
    except RecursionError:  # nested deeper than any real request: not a body we read
        body = None
    if not isinstance(body, dict):
        raise ApiError("The body must be a JSON object.", code="malformed_json")
    return body


def _type_name(kind: type) -> str:
    return {int: "an integer", str: "a string", list: "a list"}.get(kind, kind.__name__)


def field(body: dict[str, Any], name: str, kind: type, *, required: bool = True, default: Any = None) -> Any:
    """`body[name]`, checked to be of `kind` (null counts as absent)."""
    value = body.get(name, _MISSING)
    if value is _MISSING or value is None:
        if required:
            raise ApiError(f"The field {name!r} is required.", code="missing_field")
        return default
    wrong = not isinstance(value, kind) or (kind is int and isinstance(value, bool))
    if wrong:
        raise ApiError(f"The field {name!r} must be {_type_name(kind)}.", code="wrong_type")
    if kind is list and not all(isinstance(item, str) for item in value):
        raise ApiError(f"The field {name!r} must be a list of strings.", code="wrong_type")
    return value


def query_int(name: str, default: int | None = None) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ApiError(f"The parameter {name!r} must be an integer.", code="wrong_type") from None


def query_str(name: str) -> str | None:
    raw = request.args.get(name)
    return raw if raw else None


def query_time(name: str) -> datetime | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(f"The parameter {name!r} must be an ISO 8601 time.", code="wrong_type") from None
    try:
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError:
        raise ApiError(f"The parameter {name!r} is out of range.", code="out_of_range") from None


def pagination() -> dict[str, int]:
    return {"page": query_int("page", 1), "per_page": query_int("per_page", 50)}
