"""The error envelope: every failure under /api/ answers JSON with a machine code and a
sentence for a person, never an HTML page and never a traceback."""

from __future__ import annotations

import logging
import sqlite3

from flask import Flask, Response, current_app, jsonify, request
from flask_babel import gettext as _
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from accord.workflow.errors import (
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


#: SQLite's "database or disk is full" (SQLITE_FULL) and PostgreSQL's disk_full (SQLSTATE 53100).
_SQLITE_FULL = getattr(sqlite3, "SQLITE_FULL", 13)
_PG_DISK_FULL = "53100"


def is_storage_full(error: DBAPIError) -> bool:
    """Whether the database refused a write for want of space (a full disk, or SQLite's
    `max_page_count`). The transaction is rolled back as a whole: nothing of it is written."""
    orig = error.orig
    return (
        getattr(orig, "sqlite_errorcode", None) == _SQLITE_FULL
        or getattr(orig, "sqlstate", None) == _PG_DISK_FULL
    )


def _database_failure(
    code: str, message: str, page_title: str, page_message: str, *, retry_after: int
) -> Response:
    """The database failed, not the request: JSON under /api/, else a page of its own.

    The page is rendered from the Jinja environment directly, without the context processors:
    they ask for the signed-in person, which needs the very database that just failed.
    """
    if _is_api():
        response = error_response(503, code, message)
    else:
        try:  # what the person typed, shown back so it is not lost (as on a refusal)
            kept = request.form.get("body") if request.method == "POST" else None
        except Exception:  # noqa: BLE001  (an unreadable form: nothing to show back)
            kept = None
        html = current_app.jinja_env.get_template("pages/unavailable.html").render(
            title=page_title, message=page_message, kept_text=kept or None
        )
        response = Response(html, status=503, mimetype="text/html")
    response.headers["Retry-After"] = str(retry_after)
    return response


def _unavailable() -> Response:
    return _database_failure(
        "unavailable", "The database is busy or unavailable; try again shortly.",
        _("Not available just now"),
        _("The database is unavailable just now; try again shortly."),
        retry_after=2,
    )


def _storage_full() -> Response:
    # 503 like any other database failure (the status every operation documents), told apart
    # by its code; Retry-After is longer, since someone has to make room first.
    return _database_failure(
        "storage_full",
        "The database is full: nothing was saved. An administrator must free disk space; then try again.",
        _("The database is full"),
        _("The database is full: nothing was saved. An administrator must free disk space; then try again."),
        retry_after=60,
    )


def http_error_response(error: HTTPException) -> Response:
    """An HTTP error (404, 405, 413, …) as the API answers it: JSON, with Allow for a 405."""
    code, message = HTTP_CODES.get(error.code or 500, ("error", error.description or "Error."))
    response = error_response(error.code or 500, code, message)
    if error.code == 405 and getattr(error, "valid_methods", None):
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


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
        return http_error_response(error) if _is_api() else error

    @app.errorhandler(OperationalError)
    def database_unavailable(error: OperationalError) -> Response:
        if is_storage_full(error):
            log.error("database full: %s", error.orig)
            return _storage_full()
        log.warning("database unavailable: %s", error.orig)
        return _unavailable()

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response | tuple[str, int]:
        if isinstance(error, DBAPIError):
            log.error("database error", exc_info=error)
        else:
            log.exception("unexpected error", exc_info=error)
        if not _is_api():
            return "Something went wrong on our side.", 500
        return error_response(500, "internal_error", "Something went wrong on our side; it has been logged.")
