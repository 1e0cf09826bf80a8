"""A recommendation's revision history, and any two revisions compared word by word."""

from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from accord.workflow.errors import InvalidInput
from accord.workflow.services.history import compare_revisions, revision_history

from ..answer_cache import kept_while_unchanged
from . import blueprint
from .context import database, me
from .fields import whole_number


@blueprint.get("/recommendations/<int:rec_id>/history")
@login_required
@kept_while_unchanged(me)
def history(rec_id: int) -> ResponseReturnValue:
    """Every revision (who saved it, when, why, in which state) and a form to compare two."""
    page = whole_number(request.args.get("page"), _l("The page"), default=1)
    with database().read() as session:
        found = revision_history(session, me(), rec_id, page=page)
        return render_template("pages/history.html", h=found, rec=found.recommendation)


@blueprint.get("/recommendations/<int:rec_id>/diff")
@login_required
@kept_while_unchanged(me)
def diff(rec_id: int) -> ResponseReturnValue:
    """Two revisions word by word, inline and side by side."""
    old = whole_number(request.args.get("from"), _l("The revision to compare from"))
    new = whole_number(request.args.get("to"), _l("The revision to compare to"))
    if old is None or new is None:
        raise InvalidInput(_("Choose two revisions to compare: “from” and “to” must be revision numbers."))
    with database().read() as session:
        comparison = compare_revisions(session, me(), rec_id, old, new)
        return render_template("pages/diff.html", c=comparison, rec=comparison.recommendation)
