"""The API's error envelope: every failure under /api/ answers JSON with a machine code and a
sentence for a person, never an HTML page and never a traceback. `web.errors` answers with it
for every path under /api/; this module holds only its shape and the API's own refusals."""

from __future__ import annotations

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from .shapes import Error

API_PREFIX = "/api/"

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
    """The envelope (`shapes.Error`), with `extra` members beside it (`shapes.EditConflict`)."""
    envelope: Error = {"error": {"code": code, "message": message}}
    response = jsonify({**envelope, **extra})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="accord"'
    return response


def http_error_response(error: HTTPException) -> Response:
    """An HTTP error (404, 405, 413, …) as the API answers it: JSON, with Allow for a 405."""
    code, message = HTTP_CODES.get(error.code or 500, ("error", error.description or "Error."))
    response = error_response(error.code or 500, code, message)
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def init_app(app: Flask) -> None:
    """Register the handler of the API's own refusals (the rest are `web.errors`')."""

    @app.errorhandler(ApiError)
    def api_error(error: ApiError) -> Response:
        return error_response(error.status, error.code, error.message)
