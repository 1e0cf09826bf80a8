"""The editor of a recommendation's text: a live preview through the server's sanitizer,
saving as a new revision, and the conflict page when a newer revision clashes."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from accord.workflow import services
from accord.workflow.errors import DomainError, InvalidInput
from accord.workflow.services.history import EditorForm, editor_form, preview_markdown, save_edit

from . import blueprint
from .context import database, me
from .fields import whole_number

#: Largest preview request: a 200,000-character text, in UTF-8 and form encoding, fits.
PREVIEW_MAX_BYTES = 2 * 1024 * 1024

#: What the conflict copy a request names (`copy`) is called in a refusal.
COPY_LABEL = _l("The conflict copy")


@blueprint.route("/recommendations/<int:rec_id>/edit", methods=["GET", "POST"])
@login_required
def edit(rec_id: int) -> ResponseReturnValue:
    """The editor (GET, optionally reopening a conflict copy) and saving from it (POST)."""
    if request.method == "POST":
        return _save(rec_id)
    copy_id = whole_number(request.args.get("copy"), COPY_LABEL)
    with database().read() as session:
        form = editor_form(session, me(), rec_id, copy_id)
        return render_template("pages/editor.html", form=form)


def _save(rec_id: int) -> ResponseReturnValue:
    """Save the posted text: a revision (perhaps merged), nothing to save, or a conflict (409)."""
    posted = request.form
    title, body, summary = posted.get("title", ""), posted.get("body", ""), posted.get("summary", "")
    try:
        base_revision = whole_number(posted.get("base_revision"), _l("The revision you started from"), required=True)
        copy_id = whole_number(posted.get("copy"), COPY_LABEL)
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
            title=title, body=body, summary=summary, base_revision=posted.get("base_revision", ""),
            preview_html="", copy=None,
        )
        # The hidden fields go back as they came: the next save is judged on them again.
        return render_template("pages/editor.html", form=form, error=error.message,
                               copy_id=posted.get("copy") or None), 422
    # Any other refusal (the state moved on, say) is the refused page, with the text typed.
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
    with database().write() as session:
        rec_id = services.discard_conflict_copy(session, me(), copy_id).recommendation_id
    flash(_("Your conflict copy was discarded."), "success")
    return redirect(url_for("pages.recommendation", rec_id=rec_id), code=303)
