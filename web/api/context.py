"""Per-request access to the database and to who is calling."""

from __future__ import annotations

from flask import current_app, g

from accord.workflow.db import Database
from accord.workflow.models import User


def database() -> Database:
    return current_app.extensions["accord.database"]


def actor() -> User:
    """The user of the bearer token (set by `auth.authenticate_request`)."""
    return g.actor
