"""The editor of a recommendation's text: a live preview through the server's sanitizer,
saving as a new revision, and the conflict page when a newer revision clashes."""

from __future__ import annotations

import re

from flask import Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from accord.workflow import services
from accord.workflow.errors import DomainError, InvalidInput, NotFound
from accord.workflow.services.history import EditorForm, editor_form, preview_markdown, save_edit

from . import blueprint, refused
from .context import database, me

#: Largest preview request: a 200,000-character text, in UTF-8 and form encoding, fits.
PREVIEW_MAX_BYTES = 2 * 1024 * 1024

_NUMBER = re.compile(r"[0-9]{1,9}")


def _number(value: str | None) -> int | None:
    """A positive whole number as typed in a URL or a form field, else None."""
    return int(value) if value is not None and _NUMBER.fullmatch(value) else None


def _copy_id(value: str | None) -> int | None:
    """The conflict copy named in the request, None when none is; NotFound when it is garbage."""
    if not value:
        return None
    number = _number(value)
    if number is None:
        raise NotFound(_("No such conflict copy."))
    return number


@blueprint.route("/recommendations/<int:rec_id>/edit", methods=["GET", "POST"])
@login_required
def edit(rec_id: int) -> ResponseReturnValue:
    """The editor (GET, optionally reopening a conflict copy) and saving from it (POST)."""
    if request.method == "POST":
        return _save(rec_id)
    try:
        copy_id = _copy_id(request.args.get("copy"))
        with database().read() as session:
            form = editor_form(session, me(), rec_id, copy_id)
            return render_template("pages/editor.html", form=form)
    except DomainError as error:
        return refused(error)


def _save(rec_id: int) -> ResponseReturnValue:
    """Save the posted text: a revision (perhaps merged), nothing to save, or a conflict (409)."""
    posted = request.form
    title, body, summary = posted.get("title", ""), posted.get("body", ""), posted.get("summary", "")
    base_revision = _number(posted.get("base_revision")) or 0  # 0: the service names the problem
    try:
        copy_id = _copy_id(posted.get("copy"))
        with database().write() as session:
            result = save_edit(
                session, me(), rec_id, title=title, body=body, summary=summary,
                base_revision=base_revision, copy_id=copy_id,
            )
            outcome = result.outcome
            number = outcome.revision.number if outcome.revision else outcome.recommendation.revision
    except InvalidInput as error:
        # Nothing was saved; the editor comes back with the typed text and the sentence.
        form = EditorForm(
            rec_id=rec_id, heading=title.strip() or _("Recommendation %(id)s", id=rec_id),
            title=title, body=body, summary=summary, base_revision=base_revision,
            preview_html="", copy=None,
        )
        return render_template("pages/editor.html", form=form, error=error.message, copy_id=copy_id), 422
    except DomainError as error:
        # Refused (the state moved on, say): the typed text comes back, so nothing is lost.
        return refused(error, kept_text=body)
    if result.editor is not None:
        return render_template("pages/conflict.html", form=result.editor), 409
    if outcome.revision is None:
        flash(_("Nothing to save: the text is the same as revision %(n)s.", n=number), "info")
    elif outcome.merged:
        flash(_("Saved as revision %(n)s, merged with the changes saved meanwhile.", n=number), "success")
    else:
        flash(_("Saved as revision %(n)s.", n=number), "success")
    return redirect(url_for("pages.recommendation", rec_id=rec_id), code=303)


@blueprint.post("/preview")
def preview() -> ResponseReturnValue:
    """The posted Markdown (`body`) as sanitized HTML, exactly as a saved revision shows it."""
    if not current_user.is_authenticated:  # a script asks: answer 401, not the sign-in page
        return _plain(_("Sign in again to see the preview; your text is still in the editor."), 401)
    if (request.content_length or 0) > PREVIEW_MAX_BYTES:
        return _plain(_("The text is too long to preview."), 413)
    try:
        html = preview_markdown(request.form.get("body", ""))
    except DomainError as error:
        return _plain(error.message, 422)
    return Response(html, mimetype="text/html")


def _plain(message: str, status: int) -> Response:
    return Response(message, status=status, mimetype="text/plain")


@blueprint.post("/conflict-copies/<int:copy_id>/discard")
@login_required
def discard_copy(copy_id: int) -> ResponseReturnValue:
    """Discard a conflict copy of mine: its text is no longer offered for merging."""
    try:
        with database().write() as session:
            rec_id = services.discard_conflict_copy(session, me(), copy_id).recommendation_id
    except DomainError as error:
        return refused(error)
    flash(_("Your conflict copy was discarded."), "success")
    return redirect(url_for("pages.recommendation", rec_id=rec_id), code=303)
