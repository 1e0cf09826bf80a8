"""The OpenAPI 3.1 description of the JSON API (docs/api.md), served at GET /api/v1/openapi.json.

The schemas are generated from the code's own declarations: request bodies and query parameters
from the models requests are validated with (`web/api/requests.py`), answers from the shapes the
serializers are typed to return (`web/api/shapes.py`). The paths, their parameters and status
codes are written here, as plain Python data. It describes what the code does, status codes
included: `web/api/parsing.py` answers 400 for a body that is not a JSON object, a missing field
or a value of the wrong type, and for a query parameter that is not an integer (or an ISO 8601
time); `web/errors.py` maps the domain errors of the services (404, 403, 409, 422, 401,
429), answers 413 for a body above the size limit and 503 while the database is unavailable.
Every operation lists every status it can give; `tests/api/test_openapi.py` holds the code to it.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from flask import Blueprint, Response, jsonify
from pydantic import TypeAdapter
from pydantic.json_schema import GenerateJsonSchema

from accord.workflow.services._common import MAX_PER_PAGE

from . import requests, shapes

blueprint = Blueprint("openapi", __name__)

Schema = dict[str, Any]

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1"
BASE_PATH = "/api/v1"


REF_TEMPLATE = "#/components/schemas/{model}"


class _Untitled(GenerateJsonSchema):
    """Schemas without a title on every property (pydantic's default): the name says it."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


# -- small builders -----------------------------------------------------------------------------


def _ref(name: str) -> Schema:
    return {"$ref": REF_TEMPLATE.format(model=name)}


def _response_ref(name: str) -> Schema:
    return {"$ref": f"#/components/responses/{name}"}


def _json(schema: Schema) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


# -- components: schemas ------------------------------------------------------------------------


class _AnswerSchemas(_Untitled):
    """Nullable values spelled `"type": [kind, "null"]` (JSON Schema 2020-12), as clients of
    OpenAPI 3.1 expect, rather than pydantic's `anyOf` of two branches, where that says the same."""

    def nullable_schema(self, schema: Any) -> Schema:
        nullable = super().nullable_schema(schema)
        branches = nullable.get("anyOf", [])
        if len(branches) == 2 and branches[1] == {"type": "null"}:
            value = branches[0]
            # An enum or a const would have to list null too; a $ref has no type to extend.
            if isinstance(value.get("type"), str) and not {"enum", "const", "$ref"} & set(value):
                return {**value, "type": [value["type"], "null"]}
        return nullable


def _schemas() -> dict[str, Schema]:
    """The answer shapes (`shapes.py`), a page of each listed one, and the request bodies."""
    answers = {shape.__name__: TypeAdapter(shape) for shape in shapes.ANSWERS}
    pages = {
        f"{item.__name__}Page": TypeAdapter(shapes.Page[item])  # type: ignore[valid-type]  # built at run time
        for item in shapes.LISTED
    }
    refs, definitions = TypeAdapter.json_schemas(
        [(name, "serialization", adapter) for name, adapter in {**answers, **pages}.items()],
        ref_template=REF_TEMPLATE,
        schema_generator=_AnswerSchemas,
    )
    schemas: dict[str, Schema] = definitions["$defs"]
    for name in pages:
        # pydantic names a page of agencies `Page_Agency_`: name it as clients know it.
        generated = refs[name, "serialization"]["$ref"].rsplit("/", 1)[1]
        item = name.removesuffix("Page")
        schemas[name] = {
            **schemas.pop(generated),
            "title": name,
            "description": f"One page of {item} objects, in the order the list defines.",
        }
    for model in requests.BODIES:
        if model.__name__ in schemas:
            raise ValueError(f"A request body and an answer are both named {model.__name__}.")
        schemas[model.__name__] = model.model_json_schema(ref_template=REF_TEMPLATE, schema_generator=_Untitled)
    return dict(sorted(schemas.items()))


# -- components: responses and parameters --------------------------------------------------------


def _error(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description, "content": _json(_ref("Error"))}
    if headers:
        response["headers"] = headers
    return response


RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    }
}


WWW_AUTHENTICATE = {
    "WWW-Authenticate": {
        "description": "`Bearer realm=\"accord\"`, on every 401.",
        "required": True,
        "schema": {"type": "string"},
    }
}


def _responses() -> dict[str, Any]:
    return {
        "BadRequest": _error(
            "Malformed: the body is not a JSON object, a field is missing or of the wrong type "
            "(`malformed_json`, `missing_field`, `wrong_type`), or a query parameter is not an "
            "integer or an ISO 8601 time (`wrong_type`, `missing_parameter`)."
        ),
        "Unauthenticated": _error(
            "No bearer token, or one that is unknown, expired or revoked.", headers=WWW_AUTHENTICATE
        ),
        "Forbidden": _error("The caller sees the object but their role or agency does not allow this."),
        "NotFound": _error("Absent, or not visible to the caller (the two answer alike)."),
        "Conflict": _error(
            "The action does not fit the current state: wrong state (`wrong_state`), a failed "
            "guard (`guard_failed`), a stale revision, or a lost race."
        ),
        "PayloadTooLarge": _error("The request body is larger than the server accepts."),
        "UnsupportedMediaType": _error(
            "The body is not sent as JSON: its Content-Type is not `application/json` "
            "(`unsupported_media_type`)."
        ),
        "Unprocessable": _error(
            "Well-formed but invalid values: an empty or too long text, an unknown agency, "
            "process, state or revision, a reason missing, a page out of range."
        ),
        "Unavailable": _error("The database is busy or unavailable; try again shortly.", headers=RETRY_AFTER),
    }


def _query(model: type[requests.Query]) -> list[dict[str, Any]]:
    """The query parameters `model` declares, by the names clients send."""
    schema = model.model_json_schema(ref_template=REF_TEMPLATE, schema_generator=_Untitled)
    parameters = []
    for name, declared in schema["properties"].items():
        declared = dict(declared)
        description, examples = declared.pop("description"), declared.pop("examples", None)
        # A query parameter is absent rather than null: the schema of the value when given.
        branches = [branch for branch in declared.pop("anyOf", []) if branch != {"type": "null"}]
        if branches:
            declared = {**branches[0], **({"default": declared["default"]} if declared.get("default") else {})}
        parameter = {"name": name, "in": "query", "required": name in schema.get("required", ()),
                     "description": description, "schema": declared}
        if examples:
            parameter["example"] = examples[0]
        parameters.append(parameter)
    return parameters


ID: Schema = {"type": "integer", "minimum": 1}


def _path_id(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": ID, "example": 1}


REC_ID = _path_id("rec_id", "The recommendation's id.")
THREAD_ID = _path_id("thread_id", "The thread's id.")
COPY_ID = _path_id("copy_id", "The conflict copy's id.")
REVISION_NUMBER = _path_id("number", "The revision's number.")


# -- operations -------------------------------------------------------------------------------

#: Error statuses, to the name of their shared response.
ERROR_RESPONSES = {
    400: "BadRequest",
    401: "Unauthenticated",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
    422: "Unprocessable",
    503: "Unavailable",
}


def _operation(
    operation_id: str,
    summary: str,
    *,
    tag: str,
    success: tuple[int, str, Schema | None],
    errors: tuple[int, ...] = (),
    description: str | None = None,
    parameters: list[dict[str, Any]] | None = None,
    body: str | None = None,
    public: bool = False,
    extra: dict[int, Any] | None = None,
) -> dict[str, Any]:
    """One operation. Every authenticated one also answers 401 and 503; one that reads a JSON
    body also answers 400 (malformed), 413 (too large) and 415 (not sent as JSON)."""
    status, success_description, schema = success
    responses: dict[str, Any] = {str(status): {"description": success_description}}
    if schema is not None:
        responses[str(status)]["content"] = _json(schema)
    codes = set(errors) | {503}
    if not public:
        codes.add(401)
    if body is not None:
        codes |= {400, 413, 415}
    for code in sorted(codes | set(extra or {})):
        if extra and code in extra:
            responses[str(code)] = extra[code]
        else:
            responses[str(code)] = _response_ref(ERROR_RESPONSES[code])
    operation: dict[str, Any] = {"operationId": operation_id, "summary": summary, "tags": [tag]}
    if description:
        operation["description"] = description
    if parameters:
        operation["parameters"] = parameters
    if body is not None:
        operation["requestBody"] = {"required": True, "content": _json(_ref(body))}
    operation["responses"] = dict(sorted(responses.items()))
    if public:
        operation["security"] = []
    return operation


def _paths() -> dict[str, Any]:
    page = _query(requests.Pagination)
    listed = (400, 422)  # a page or per_page that is not an integer, or out of range
    return {
        "/tokens": {
            "post": _operation(
                "createToken",
                "Exchange a username and password for a bearer token",
                tag="authentication",
                description=(
                    "Failed attempts slow down further attempts: for a username from one "
                    "address after a few, and for an address after a room's worth; while a "
                    "delay runs, the answer is 429 with Retry-After, whatever the password. "
                    "The right password from an address that has not been failing is never "
                    "delayed. The body must be sent as `application/json` (else 415)."
                ),
                body="TokenRequest",
                public=True,
                success=(201, "The new token; it is shown only here.", _ref("Token")),
                extra={
                    401: _error(
                        "The username or password is not correct (`wrong_credentials`).",
                        headers=WWW_AUTHENTICATE,
                    ),
                    429: _error("Too many failed sign-ins (`rate_limited`).", headers=RETRY_AFTER),
                },
            )
        },
        "/tokens/current": {
            "delete": _operation(
                "revokeCurrentToken",
                "Revoke the token of this call",
                tag="authentication",
                description="It stops working at once.",
                success=(204, "Revoked.", None),
            )
        },
        "/me": {
            "get": _operation(
                "getMe",
                "The signed-in user",
                tag="reference",
                success=(200, "Who the token belongs to.", _ref("Me")),
            )
        },
        "/agencies": {
            "get": _operation(
                "listAgencies",
                "Every agency, by code",
                tag="reference",
                parameters=page,
                errors=listed,
                success=(200, "A page of agencies.", _ref("AgencyPage")),
            )
        },
        "/processes": {
            "get": _operation(
                "listProcesses",
                "Processes the caller's agency takes part in (auditors and administrators: all)",
                tag="reference",
                parameters=page,
                errors=listed,
                success=(200, "A page of processes.", _ref("ProcessPage")),
            )
        },
        "/recommendations": {
            "post": _operation(
                "createRecommendation",
                "Draft a new recommendation (revision 1)",
                tag="recommendations",
                description=(
                    "National experts only, in a process their agency takes part in (else 403). "
                    "422 for an unknown process or agency, an agency outside the process, or an "
                    "empty or too long title."
                ),
                body="NewRecommendation",
                errors=(403, 422),
                success=(201, "The new recommendation.", _ref("Recommendation")),
            ),
            "get": _operation(
                "listRecommendations",
                "Recommendations the caller may see, newest change first",
                tag="recommendations",
                description="422 for an unknown state or agency code.",
                parameters=_query(requests.RecommendationFilters),
                errors=listed,
                success=(200, "A page of recommendations.", _ref("RecommendationPage")),
            ),
        },
        "/recommendations/{rec_id}": {
            "get": _operation(
                "getRecommendation",
                "One recommendation, with what the caller may do to it now",
                tag="recommendations",
                parameters=[REC_ID],
                errors=(404,),
                success=(200, "The recommendation.", _ref("Recommendation")),
            ),
            "put": _operation(
                "editRecommendation",
                "Save new text, started from base_revision",
                tag="recommendations",
                description=(
                    "When someone saved since `base_revision`, the two changes are merged if they "
                    "touch different passages; otherwise the answer is 409 `edit_conflict` and the "
                    "text sent is kept as a conflict copy. 409 `wrong_state` when the state does "
                    "not allow editing; 422 for an empty or too long title or an unknown "
                    "`base_revision`."
                ),
                parameters=[REC_ID],
                body="RecommendationEdit",
                errors=(403, 404, 422),
                extra={
                    409: {
                        "description": (
                            "An edit conflict (the text is kept as a conflict copy), or a state "
                            "that does not allow editing."
                        ),
                        "content": _json({"anyOf": [_ref("EditConflict"), _ref("Error")]}),
                    }
                },
                success=(200, "The recommendation, at its new revision.", _ref("Recommendation")),
            ),
        },
        "/recommendations/{rec_id}/transitions": {
            "post": _operation(
                "performTransition",
                "Fire a workflow action",
                tag="recommendations",
                description=(
                    "409 when the state does not allow the action or a guard fails; 422 for an "
                    "unknown action, a missing reason, or a missing or unknown `into` (merge)."
                ),
                parameters=[REC_ID],
                body="TransitionRequest",
                errors=(403, 404, 409, 422),
                success=(200, "The recommendation, in its new state.", _ref("Recommendation")),
            )
        },
        "/recommendations/{rec_id}/revisions": {
            "get": _operation(
                "listRevisions",
                "The revision history, oldest first",
                tag="revisions",
                parameters=[REC_ID, *page],
                errors=(404, *listed),
                success=(200, "A page of revision summaries.", _ref("RevisionSummaryPage")),
            )
        },
        "/recommendations/{rec_id}/revisions/{number}": {
            "get": _operation(
                "getRevision",
                "One revision's full text",
                tag="revisions",
                parameters=[REC_ID, REVISION_NUMBER],
                errors=(404,),
                success=(200, "The revision.", _ref("Revision")),
            )
        },
        "/recommendations/{rec_id}/diff": {
            "get": _operation(
                "diffRevisions",
                "Word-level changes between two revisions",
                tag="revisions",
                parameters=[REC_ID, *_query(requests.DiffQuery)],
                description="404 when either revision does not exist.",
                errors=(400, 404),
                success=(200, "The changes.", _ref("Diff")),
            )
        },
        "/recommendations/{rec_id}/approvals": {
            "post": _operation(
                "recordDecision",
                "Approve or object to the current revision, for the caller's agency",
                tag="recommendations",
                description=(
                    "409 `stale_revision` if `revision` is not the current one, `already_decided` "
                    "if the same decision stands on it, `wrong_state` outside expert "
                    "consolidation; 422 for an unknown decision or an objection without reason."
                ),
                parameters=[REC_ID],
                body="DecisionRequest",
                errors=(403, 404, 409, 422),
                success=(201, "The recorded decision.", _ref("Approval")),
            )
        },
        "/recommendations/{rec_id}/threads": {
            "get": _operation(
                "listThreads",
                "Threads with their comments, oldest first",
                tag="threads",
                parameters=[REC_ID, *page],
                errors=(404, *listed),
                success=(200, "A page of threads.", _ref("ThreadPage")),
            ),
            "post": _operation(
                "startThread",
                "Start a thread, optionally on a quoted passage of a revision",
                tag="threads",
                description=(
                    "409 once the recommendation is read-only; 422 for an empty or too long "
                    "comment or quote, an unknown revision or a quote not in it."
                ),
                parameters=[REC_ID],
                body="NewThread",
                errors=(403, 404, 409, 422),
                success=(201, "The new thread with its first comment.", _ref("Thread")),
            ),
        },
        "/threads/{thread_id}/comments": {
            "post": _operation(
                "addComment",
                "Reply in a thread",
                tag="threads",
                description="409 when the thread is resolved or the recommendation read-only.",
                parameters=[THREAD_ID],
                body="NewComment",
                errors=(403, 404, 409, 422),
                success=(201, "The new comment.", _ref("Comment")),
            )
        },
        "/threads/{thread_id}/resolve": {
            "post": _operation(
                "resolveThread",
                "Mark a thread resolved",
                tag="threads",
                description="409 when it is resolved already or the recommendation read-only.",
                parameters=[THREAD_ID],
                errors=(403, 404, 409),
                success=(200, "The thread.", _ref("Thread")),
            )
        },
        "/threads/{thread_id}/reopen": {
            "post": _operation(
                "reopenThread",
                "Reopen a resolved thread",
                tag="threads",
                description="409 when it is open already or the recommendation read-only.",
                parameters=[THREAD_ID],
                errors=(403, 404, 409),
                success=(200, "The thread.", _ref("Thread")),
            )
        },
        "/conflict-copies/{copy_id}": {
            "get": _operation(
                "getConflictCopy",
                "A conflict copy of the caller's, to merge by hand",
                tag="recommendations",
                description="Only its author sees it: 404 for anyone else.",
                parameters=[COPY_ID],
                errors=(404,),
                success=(200, "The conflict copy.", _ref("ConflictCopy")),
            ),
            "delete": _operation(
                "discardConflictCopy",
                "Discard a conflict copy",
                tag="recommendations",
                description="409 when it was discarded already.",
                parameters=[COPY_ID],
                errors=(404, 409),
                success=(204, "Discarded.", None),
            ),
        },
        "/audit": {
            "get": _operation(
                "listAuditEvents",
                "Audit events in chain order",
                tag="audit",
                description=(
                    "Auditors and administrators read every event; everyone else the events of "
                    "the recommendations they may see. A time without a zone is taken as UTC."
                ),
                parameters=_query(requests.AuditFilters),
                errors=listed,
                success=(200, "A page of audit events.", _ref("AuditEventPage")),
            )
        },
        "/audit/verify": {
            "get": _operation(
                "verifyAuditChain",
                "Walk the audit chain (auditors and administrators)",
                tag="audit",
                errors=(403,),
                success=(
                    200,
                    "Whether every event matches its hash and links to the previous one.",
                    _ref("Verification"),
                ),
            )
        },
        "/openapi.json": {
            "get": {
                "operationId": "getOpenApiDocument",
                "summary": "This document",
                "tags": ["meta"],
                "security": [],
                "responses": {
                    "200": {
                        "description": "The OpenAPI 3.1 description of the API.",
                        "content": _json({"type": "object"}),
                    }
                },
            }
        },
    }


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the API, built once. Callers must not change it (copy it
    first, e.g. with `copy.deepcopy`, to hand it to a tool that does)."""
    # Through JSON and back: plain JSON data, with no part shared between two places.
    return json.loads(json.dumps(_build()))


def _build() -> dict[str, Any]:
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Accord",
            "version": API_VERSION,
            "description": (
                "The JSON API of Accord: drafting, discussing, approving and adopting "
                "recommendations, under the same permission rules as the pages. Bodies are "
                "JSON; errors answer `{\"error\": {\"code\", \"message\"}}`; times are ISO 8601 "
                "UTC; lists are paginated (`?page=1&per_page=50`, at most "
                f"{MAX_PER_PAGE} a page). Sign in with POST /tokens and send "
                "`Authorization: Bearer <token>` on every other call."
            ),
        },
        "servers": [{"url": BASE_PATH}],
        "security": [{"bearerAuth": []}],
        "tags": [
            {"name": "authentication"},
            {"name": "reference"},
            {"name": "recommendations"},
            {"name": "revisions"},
            {"name": "threads"},
            {"name": "audit"},
            {"name": "meta"},
        ],
        "paths": _paths(),
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from POST /tokens.",
                }
            },
            "schemas": _schemas(),
            "responses": _responses(),
        },
    }


@blueprint.get(f"{BASE_PATH}/openapi.json", endpoint="openapi_document")
def serve_openapi_document() -> Response:
    return jsonify(openapi_document())
