"""The JSON API, version 1 (see docs/api.md). Each view parses the request, calls one service in
one transaction, and renders the answer; permissions and states are the engine's business."""

from __future__ import annotations

from flask import Blueprint, Flask

from . import errors

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")

#: Largest request body accepted (a recommendation's text is at most 200,000 characters,
#: which JSON can spell in up to six bytes each).
MAX_BODY_BYTES = 2 * 1024 * 1024


def init_app(app: Flask) -> None:
    from . import audit, auth, recommendations, reference, threads  # noqa: F401  (routes)
    from .openapi import blueprint as openapi_blueprint

    if app.config.get("MAX_CONTENT_LENGTH") is None:  # Flask's default is None: no limit
        app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    errors.init_app(app)
    app.register_blueprint(blueprint)
    app.register_blueprint(openapi_blueprint)
