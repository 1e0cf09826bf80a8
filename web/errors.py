"""How the application answers a failure, on every path: the API's JSON envelope under /api/
(`web.api.errors`), Accord's own page everywhere else, and never a traceback. The pages and the
API both map the services' refusals to HTTP statuses with `status_of`."""

from __future__ import annotations

import logging
import sqlite3

from flask import Flask, Response, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
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

from .api.errors import API_PREFIX, error_response, http_error_response

log = logging.getLogger(__name__)

STATUS = {
    NotFound: 404,
    PermissionDenied: 403,
    Conflict: 409,
    InvalidInput: 422,
    Unauthenticated: 401,
    RateLimited: 429,
}


def status_of(error: DomainError) -> int:
    """The HTTP status that answers a refusal of the services."""
    return next(s for cls, s in STATUS.items() if isinstance(error, cls))


def _domain_error(error: DomainError) -> Response:
    response = error_response(status_of(error), error.code, error.message)
    if isinstance(error, RateLimited):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def _is_api() -> bool:
    return request.path.startswith(API_PREFIX)


#: Form fields whose text a refusal shows back (the longest a person types), so it is not lost.
KEPT_FIELDS = ("body", "reason")


def typed_text() -> str | None:
    """What the person typed into the form of this request, if any, to show back."""
    try:
        typed = request.form if request.method == "POST" else {}
    except Exception:  # noqa: BLE001  (an unreadable form: nothing to show back)
        return None
    return next((typed[name] for name in KEPT_FIELDS if typed.get(name)), None)


def refusal_page(
    status: int, *, error: DomainError | None = None, message: str | None = None,
    kept_text: str | None = None,
) -> tuple[str, int]:
    """A refusal as a page: the sentence, the status, a way back. Nothing changed.

    `kept_text` is what the person typed, shown back so it is not lost with the refusal.
    """
    back = request.referrer if request.referrer and request.referrer.startswith(request.host_url) else None
    return render_template(
        "pages/refused.html", error=error, status=status, message=message, back=back, kept_text=kept_text
    ), status


#: HTTP errors of the pages as pages (Werkzeug's own are bare); the API answers them in JSON.
PAGE_MESSAGES = {
    404: _l("There is nothing at this address."),
    405: _l("This address does not accept that kind of request."),
    413: _l("What you sent is larger than Accord accepts (%(megabytes)s MB at most)."),
}


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
        html = current_app.jinja_env.get_template("pages/unavailable.html").render(
            title=page_title, message=page_message, kept_text=typed_text()  # as on a refusal
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


def init_app(app: Flask) -> None:
    """Register the error handlers of every path (the API adds those of its own refusals)."""

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError) -> Response | tuple[str, int]:
        # Pages answer here every refusal but those that show their form again with what was
        # typed; the text typed into any other form comes back on the refused page.
        if _is_api():
            return _domain_error(error)
        return refusal_page(status_of(error), error=error, kept_text=typed_text())

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response | HTTPException | tuple[str, int]:
        if _is_api():
            return http_error_response(error)
        if error.code in PAGE_MESSAGES:
            limit = app.config.get("MAX_CONTENT_LENGTH") or 0
            message = str(PAGE_MESSAGES[error.code]) % {"megabytes": limit // 2**20}
            return refusal_page(error.code, message=message)
        return error

    @app.errorhandler(CSRFError)
    def csrf_refused(error: CSRFError) -> Response | tuple[str, int]:
        if _is_api():
            return error_response(400, "csrf", error.description)
        message = _("This form has expired or did not come from Accord. Reload the page and try again.")
        return render_template("pages/refused.html", error=None, status=400, message=message, back=None), 400

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
