"""A recommendation's revision history, and any two revisions compared word by word."""

from __future__ import annotations

import re

from flask import render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required

from accord.workflow.errors import DomainError, InvalidInput
from accord.workflow.services.history import compare_revisions, revision_history

from ..answer_cache import kept_while_unchanged
from . import blueprint, refused
from .context import database, me

_NUMBER = re.compile(r"[0-9]{1,9}")


def _number(value: str | None) -> int | None:
    """A positive whole number as typed in a URL, else None."""
    return int(value) if value is not None and _NUMBER.fullmatch(value) else None


@blueprint.get("/recommendations/<int:rec_id>/history")
@login_required
@kept_while_unchanged(me)
def history(rec_id: int) -> ResponseReturnValue:
    """Every revision (who saved it, when, why, in which state) and a form to compare two."""
    page = _number(request.args.get("page")) or 1
    with database().read() as session:
        try:
            found = revision_history(session, me(), rec_id, page=page)
        except DomainError as error:
            return refused(error)
        return render_template("pages/history.html", h=found, rec=found.recommendation)


@blueprint.get("/recommendations/<int:rec_id>/diff")
@login_required
@kept_while_unchanged(me)
def diff(rec_id: int) -> ResponseReturnValue:
    """Two revisions word by word, inline and side by side."""
    old, new = _number(request.args.get("from")), _number(request.args.get("to"))
    if old is None or new is None:
        return refused(InvalidInput(_("Choose two revisions to compare: “from” and “to” must be revision numbers.")))
    with database().read() as session:
        try:
            comparison = compare_revisions(session, me(), rec_id, old, new)
        except DomainError as error:
            return refused(error)
        return render_template("pages/diff.html", c=comparison, rec=comparison.recommendation)
