"""Signing in and out of the pages, and one's own account (changing the password)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from accord.workflow import services
from accord.workflow.errors import DomainError, RateLimited
from accord.workflow.models import CredentialKind
from accord.workflow.passwords import MIN_LENGTH
from accord.workflow.services.auth import change_password

from ..security import SignedIn
from . import blueprint
from .context import database, me


def _safe_next(target: str | None) -> str:
    r"""Only a path on this site, never another host (an open redirect). Browsers drop tabs
    and line breaks from a URL and read a backslash as a slash, so "/<tab>/evil.example" and
    "/\evil.example" lead off the site like "//evil.example": a target with a control
    character or a backslash anywhere is refused."""
    if (target and target.startswith("/") and not target.startswith("//") and target.isprintable()
            and "\\" not in target):
        return target
    return url_for("pages.inbox")


@blueprint.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> ResponseReturnValue:
    """The sign-in form; a correct password starts a fresh session."""
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(url_for("pages.inbox"))
        return render_template("pages/sign_in.html", next=request.args.get("next", ""))
    username = request.form.get("username", "")
    password = request.form.get("password", "")
    target = _safe_next(request.form.get("next"))
    try:
        with database().write() as db_session:
            user = services.sign_in(db_session, username, password, remote_addr=request.remote_addr or "unknown")
            issued = services.issue_token(db_session, user, CredentialKind.browser) if user else None
    except RateLimited as limited:
        response = render_template("pages/sign_in.html", next=target, username=username, error=limited.message)
        return response, 429, {"Retry-After": str(limited.retry_after)}
    if issued is None:
        return render_template(
            "pages/sign_in.html", next=target, username=username,
            error=_("The username or password is not correct."),
        ), 401
    session.clear()  # a new session: nothing from before signing in carries over
    login_user(SignedIn(user, issued.token))
    return redirect(target, code=303)


@blueprint.post("/sign-out")
def sign_out() -> ResponseReturnValue:
    """End the session on the server too: the cookie stops working, copies included."""
    if current_user.is_authenticated:
        with database().write() as db_session:
            record = services.find_token(db_session, current_user.token, CredentialKind.browser)
            if record is not None:
                services.revoke_token(db_session, current_user.user, record.id)
    logout_user()
    session.clear()
    flash(_("You have signed out."), "success")
    return redirect(url_for("pages.sign_in"), code=303)


@blueprint.get("/account")
@login_required
def account() -> ResponseReturnValue:
    """Who I am, and the form to change my password."""
    return render_template("pages/account.html", min_length=MIN_LENGTH)


@blueprint.post("/account/password")
@login_required
def change_my_password() -> ResponseReturnValue:
    """Change my password: every other session and API token of mine ends; this browser stays
    signed in, on a fresh session (a copy of the old cookie stops working too)."""
    current = request.form.get("current_password", "")
    new, repeated = request.form.get("new_password", ""), request.form.get("new_password_repeat", "")

    def again(error: str, status: int = 422, **headers: str) -> ResponseReturnValue:
        # The passwords typed are never sent back.
        return render_template("pages/account.html", min_length=MIN_LENGTH, error=error), status, headers

    if new != repeated:
        return again(_("The two new passwords are not the same; type the new one twice."))
    try:
        with database().write() as db_session:
            changed = change_password(
                db_session, me(), current, new,
                remote_addr=request.remote_addr or "unknown", new_session=True,
            )
    except RateLimited as limited:
        return again(limited.message, 429, **{"Retry-After": str(limited.retry_after)})
    except DomainError as error:
        return again(error.message)
    if changed is None:  # the failure is committed: it counts towards the sign-in limit
        return again(_("The current password is not correct."))
    assert changed.session is not None
    login_user(SignedIn(current_user.user, changed.session.token))
    flash(_("Your password is changed. Every other session and API token of yours has ended."), "success")
    return redirect(url_for("pages.account"), code=303)
