"""Every string a person reads goes through gettext (Flask-Babel); a Russian catalogue under
web/translations/ru/ is all it takes to serve one. See README, "Translating"."""

from __future__ import annotations

from babel.support import NullTranslations, Translations
from flask import Flask, g, request
from flask_babel import Babel, get_locale, get_translations

#: Languages with a catalogue (English is the source language).
LANGUAGES = ("en", "ru")

babel = Babel()


def select_locale() -> str:
    return request.accept_languages.best_match(LANGUAGES) or "en"


def request_translations() -> Translations | NullTranslations:
    """The catalogue of this request's language, looked up once per request: Flask-Babel finds
    it anew for every string (a dozen context lookups each), and a page shows a hundred."""
    if not g:
        return get_translations()
    found = g.get("_accord_translations")
    if found is None:
        found = g._accord_translations = get_translations()
    return found


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale, default_translation_directories="translations")
    app.jinja_env.globals["get_locale"] = get_locale
    # The same callables Flask-Babel installs, on the catalogue found once per request.
    # jinja2.ext.i18n adds this method to the environment at run time (Environment.extend).
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: request_translations().ugettext(s),
        ngettext=lambda s, p, n: request_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: request_translations().unpgettext(c, s, p, n),
    )
