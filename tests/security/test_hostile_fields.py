"""Hostile values in every form field and query field of every page: never a 5xx, a refusal
says why in a sentence and changes nothing, and a number that is not plainly typed is refused.

The fields are not listed by hand: every request records the fields the view read (from the
form or the query string), and each field read is then tried with every hostile value. So a
field added to a view later is covered without anyone listing it. The routes come from
`app.url_map` (through FORMS and GETS, which their own tests keep complete).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import request
from werkzeug.datastructures import ImmutableMultiDict

from .conftest import People, full_snapshot
from .routes import build, routes
from .test_csrf_and_get import FORMS, GETS, set_scene

#: "²".isdigit() is true and int("²") fails; int("٣") is 3; then the usual suspects.
HOSTILE = ["²", "٣", "1e9", "-1", "9" * 30, "\x00", "1\x00", ""]

#: Fields that hold numbers (ids, revisions, pages): every hostile value but the empty one is
#: refused whenever the view reads it. (Empty means absent: a default, or a refusal for a
#: required field; a page number is read only to show a form again.)
NUMBER_FIELDS = {"into", "revision", "base_revision", "copy", "page", "recommendation", "from", "to"}

#: Forms left out: they end or renew the session the others go on with (test_input_limits
#: posts hostile values to the password form's fields).
SKIPPED_FORMS = {"pages.sign_out", "pages.change_my_password"}

#: Forms whose refusals are counted, by design, as failed sign-ins.
COUNTS_FAILURES = {"pages.sign_in"}

#: Refusals that keep something by design: an edit that clashes with one saved meanwhile is
#: kept as a conflict copy (once an earlier hostile title was saved, the form's base is stale).
KEEPS_ON_REFUSAL = {("pages.edit", 409)}


class RecordingDict(ImmutableMultiDict):
    """A request's query or form that notes which fields the view asks for (in `read`, which
    the test empties before each request)."""

    read: set[tuple[str, str]] = set()

    def _note(self, key: object) -> None:
        where = "query" if request.__dict__.get("args") is self else "form"  # werkzeug caches both there
        if isinstance(key, str) and key != "csrf_token":
            RecordingDict.read.add((where, key))

    def __getitem__(self, key):
        self._note(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self._note(key)
        return super().__contains__(key)

    def get(self, key, default=None, type=None):  # werkzeug's signature
        self._note(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):
        self._note(key)
        return super().getlist(key, type)


@pytest.fixture
def recording_app(app):
    class RecordingRequest(app.request_class):
        parameter_storage_class = RecordingDict

    original, app.request_class = app.request_class, RecordingRequest
    yield app
    app.request_class = original


def _said(answer) -> str:
    text = answer.get_data(as_text=True)
    if answer.mimetype == "text/plain":
        return text
    found = re.search(r'role="alert"[^>]*>(.*?)</(?:p|div)>', text, re.S)
    return re.sub(r"<[^>]+>", "", found.group(1)).strip() if found else ""


def _is_sentence(text: str) -> bool:
    return bool(re.search(r"\w.{8,}[.?!]", text))


def _user_for(endpoint: str) -> str | None:
    if endpoint.startswith("pages.admin"):
        return "admin"
    if endpoint.startswith("pages.audit"):
        return "auditor"
    return None if endpoint == "pages.sign_in" else "kz_expert"


def _try(people: People, session, user, method, path, form, query, *, counts_failures=False):
    """One request; what it answered, which fields it read, and whether anything changed."""
    before = full_snapshot(session)
    RecordingDict.read = set()
    answer = people.request(user, method, path, query_string=query, **({"data": form} if method == "POST" else {}))
    after = full_snapshot(session)
    if counts_failures:
        before.pop("sign_in_failures"), after.pop("sign_in_failures")
    return answer, RecordingDict.read, before != after


def test_hostile_values_in_every_field_of_every_page(recording_app, people: People, session, world):
    app = recording_app
    scene = set_scene(session, world)
    for user in ("kz_expert", "kz_approver", "admin", "auditor", "uz_expert"):
        people.page(user)  # signing in is a change: done before any snapshot
    people.page(None)

    targets: list[tuple[str, str, str | None, str, dict[str, Any], dict[str, Any]]] = []
    for endpoint, make in FORMS.items():
        if endpoint not in SKIPPED_FORMS:
            user, values, fields, _ = make(scene)
            targets.append((endpoint, "POST", user, build(app, endpoint, "POST", values), fields, {}))
    for route in routes(app):
        if route.reads and not route.is_api:
            values = GETS.get(route.endpoint, lambda s: [{}])(scene)[0]
            params = {k: v for k, v in values.items() if k in route.ids | set(route.choices)}
            query = {k: str(v) for k, v in values.items() if k not in params}
            targets.append((route.endpoint, "GET", _user_for(route.endpoint),
                            build(app, route.endpoint, "GET", params), {}, query))

    problems: list[str] = []
    tried: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for endpoint, method, user, path, form, query in targets:
        counts = endpoint in COUNTS_FAILURES
        pending = {("form", name) for name in form} | {("query", name) for name in query}
        done: set[tuple[str, str]] = set()
        # Sent as it should be, once, for the fields read on the way to success: a form last
        # (it changes something, as in test_csrf_and_get), a page first.
        probed = False
        while pending or not probed:
            if method == "GET" and not probed or not pending:
                probed = True
                pending |= _try(people, session, user, method, path, form, query)[1] - done
                continue
            where, name = pending.pop()
            done.add((where, name))
            for value in HOSTILE:
                sent_form = dict(form, **{name: value}) if where == "form" else form
                sent_query = dict(query, **{name: value}) if where == "query" else query
                answer, read, changed = _try(people, session, user, method, path, sent_form, sent_query,
                                             counts_failures=counts)
                pending |= read - done
                status, what = answer.status_code, f"{method} {path} {where} {name}={value!r}"
                if status >= 500:
                    problems.append(f"{what}: {status}")
                elif 400 <= status < 500:
                    if changed and (endpoint, status) not in KEEPS_ON_REFUSAL:
                        problems.append(f"{what}: refused ({status}) but something changed")
                    if not _is_sentence(_said(answer)):
                        problems.append(f"{what}: {status} without a sentence")
                if name in NUMBER_FIELDS and value and (where, name) in read and not 400 <= status < 500:
                    problems.append(f"{what}: {status}, not refused")
        tried[endpoint, method] = done

    assert not problems, "\n".join(problems[:40])
    # The discovery found the fields no table lists (the numbers among them most of all).
    assert {("form", "into"), ("form", "reason")} <= tried["pages.transition", "POST"]
    assert ("form", "revision") in tried["pages.start_thread", "POST"]
    assert ("form", "copy") in tried["pages.edit", "POST"] and ("query", "copy") in tried["pages.edit", "GET"]
    assert ("query", "page") in tried["pages.admin_user_active", "POST"]
    assert {("query", "from"), ("query", "to")} <= tried["pages.diff", "GET"]
    assert {("query", name) for name in ("recommendation", "page", "actor", "from")} <= tried["pages.audit", "GET"]
    assert sum(len(fields) for fields in tried.values()) >= 50
