"""Turning a request into plain arguments, or a 400 that says what is wrong with it. What each
operation reads is declared once, as a model in `requests.py`."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import request
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from .errors import ApiError
from .requests import Body, Query

B = TypeVar("B", bound=Body)
Q = TypeVar("Q", bound=Query)

#: What a value of the wrong type should have been, by pydantic's error type.
_KINDS = {"int_type": "must be an integer", "string_type": "must be a string", "list_type": "must be a list"}


def json_body() -> dict[str, Any]:
    """The request body as a JSON object, sent as JSON (`application/json`, or a `+json` type).

    Any other type is refused (415) before anything is read: a web page can send text/plain
    and form bodies to another site without asking it first (a "simple" cross-site request),
    so reading those as JSON let any page the victim visited spend their sign-in attempts.
    Sending JSON needs the site's consent, which the API never gives (no CORS).
    """
    if not request.is_json and _has_body():
        raise ApiError(
            "Send the body as JSON, with the header Content-Type: application/json.",
            code="unsupported_media_type", status=415,
        )
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # nested deeper than any real request: not a body we read
        body = None
    if not isinstance(body, dict):
        raise ApiError("The body must be a JSON object.", code="malformed_json")
    return body


def _has_body() -> bool:
    return bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "").lower()


def body(model: type[B]) -> B:
    """The JSON body as `model`: 400 `missing_field` or `wrong_type` for the first field amiss."""
    try:
        return model.model_validate(json_body())
    except ValidationError as invalid:
        raise _refusal(invalid.errors()[0], "field", missing_code="missing_field") from None


def query(model: type[Q]) -> Q:
    """The query string as `model` (an empty parameter is an absent one): 400 `wrong_type`,
    `out_of_range` or `missing_parameter` for the first parameter amiss."""
    given = {name: value for name, value in request.args.items() if value != ""}
    try:
        return model.model_validate(given)
    except ValidationError as invalid:
        error = invalid.errors()[0]
        if error["type"] == "missing":
            raise ApiError(model.missing, code="missing_parameter") from None
        raise _refusal(error, "parameter", missing_code="missing_parameter") from None


def _refusal(error: ErrorDetails, what: str, *, missing_code: str) -> ApiError:
    name = error["loc"][0]
    if error["type"] == "missing":
        return ApiError(f"The {what} {name!r} is required.", code=missing_code)
    if any(isinstance(part, int) for part in error["loc"]):  # an item of a list
        return ApiError(f"The {what} {name!r} must be a list of strings.", code="wrong_type")
    # Our own checks (requests._integer, _time) name their code and say what is wrong.
    ours = error["type"] in ("wrong_type", "out_of_range")
    code = error["type"] if ours else "wrong_type"
    said = error["msg"] if ours else _KINDS.get(error["type"], "is not valid")
    return ApiError(f"The {what} {name!r} {said}.", code=code)
