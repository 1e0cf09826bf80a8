"""The thin Flask layer: it parses requests, calls one `workflow` service, renders the answer."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from werkzeug.middleware.proxy_fix import ProxyFix

from accord.config.settings import Settings
from accord.workflow.db import Database

from . import answer_cache, api, errors, i18n, pages, security, status


class _FieldOrderJSON(DefaultJSONProvider):
    sort_keys = False  # keep the field order of docs/api.md


def create_app(settings: Settings | None = None, database: Database | None = None, **overrides: Any) -> Flask:
    """Build the application. Tests pass their own `database`; otherwise `settings` name one."""
    settings = settings or Settings.from_env()
    app = Flask(__name__, instance_path=str(settings.instance_path))
    app.config.update(SECRET_KEY=settings.resolved_secret_key(), **overrides)
    if settings.proxies:
        # Behind a load balancer every request comes from its address: take the client's
        # (for the sign-in limits) and scheme (for Secure cookies) from the trusted hops only.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxies, x_proto=settings.proxies)  # type: ignore[method-assign]
    app.json = _FieldOrderJSON(app)
    app.extensions["accord.database"] = database or Database(
        settings.database_url, strict_audit=not settings.production
    )
    answer_cache.init_app(app, settings.answer_cache_mb * 2**20)
    security.init_app(app)
    i18n.init_app(app)
    app.register_blueprint(status.blueprint)
    errors.init_app(app)
    api.init_app(app)
    security.csrf.exempt(api.blueprint)  # bearer tokens, not cookies: no CSRF to forge
    pages.init_app(app)
    return app


def database(app: Flask) -> Database:
    return app.extensions["accord.database"]
