"""The error envelope: every failure under /api/ answers JSON with a machine code and a
sentence for a person, never an HTML page and never a traceback."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from workflow.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RateLimited,
    Unauthenticated,
)

log = logging.getLogger(__name__)

API_PREFIX = "/api/"

STATUS = {
    NotFound: 404,
    PermissionDenied: 403,
    Conflict: 409,
    InvalidInput: 422,
    Unauthenticated: 401,
    RateLimited: 429,
}

HTTP_CODES = {
    400: ("bad_request", "The request could not be understood."),
    401: ("unauthenticated", "Sign in first: send a valid bearer token."),
    403: ("forbidden", "You may not do this."),
    404: ("not_found", "There is nothing at this address."),
    405: ("method_not_allowed", "This address does not accept that method."),
    413: ("too_large", "The request body is too large."),
    415: ("unsupported_media_type", "Send JSON."),
    429: ("rate_limited", "Too many requests; slow down."),
}


class ApiError(Exception):
    """A request the web layer refuses before any service is called (malformed JSON, wrong
    types): 400 unless said otherwise."""

    def __init__(self, message: str, *, code: str = "bad_request", status: int = 400) -> None:
        super().__init__(message)
        self.message, self.code, self.status = message, code, status


def error_response(status: int, code: str, message: str, **extra: object) -> Response:
    response = jsonify({"error": {"code": code, "message": message}, **extra})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="accord"'
    return response


def _domain_error(error: DomainError) -> Response:
    status = next(s for cls, s in STATUS.items() if isinstance(error, cls))
    response = error_response(status, error.code, error.message)
    if isinstance(error, RateLimited):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def _is_api() -> bool:
    return request.path.startswith(API_PREFIX)


def init_app(app: Flask) -> None:
    """Register the JSON error handlers for every path under /api/."""

    @app.errorhandler(ApiError)
    def api_error(error: ApiError) -> Response:
        return error_response(error.status, error.code, error.message)

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError) -> Response:
        return _domain_error(error)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response | HTTPException:
        if not _is_api():
            return error
        code, message = HTTP_CODES.get(error.code or 500, ("error", error.description or "Error."))
        response = error_response(error.code or 500, code, message)
        if error.code == 405 and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(OperationalError)
    def database_unavailable(error: OperationalError) -> Response | tuple[str, int]:
        log.warning("database unavailable: %s", error.orig)
        if not _is_api():
            return "The database is unavailable; try again shortly.", 503
        response = error_response(503, "unavailable", "The database is busy or unavailable; try again shortly.")
        response.headers["Retry-After"] = "2"
        return response

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response | tuple[str, int]:
        if isinstance(error, DBAPIError):
            log.error("database error", exc_info=error)
        else:
            log.exception("unexpected error", exc_info=error)
        if not _is_api():
            return "Something went wrong on our side.", 500
        return error_response(500, "internal_error", "Something went wrong on our side; it has been logged.")
