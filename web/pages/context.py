"""Per-request access for the pages: the database and the signed-in person."""

from __future__ import annotations

from flask import current_app
from flask_login import current_user

from accord.workflow.db import Database


def database() -> Database:
    return current_app.extensions["accord.database"]


def me():
    """The signed-in person, as the services' actor."""
    return current_user._get_current_object()
