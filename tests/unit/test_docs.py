"""The project's own documentation against the code it describes: docs/api.md lists every
operation of the served OpenAPI document and nothing else, and docs/design.md's table of
transitions is the state machine's declaration."""

from __future__ import annotations

import re
from pathlib import Path

from accord.web.api.openapi import openapi_document
from accord.workflow.states import TRANSITIONS, State

DOCS = Path(__file__).resolve().parents[2] / "docs"

#: A row of docs/api.md's endpoint table: "| `POST /threads/{id}/resolve` | …".
_OPERATION_ROW = re.compile(r"^\| `(GET|POST|PUT|DELETE) (/[^`]*)` \|", re.MULTILINE)
#: A row of docs/design.md's transition table: "| `withdraw` | draft or national_review → withdrawn | …".
_TRANSITION_ROW = re.compile(r"^\| `(\w+)` \| ([a-z_ ]+?) → ([a-z_]+) \|", re.MULTILINE)


def _shape(path: str) -> str:
    """A path with its parameters unnamed: the reference says {id} where the document says {rec_id}."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def test_the_api_reference_lists_exactly_the_operations_of_the_openapi_document() -> None:
    documented = {(method, _shape(path)) for method, path in _OPERATION_ROW.findall((DOCS / "api.md").read_text())}
    served = {
        (method.upper(), _shape(path))
        for path, operations in openapi_document()["paths"].items()
        for method in operations
    }
    assert documented == served


def test_the_api_reference_says_where_the_openapi_document_is_served() -> None:
    assert "`GET /api/v1/openapi.json`" in (DOCS / "api.md").read_text()


def test_the_design_lists_exactly_the_transitions_the_state_machine_declares() -> None:
    documented = {
        (action, State(source), State(dest))
        for action, sources, dest in _TRANSITION_ROW.findall((DOCS / "design.md").read_text())
        for source in sources.split(" or ")
    }
    declared = {
        (t["trigger"], State(source), State(t["dest"]))
        for t in TRANSITIONS
        for source in (t["source"] if isinstance(t["source"], list) else [t["source"]])
    }
    assert documented == declared
