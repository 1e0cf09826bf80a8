"""The home page: what awaits me now."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue
from flask_login import login_required

from accord.workflow import services

from . import blueprint
from .context import database, me


@blueprint.get("/")
@login_required
def inbox() -> ResponseReturnValue:
    """Recommendations I can move on, approvals my agency owes, threads with new replies."""
    with database().read() as session:
        return render_template("pages/inbox.html", inbox=services.inbox(session, me()))
