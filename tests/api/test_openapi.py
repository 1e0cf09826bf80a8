"""The OpenAPI document (web/api/openapi.py) against the code it describes.

Plain tests check the document itself: valid OpenAPI 3.1, every route of the API documented and
nothing else, authentication everywhere but where the code waives it. Then schemathesis sends
generated requests, valid and invalid, to every operation of a Flask app on a database loaded
with the demo data, as an EU expert and as a national expert, and checks every answer: never a
5xx, and the status code, content type, headers and body as the document says.

Mutating calls change the data as the run goes (that is the point: later calls meet drafts,
withdrawn recommendations, resolved threads); the module has a database of its own.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import pytest
import schemathesis
from flask import Flask
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.definitions import OPENAPI_31
from sqlalchemy import select

from accord.config import demo
from accord.config.settings import Settings
from accord.web import create_app
from accord.web.api.openapi import openapi_document
from accord.workflow import services
from accord.workflow.db import Database
from accord.workflow.models import User

BASE = "/api/v1"

#: Operations open without a token; every other one answers 401 without one.
PUBLIC_OPERATIONS = {("POST", "/tokens"), ("GET", "/openapi.json")}


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def _flask_path(rule: str) -> str:
    """`/api/v1/recommendations/<int:rec_id>` → `/recommendations/{rec_id}`."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.removeprefix(BASE))


# -- the application under test ----------------------------------------------------------------

#: The users the generated requests are sent as: an EU expert (consolidates, adopts, merges)
#: and a national expert (drafts, edits drafts, submits).
USERS = ["ilze", "aigerim"]


@pytest.fixture(scope="module")
def fuzz_database(database_server) -> Iterator[Database]:
    """A database of this module's own, with the demo data loaded."""
    database = Database(database_server.new_database())
    with database.write() as session:
        assert demo.load(session).loaded
    yield database
    database.dispose()


@pytest.fixture(scope="module")
def fuzz_app(fuzz_database: Database, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    settings = Settings.from_env({"ACCORD_INSTANCE_PATH": str(tmp_path_factory.mktemp("instance"))})
    return create_app(settings, database=fuzz_database, TESTING=True)


@pytest.fixture(scope="module")
def tokens(fuzz_app: Flask) -> dict[str, str]:
    """A real token for each user, signed in through the API before any generated request (the
    run's failed sign-ins soon rate-limit the test client's address)."""
    client = fuzz_app.test_client()
    found = {}
    for username in USERS:
        answer = client.post(f"{BASE}/tokens", json={"username": username, "password": demo.DEMO_PASSWORD})
        assert answer.status_code == 201, answer.json
        found[username] = answer.json["token"]
    return found


# -- the document itself ------------------------------------------------------------------------


def test_the_document_is_valid_openapi_3_1():
    document = openapi_document()
    assert document["openapi"].startswith("3.1.")
    validator = jsonschema_rs.Draft202012Validator(OPENAPI_31)
    assert [f"{error.instance_path}: {error.message}" for error in validator.iter_errors(document)] == []
    for name, schema in document["components"]["schemas"].items():
        assert jsonschema_rs.meta.is_valid(schema), name


def test_every_reference_resolves():
    document = openapi_document()

    def references(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                yield node["$ref"]
            for value in node.values():
                yield from references(value)
        elif isinstance(node, list):
            for value in node:
                yield from references(value)

    for ref in set(references(document)):
        assert ref.startswith("#/components/"), ref
        node: Any = document
        for part in ref.removeprefix("#/").split("/"):
            assert isinstance(node, dict) and part in node, f"unresolved {ref}"
            node = node[part]


def test_every_schema_describes_something_an_operation_reads_or_answers():
    document = openapi_document()
    schemas = document["components"]["schemas"]
    used: set[str] = set()

    def follow(node: Any) -> None:
        if isinstance(node, dict):
            name = node.get("$ref", "").removeprefix("#/components/schemas/")
            if name in schemas and name not in used:
                used.add(name)
                follow(schemas[name])
            for value in node.values():
                follow(value)
        elif isinstance(node, list):
            for value in node:
                follow(value)

    follow({"paths": document["paths"], "responses": document["components"]["responses"]})
    assert set(schemas) - used == set(), "shapes declared that no operation reads or answers"


def test_every_route_is_documented_and_nothing_else(fuzz_app: Flask):
    routes = {
        (method, _flask_path(rule.rule))
        for rule in fuzz_app.url_map.iter_rules()
        if rule.rule.startswith(BASE + "/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {(method, path) for method, path, _ in _operations(openapi_document())}
    assert routes - documented == set(), "routes missing from the document"
    assert documented - routes == set(), "documented operations with no route"


def test_operations_are_named_and_their_parameters_declared():
    document = openapi_document()
    ids = [operation["operationId"] for _, _, operation in _operations(document)]
    assert len(ids) == len(set(ids)), "operationIds are unique"
    for method, path, operation in _operations(document):
        assert operation.get("summary"), (method, path)
        parameters = operation.get("parameters", [])
        declared = {p["name"] for p in parameters if p["in"] == "path"}
        assert declared == set(re.findall(r"{(\w+)}", path)), (method, path)
        for parameter in parameters:
            if parameter["in"] == "path":
                assert parameter["required"] and parameter["schema"]["type"] == "integer"
            if parameter["name"] in ("page", "per_page"):
                assert parameter["schema"]["type"] == "integer" and parameter["schema"]["minimum"] == 1
            if parameter["name"] == "per_page":
                assert parameter["schema"]["maximum"] == 200


def test_authentication_everywhere_but_signing_in_and_the_statuses_that_go_with_it():
    document = openapi_document()
    assert document["security"] == [{"bearerAuth": []}]
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    for method, path, operation in _operations(document):
        statuses = set(operation["responses"])
        if (method, path) in PUBLIC_OPERATIONS:
            assert operation["security"] == [], (method, path)
        else:
            assert "security" not in operation, (method, path)
            assert {"401", "503"} <= statuses, (method, path)
        if "{" in path:
            assert "404" in statuses, (method, path)
        if "requestBody" in operation:
            assert {"400", "413"} <= statuses, (method, path)
        if any(p["name"] == "page" for p in operation.get("parameters", [])):
            assert {"400", "422"} <= statuses, (method, path)
    assert "429" in document["paths"]["/tokens"]["post"]["responses"]


def test_the_document_is_served_without_a_token(fuzz_app: Flask):
    answer = fuzz_app.test_client().get(f"{BASE}/openapi.json")
    assert answer.status_code == 200 and answer.content_type == "application/json"
    assert answer.json == openapi_document()


def test_every_authenticated_operation_answers_the_documented_401(fuzz_app: Flask):
    client = fuzz_app.test_client()
    for method, path, _ in _operations(openapi_document()):
        if (method, path) in PUBLIC_OPERATIONS:
            continue
        url = BASE + re.sub(r"{\w+}", "1", path)
        for headers in ({}, {"Authorization": "Bearer not-a-token"}):
            answer = client.open(url, method=method, headers=headers, json={})
            assert answer.status_code == 401, (method, path, headers)
            assert answer.headers["WWW-Authenticate"] == 'Bearer realm="accord"'
            assert set(answer.json["error"]) == {"code", "message"}


# -- hostile inputs ------------------------------------------------------------------------------
#
# Inputs that once reached the database and failed there with a 500 (found by the generated run
# below, or while writing the document): integers beyond what an `integer` column holds, NUL
# characters in looked-up strings, times that overflow when moved to UTC, lone surrogates, and
# JSON nested thousands deep. Each must get a 4xx with a sentence, on both databases.

HOSTILE_REQUESTS = [
    # bug, dialects where it shows, user, method, url, raw JSON body
    ("1", {"sqlite", "postgresql"}, "ilze", "GET", "/recommendations/99999999999999999999", None),
    ("1", {"postgresql"}, "ilze", "GET", "/recommendations/4294967296/threads", None),
    ("1", {"postgresql"}, "ilze", "GET", "/audit?recommendation=4294967296", None),
    ("1", {"sqlite", "postgresql"}, "ilze", "GET", "/agencies?page=99999999999999999999", None),
    ("1", {"postgresql"}, "aigerim", "POST", "/recommendations", '{"process": 4294967296, "title": "T"}'),
    ("2", {"postgresql"}, "ilze", "GET", "/recommendations?q=a%00b", None),
    ("2", {"postgresql"}, "ilze", "GET", "/audit?actor=a%00b", None),
    ("2", {"postgresql"}, "ilze", "POST", "/tokens", '{"username": "a\\u0000b", "password": "x"}'),
    ("3", {"sqlite", "postgresql"}, "ilze", "GET", "/audit?since=0001-01-01T00:00:00%2B05:00", None),
    ("4", {"sqlite", "postgresql"}, "aigerim", "POST", "/recommendations", '{"process": 1, "title": "T\\ud800"}'),
    ("5", {"sqlite", "postgresql"}, "ilze", "POST", "/recommendations/1/threads", "[" * 5000 + "]" * 5000),
]


@pytest.mark.parametrize(
    ("bug", "dialects", "user", "method", "url", "body"),
    HOSTILE_REQUESTS,
    ids=[f"{method} {url[:48]}" for _, _, _, method, url, _ in HOSTILE_REQUESTS],
)
def test_hostile_inputs_get_a_4xx(fuzz_app, tokens, bug, dialects, user, method, url, body):
    answer = fuzz_app.test_client().open(
        BASE + url, method=method, data=body, content_type="application/json",
        headers={"Authorization": f"Bearer {tokens[user]}"},
    )
    assert 400 <= answer.status_code < 500, answer.json
    assert set(answer.json["error"]) == {"code", "message"}


# -- the generated run --------------------------------------------------------------------------

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {
            # Per operation and user, for the fuzzing phase; the examples and coverage phases
            # add their own (boundary values, missing and wrong-typed fields, other methods).
            "max-examples": 25,
            # No example database in the working copy: every run starts afresh.
            "database": "none",
        },
        # Sequences of calls need links between operations, which the document does not give.
        "phases": {"stateful": {"enabled": False}},
    }
)

SCHEMA = schemathesis.openapi.from_dict(copy.deepcopy(openapi_document()), config=CONFIG)

#: Upper bounds of the ids the demo data (and what the run adds to it) has, so that a share of
#: the generated requests reach real objects instead of answering 404 or 422 every time.
DEMO_ID_BOUNDS = {
    # path parameters
    "rec_id": 8,
    "thread_id": 6,
    "copy_id": 3,
    "number": 4,
    # query parameters
    "from": 4,
    "to": 4,
    "recommendation": 8,
    # body fields (and the query parameter `process`)
    "process": 2,
    "into": 8,
    "revision": 4,
    "base_revision": 4,
}
DEMO_AGENCY_CODES = [code for code, *_ in demo.AGENCIES]


def _towards_demo_data(values: Any) -> st.SearchStrategy[Any]:
    """The generated values, or the same with ids, revision numbers and agency codes drawn from
    those the demo data has."""
    if not isinstance(values, dict):
        return st.just(values)
    replacements: dict[str, st.SearchStrategy[Any]] = {
        name: st.integers(1, DEMO_ID_BOUNDS[name])
        for name, value in values.items()
        if name in DEMO_ID_BOUNDS and isinstance(value, int) and not isinstance(value, bool)
    }
    if isinstance(values.get("addressed_agencies"), list):
        replacements["addressed_agencies"] = st.lists(st.sampled_from(DEMO_AGENCY_CODES), max_size=3)
    if not replacements:
        return st.just(values)
    return st.one_of(st.just(values), st.fixed_dictionaries(replacements).map(lambda new: {**values, **new}))


@SCHEMA.hook
def flatmap_path_parameters(context, path_parameters):
    return _towards_demo_data(path_parameters)


@SCHEMA.hook
def flatmap_query(context, query):
    return _towards_demo_data(query)


@SCHEMA.hook
def flatmap_body(context, body):
    return _towards_demo_data(body)


@pytest.fixture(scope="module", params=USERS)
def username(request: pytest.FixtureRequest, tokens: dict[str, str]) -> str:
    return request.param


def _throwaway_token(database: Database, username: str) -> str:
    with database.write() as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        return services.issue_token(session, user).token


@SCHEMA.parametrize()
def test_the_api_answers_as_documented(case, fuzz_app: Flask, fuzz_database: Database, tokens, username):
    token = tokens[username]
    if (case.method.upper(), case.path) == ("DELETE", "/tokens/current"):
        token = _throwaway_token(fuzz_database, username)  # revoking it must not end the run
    headers = {"Authorization": f"Bearer {token}"}
    response = case.call(app=fuzz_app, headers=headers)
    case.validate_response(
        response, checks=CHECKS, headers=headers, transport_kwargs={"app": fuzz_app, "headers": headers}
    )
