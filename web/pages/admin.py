"""Administration pages: agencies, users and processes (administrators; the services refuse
everyone else). Every change goes through a service, so every change is an audit event."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy.orm import Session

from accord.workflow.errors import DomainError, NotFound, PermissionDenied
from accord.workflow.models import AgencyKind, Role
from accord.workflow.services.admin import (
    add_agency,
    add_process,
    add_user,
    admin_overview,
    agency_directory,
    process_directory,
    set_user_active,
    user_directory,
)

from ..errors import status_of
from . import blueprint
from .context import database, me
from .fields import whole_number

PER_PAGE = 100

ROLE_LABELS = {
    Role.national_expert: _l("National expert"),
    Role.approver: _l("Approver"),
    Role.eu_expert: _l("EU expert"),
    Role.auditor: _l("Auditor"),
    Role.admin: _l("Administrator"),
}

KIND_LABELS = {
    AgencyKind.national: _l("National agency"),
    AgencyKind.eu: _l("EU body"),
}

#: What a role that fits only one kind of agency says beside its checkbox.
ONLY_IN_KIND = {
    AgencyKind.national: _l("national agencies only"),
    AgencyKind.eu: _l("EU bodies only"),
}


@blueprint.app_context_processor
def admin_labels() -> dict[str, Any]:
    return {"role_labels": ROLE_LABELS, "kind_labels": KIND_LABELS, "only_in_kind": ONLY_IN_KIND}


def _page_number() -> int:
    return whole_number(request.values.get("page"), _l("The page"), default=1)


def _render(
    template: str,
    read: Callable[[Session], Any],
    *,
    form: dict[str, Any] | None = None,
    error: DomainError | None = None,
) -> ResponseReturnValue:
    """A page of the section: what `read` returns, the form (refilled after a refusal) and the
    refusal's sentence with its status."""
    with database().read() as session:
        listing = read(session)
        page = render_template(template, listing=listing, form=form or {}, error=error)
        return page, (status_of(error) if error else 200)


def _change(
    change: Callable[[Session], Any], on_refusal: Callable[[DomainError], ResponseReturnValue]
) -> ResponseReturnValue | None:
    """Run one change in a write transaction. None when it was made; otherwise the answer: the
    403 page when the person may not do it at all, else the form again with the sentence."""
    try:
        with database().write() as session:
            change(session)
    except (PermissionDenied, NotFound):
        raise  # nothing to show the form again for: the refused page
    except DomainError as error:
        return on_refusal(error)
    return None


@blueprint.get("/admin")
@login_required
def admin() -> ResponseReturnValue:
    """The administration overview: how much there is, and where to manage it."""
    with database().read() as session:
        overview = admin_overview(session, me())
        return render_template("pages/admin.html", overview=overview)


# --- agencies ---------------------------------------------------------------------------------


def _agencies(form: dict[str, Any] | None = None, error: DomainError | None = None) -> ResponseReturnValue:
    page = _page_number()
    return _render(
        "pages/admin_agencies.html",
        lambda session: agency_directory(session, me(), page=page, per_page=PER_PAGE),
        form=form, error=error,
    )


@blueprint.route("/admin/agencies", methods=["GET", "POST"])
@login_required
def admin_agencies() -> ResponseReturnValue:
    """The agencies, and the form to add one."""
    if request.method == "GET":
        return _agencies()
    form = {name: request.form.get(name, "") for name in ("code", "name", "country", "kind")}
    refusal = _change(lambda session: add_agency(session, me(), **form), lambda e: _agencies(form, e))
    if refusal is not None:
        return refusal
    flash(_("The agency %(code)s is added.", code=form["code"].strip().upper()), "success")
    return redirect(url_for("pages.admin_agencies"), code=303)


# --- users ------------------------------------------------------------------------------------


def _users(form: dict[str, Any] | None = None, error: DomainError | None = None) -> ResponseReturnValue:
    page = _page_number()
    return _render(
        "pages/admin_users.html",
        lambda session: user_directory(session, me(), page=page, per_page=PER_PAGE),
        form=form, error=error,
    )


@blueprint.route("/admin/users", methods=["GET", "POST"])
@login_required
def admin_users() -> ResponseReturnValue:
    """The users with their agency, roles and status, and the form to add one."""
    if request.method == "GET":
        return _users()
    form: dict[str, Any] = {
        "username": request.form.get("username", ""),
        "display_name": request.form.get("display_name", ""),
        "agency_code": request.form.get("agency_code", ""),
        "roles": request.form.getlist("roles"),
    }
    password = request.form.get("password", "")
    refusal = _change(
        lambda session: add_user(
            session, me(), username=form["username"], agency_code=form["agency_code"],
            roles=form["roles"], password=password, display_name=form["display_name"] or None,
        ),
        lambda e: _users(form, e),  # the password is never sent back
    )
    if refusal is not None:
        return refusal
    flash(_("The user %(username)s is added.", username=form["username"].strip().lower()), "success")
    return redirect(url_for("pages.admin_users"), code=303)


@blueprint.post("/admin/users/<username>/<any(disable, enable):verb>")
@login_required
def admin_user_active(username: str, verb: str) -> ResponseReturnValue:
    """Disable an account (it keeps its history) or enable it again."""
    active = verb == "enable"
    refusal = _change(
        lambda session: set_user_active(session, me(), username, active=active), lambda e: _users(None, e)
    )
    if refusal is not None:
        return refusal
    if active:
        flash(_("%(username)s is enabled again and can sign in.", username=username), "success")
    else:
        flash(_("%(username)s is disabled: their sessions and tokens stop working.", username=username), "success")
    page = _page_number()
    return redirect(url_for("pages.admin_users", page=page if page > 1 else None), code=303)


# --- processes --------------------------------------------------------------------------------


def _processes(form: dict[str, Any] | None = None, error: DomainError | None = None) -> ResponseReturnValue:
    page = _page_number()
    return _render(
        "pages/admin_processes.html",
        lambda session: process_directory(session, me(), page=page, per_page=PER_PAGE),
        form=form, error=error,
    )


@blueprint.route("/admin/processes", methods=["GET", "POST"])
@login_required
def admin_processes() -> ResponseReturnValue:
    """The processes with their agencies, and the form to add one."""
    if request.method == "GET":
        return _processes()
    form: dict[str, Any] = {
        "title": request.form.get("title", ""),
        "agencies": request.form.getlist("agencies"),
    }
    refusal = _change(
        lambda session: add_process(session, me(), title=form["title"], agency_codes=form["agencies"]),
        lambda e: _processes(form, e),
    )
    if refusal is not None:
        return refusal
    flash(_("The process “%(title)s” is added.", title=" ".join(form["title"].split())), "success")
    return redirect(url_for("pages.admin_processes"), code=303)
