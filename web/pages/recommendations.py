"""A recommendation's page and the forms on it: workflow actions, decisions, threads."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from accord.workflow import services
from accord.workflow.states import State

from ..answer_cache import kept_while_unchanged
from . import STATE_LABELS, blueprint
from .context import database, me
from .fields import whole_number

#: The main path drawn at the top of the page.
PATH = (State.draft, State.national_review, State.expert_consolidation, State.adopted)


def _back(rec_id: int, anchor: str = "") -> ResponseReturnValue:
    return redirect(url_for("pages.recommendation", rec_id=rec_id) + anchor, code=303)


def _threads_url() -> str:
    """Where a thread's forms post, less `/<id>/…`: built once, not by url_for per thread."""
    return url_for("pages.reply", thread_id=0).removesuffix("/0/comments")


@blueprint.get("/recommendations/<int:rec_id>")
@login_required
@kept_while_unchanged(me)
def recommendation(rec_id: int) -> ResponseReturnValue:
    """The text, where it stands, what I may do, the approvals and the discussion."""
    with database().read() as session:
        overview = services.recommendation_overview(session, me(), rec_id)
        return render_template("pages/recommendation.html", o=overview, rec=overview.recommendation, path=PATH,
                               threads_url=_threads_url())


@blueprint.post("/recommendations/<int:rec_id>/transitions")
@login_required
def transition(rec_id: int) -> ResponseReturnValue:
    """Fire one workflow action from its button."""
    action = request.form.get("action", "")
    into = whole_number(request.form.get("into"), _l("The recommendation to merge into"))
    with database().write() as session:
        rec = services.perform_transition(
            session, me(), rec_id, action, reason=request.form.get("reason") or None, into=into
        )
        state = rec.state.value
    flash(_("Done: the recommendation is now in the state “%(state)s”.", state=STATE_LABELS[state]), "success")
    return _back(rec_id)


@blueprint.post("/recommendations/<int:rec_id>/decisions")
@login_required
def decide(rec_id: int) -> ResponseReturnValue:
    """Approve or object to the revision shown on the page, for my agency."""
    revision = whole_number(request.form.get("revision"), _l("The revision decided on"), required=True)
    with database().write() as session:
        services.record_decision(
            session, me(), rec_id, request.form.get("decision", ""),
            revision=revision, reason=request.form.get("reason") or None,
        )
    flash(_("Your agency's decision is recorded."), "success")
    return _back(rec_id, "#approvals")


@blueprint.post("/recommendations/<int:rec_id>/threads")
@login_required
def start_thread(rec_id: int) -> ResponseReturnValue:
    """Start a thread, optionally on a passage quoted from a revision."""
    revision = whole_number(request.form.get("revision"), _l("The revision quoted"))
    with database().write() as session:
        thread = services.start_thread(
            session, me(), rec_id, body=request.form.get("body", ""),
            revision=revision, quote=request.form.get("quote") or None,
        )
        anchor = f"#thread-{thread.id}"
    return _back(rec_id, anchor)


@blueprint.post("/threads/<int:thread_id>/comments")
@login_required
def reply(thread_id: int) -> ResponseReturnValue:
    with database().write() as session:
        comment = services.add_comment(session, me(), thread_id, body=request.form.get("body", ""))
        rec_id = comment.thread.recommendation_id
    return _back(rec_id, f"#thread-{thread_id}")


@blueprint.post("/threads/<int:thread_id>/<any(resolve, reopen):verb>")
@login_required
def moderate(thread_id: int, verb: str) -> ResponseReturnValue:
    service = services.resolve_thread if verb == "resolve" else services.reopen_thread
    with database().write() as session:
        rec_id = service(session, me(), thread_id).recommendation_id
    return _back(rec_id, f"#thread-{thread_id}")
