"""Signing in and out of the pages."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from workflow import services
from workflow.errors import RateLimited
from workflow.models import TokenPurpose

from ..security import SignedIn
from . import blueprint
from .context import database


def _safe_next(target: str | None) -> str:
    """Only a path on this site, never another host (an open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
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
            issued = services.issue_token(db_session, user, TokenPurpose.browser) if user else None
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
            record = services.find_token(db_session, current_user.token, TokenPurpose.browser)
            if record is not None:
                services.revoke_token(db_session, current_user.user, record.id)
    logout_user()
    session.clear()
    flash(_("You have signed out."), "success")
    return redirect(url_for("pages.sign_in"), code=303)
