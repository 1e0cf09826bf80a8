"""Signing in to pages, CSRF, cookies and security headers.

A browser session is an access token of its own (see `workflow.models.auth`): the signed
cookie carries it, and every request checks it on the server, so signing out, or disabling the
account, ends the session at once, copied cookies included.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, Request, Response, abort, current_app, request
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, UserMixin
from flask_wtf.csrf import CSRFProtect

from accord.workflow import services
from accord.workflow.models import Agency, CredentialKind, Role, User

login_manager = LoginManager()
csrf = CSRFProtect()

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",  # no inline script anywhere: every script is a static file
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


@dataclass(frozen=True)
class SignedIn(UserMixin):
    """The person behind a browser session: their user, and the session's token (the id
    flask-login keeps in the cookie). Acts as the `Actor` the services expect."""

    user: User
    token: str

    def get_id(self) -> str:
        return self.token

    @property
    def id(self) -> int:  # the Actor protocol
        return self.user.id

    @property
    def username(self) -> str:
        return self.user.username

    @property
    def display_name(self) -> str:
        return self.user.display_name

    @property
    def agency(self) -> Agency:
        return self.user.agency

    @property
    def roles(self) -> frozenset[Role]:
        return self.user.roles

    @property
    def active(self) -> bool:
        return self.user.active

    @property
    def is_active(self) -> bool:  # flask-login
        return self.user.active


@login_manager.user_loader
def load_session(token: str) -> SignedIn | None:
    database = current_app.extensions["accord.database"]
    with database.read() as session:
        record = services.find_token(session, token, CredentialKind.browser)
        return SignedIn(record.user, token) if record else None


class CookieSession(SecureCookieSessionInterface):
    """The session cookie gets the Secure flag whenever the request came over HTTPS (or always,
    with SESSION_COOKIE_SECURE), so one configuration serves a laptop and a real deployment."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or _is_secure(request)


def _is_secure(req: Request) -> bool:
    try:
        return req.is_secure
    except RuntimeError:  # outside a request
        return False


def set_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if response.mimetype == "text/html":
        # Pages hold what only their reader may see: never cache them, so Back after signing
        # out shows nothing.
        headers.setdefault("Cache-Control", "no-store")
    return response


def refuse_oversized_bodies() -> None:
    """A body declared larger than MAX_CONTENT_LENGTH is refused (413) before anything else
    runs — signing in, CSRF, the database — whether or not the route would read it. (A body
    sent without a length is cut off at the same limit when read.)"""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit is not None and (request.content_length or 0) > limit:
        abort(413)


def init_app(app: Flask) -> None:
    if app.config["SESSION_COOKIE_NAME"] == "session":  # Flask's default: name it after us
        app.config["SESSION_COOKIE_NAME"] = "accord_session"
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # A CSRF token lives as long as the session: a long drafting session must not lose
        # its text to an expired form.
        WTF_CSRF_TIME_LIMIT=None,
    )
    app.session_interface = CookieSession()
    app.before_request(refuse_oversized_bodies)  # first of all, before CSRF and sign-in
    login_manager.init_app(app)
    login_manager.login_view = "pages.sign_in"
    login_manager.login_message = None
    login_manager.session_protection = None  # the server-side token does this job
    csrf.init_app(app)
    app.after_request(set_security_headers)
