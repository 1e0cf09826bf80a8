"""Every string a person reads goes through gettext (Flask-Babel); a Russian catalogue under
web/translations/ru/ is all it takes to serve one. See README, "Translating"."""

from __future__ import annotations

from flask import Flask, request
from flask_babel import Babel, get_locale

#: Languages with a catalogue (English is the source language).
LANGUAGES = ("en", "ru")

babel = Babel()


def select_locale() -> str:
    return request.accept_languages.best_match(LANGUAGES) or "en"


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale, default_translation_directories="translations")
    app.jinja_env.globals["get_locale"] = get_locale
