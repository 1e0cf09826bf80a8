"""Processes and their recommendations."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from accord.workflow import services
from accord.workflow.errors import InvalidInput
from accord.workflow.states import State

from ..answer_cache import kept_while_unchanged
from . import blueprint
from .context import database, me
from .fields import whole_number


@blueprint.get("/processes")
@login_required
def processes() -> ResponseReturnValue:
    """The processes my agency takes part in."""
    with database().read() as session:
        page = services.list_processes(session, me(), per_page=200)
        return render_template("pages/processes.html", processes=page.items)


@blueprint.get("/processes/<int:process_id>")
@login_required
@kept_while_unchanged(me)
def process(process_id: int) -> ResponseReturnValue:
    """A process's recommendations by state, with filters and search."""
    filters = {
        "state": request.args.get("state") or None,
        "agency": request.args.get("agency") or None,
        "q": request.args.get("q") or None,
    }
    page = whole_number(request.args.get("page"), _l("The page"), default=1)
    with database().read() as session:
        listing = services.process_listing(
            session, me(), process_id, state=filters["state"], agency=filters["agency"], q=filters["q"], page=page
        )
        return render_template("pages/process.html", listing=listing, filters=filters, states=list(State),
                               # each row's link: one url_for, not a hundred
                               recs_url=url_for("pages.recommendation", rec_id=0).removesuffix("/0"))


@blueprint.route("/processes/<int:process_id>/new", methods=["GET", "POST"])
@login_required
def new_recommendation(process_id: int) -> ResponseReturnValue:
    """Draft a new recommendation for my agency in this process."""
    title, body = request.form.get("title", ""), request.form.get("body", "")
    addressed = request.form.getlist("addressed")
    form = {"title": title, "body": body, "addressed": addressed}
    if request.method == "GET":
        with database().read() as session:
            process = services.new_recommendation_form(session, me(), process_id)
            return render_template("pages/new_recommendation.html", process=process, form=form)
    try:
        with database().write() as session:
            # The same question as the form's first: a process one does not take part in, or
            # one that does not exist, is not found, whatever was posted.
            services.new_recommendation_form(session, me(), process_id)
            rec = services.create_recommendation(
                session, me(), process_id=process_id, title=title, body=body, addressed_agencies=addressed,
            )
            rec_id = rec.id
    except InvalidInput as error:
        with database().read() as session:  # show the form again, with what was typed
            process = services.new_recommendation_form(session, me(), process_id)
            return render_template(
                "pages/new_recommendation.html", process=process, form=form, error=error.message
            ), 422
    flash(_("Your draft is saved as revision 1. Only your agency can see it until you submit it."), "success")
    return redirect(url_for("pages.recommendation", rec_id=rec_id), code=303)
