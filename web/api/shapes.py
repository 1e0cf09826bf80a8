"""What each operation of the API answers, declared once.

`serializers.py` is annotated to return these shapes (so a type checker holds the plain dicts it
builds to them) and `openapi.py` generates the document's response schemas from them. They cost
nothing per request: a TypedDict is a plain dict at run time, never validated.

Value sets (states, decisions, roles…) and limits come from the code that defines them. Field
descriptions are documentation; the class docstrings become the schemas' descriptions.
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, Literal, TypeVar, get_args

from pydantic import Field

# pydantic reads the fields of `typing.TypedDict` only from Python 3.12 on.
from typing_extensions import TypedDict

from accord.workflow.audit_actions import AuditAction
from accord.workflow.diffing import OpKind
from accord.workflow.models import AgencyKind, Decision, Role
from accord.workflow.policy import LISTED_ACTIONS
from accord.workflow.services._common import MAX_PER_PAGE
from accord.workflow.states import State


def _one_of(values: Any) -> Any:
    return Field(json_schema_extra={"enum": [str(value) for value in values]})


Id = Annotated[int, Field(ge=1)]
Number = Annotated[int, Field(ge=1)]
Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
StateName = Annotated[str, _one_of(State)]
DecisionName = Annotated[str, _one_of(Decision)]
AgencyKindName = Annotated[str, _one_of(AgencyKind)]
RoleName = Annotated[str, _one_of(Role)]
ActionName = Annotated[str, _one_of(LISTED_ACTIONS)]
AuditActionName = Annotated[str, _one_of(AuditAction)]

Item = TypeVar("Item")


class Page(TypedDict, Generic[Item]):
    """One page of a list, in the order the list defines."""

    items: list[Item]
    page: Annotated[int, Field(ge=1)]
    per_page: Annotated[int, Field(ge=1, le=MAX_PER_PAGE)]
    total: Annotated[int, Field(ge=0)]


# -- errors --------------------------------------------------------------------------------------


class ErrorDetail(TypedDict):
    code: Annotated[str, Field(description="A machine code, such as `not_found`, `wrong_state` or `missing_field`.")]
    message: Annotated[str, Field(description="A sentence for a person.")]


class Error(TypedDict):
    """The error envelope every failure under /api/ answers with."""

    error: ErrorDetail


class EditConflictDetail(TypedDict):
    code: Literal["edit_conflict"]
    message: str


class ConflictOutcome(TypedDict):
    current_revision: Number
    your_text_saved_as: Annotated[Id, Field(description="The id of the conflict copy that keeps the text sent.")]
    conflict_copy_url: Annotated[
        str, Field(description="Where to read the conflict copy (GET /conflict-copies/{copy_id}).")
    ]


class EditConflict(TypedDict):
    """An edit that could not be merged with the revisions saved since `base_revision`: nothing
    changed on the recommendation, and the text sent is kept as a conflict copy."""

    error: EditConflictDetail
    conflict: ConflictOutcome


# -- authentication and reference data -----------------------------------------------------------


class Token(TypedDict):
    token: Annotated[str, Field(description="Send it as `Authorization: Bearer <token>`.")]
    expires_at: Timestamp


class Agency(TypedDict):
    code: str
    name: str
    country: str
    kind: AgencyKindName


class UserAgency(TypedDict):
    """The agency a user acts for."""

    code: str
    name: str
    kind: AgencyKindName


class Me(TypedDict):
    username: str
    display_name: str
    agency: UserAgency
    roles: list[RoleName]


class Process(TypedDict):
    id: Id
    title: str
    agencies: list[str]


# -- recommendations -----------------------------------------------------------------------------


class Approval(TypedDict):
    agency: Annotated[str, Field(description="The code of the deciding agency.")]
    decision: DecisionName
    revision: Annotated[Number, Field(description="The revision decided on.")]
    stale: Annotated[bool, Field(description="A later revision was saved: the decision no longer counts.")]
    by: Annotated[str, Field(description="The username of who decided.")]
    at: Timestamp
    reason: str | None


class Recommendation(TypedDict):
    id: Id
    process: Id
    title: str
    body: Annotated[str, Field(description="Markdown.")]
    body_html: Annotated[str, Field(description="The sanitized rendering of `body`.")]
    state: StateName
    proposing_agency: str
    addressed_agencies: list[str]
    revision: Annotated[Number, Field(description="The current revision's number.")]
    created_by: str
    created_at: Timestamp
    updated_at: Timestamp
    allowed_actions: Annotated[
        list[ActionName],
        Field(description="What the caller may do now: transitions, `edit`, `approve`, `object`, `comment`."),
    ]
    approvals: Annotated[
        list[Approval], Field(description="Each addressed agency's standing (latest) decision, stale or not.")
    ]
    merged_into: Id | None
    merged_from: Annotated[list[Id], Field(description="Recommendations merged into this one.")]


class ConflictCopy(TypedDict):
    id: Id
    recommendation: Id
    base_revision: Number
    conflicting_revision: Number
    title: str
    body: str
    summary: str
    created_at: Timestamp
    discarded: bool


# -- revisions -----------------------------------------------------------------------------------


class RevisionSummary(TypedDict):
    number: Number
    author: str
    created_at: Timestamp
    summary: str
    state: Annotated[StateName, Field(description="The recommendation's state when the revision was saved.")]


class Revision(TypedDict):
    number: Number
    title: str
    body: str
    body_html: str
    author: str
    created_at: Timestamp
    summary: str
    state: StateName
    base_revision: Annotated[
        Number | None, Field(description="The revision its author started from (null for the first).")
    ]


# A pair [kind, text]. Not a tuple: its `prefixItems` schemathesis 4.32 rewrites to the draft-4
# `items: [...]` and then fails to validate.
DiffOpPair = Annotated[
    list[str],
    Field(min_length=2, max_length=2, description=f"[kind, text]; the kind is one of: {', '.join(get_args(OpKind))}."),
]

# The functional form: `from` is a Python keyword.
Diff = TypedDict(
    "Diff",
    {
        "from": int,
        "to": int,
        "ops": Annotated[
            list[DiffOpPair],
            Field(description="Word-level changes from `from` to `to` (title, blank line, body)."),
        ],
    },
)


# -- threads -------------------------------------------------------------------------------------


class Comment(TypedDict):
    id: Id
    author: str
    body: str
    body_html: str
    created_at: Timestamp


class Thread(TypedDict):
    id: Id
    recommendation: Id
    revision: Annotated[Number | None, Field(description="The revision the quote is from.")]
    quote: str | None
    passage_changed: Annotated[
        bool, Field(description="The quoted passage no longer appears in the current text.")
    ]
    resolved: bool
    resolved_by: str | None
    resolved_at: Timestamp | None
    created_by: str
    created_at: Timestamp
    comments: list[Comment]


# -- audit ---------------------------------------------------------------------------------------


class AuditEvent(TypedDict):
    seq: Annotated[int, Field(ge=1)]
    occurred_at: Timestamp
    actor: Annotated[str, Field(description="A username, or `system` for the command line.")]
    actor_agency: str | None
    action: AuditActionName
    recommendation: Id | None
    from_state: str | None
    to_state: str | None
    revision: int | None
    reason: str | None
    payload: dict[str, Any]
    prev_hash: str
    hash: str
    withheld: Annotated[
        bool,
        Field(
            description="True when the reader may read every event but not this recommendation (an "
            "administrator, a private draft of another agency): `reason` and a quoted passage in "
            "`payload` are then null."
        ),
    ]


class Verification(TypedDict):
    ok: bool
    events: Annotated[int, Field(ge=0)]
    head: Annotated[str | None, Field(description="The hash of the last event; null for an empty log.")]
    first_bad: Annotated[int | None, Field(description="The `seq` of the first event that does not match.")]


#: Every shape an operation answers with, by itself (the document names its schema after it).
ANSWERS: tuple[Any, ...] = (
    Error, EditConflict, Token, Agency, Me, Process, Approval, Recommendation, ConflictCopy,
    RevisionSummary, Revision, Diff, Comment, Thread, AuditEvent, Verification,
)

#: The shapes the API lists a page of (`<Name>Page` in the document).
LISTED: tuple[Any, ...] = (Agency, Process, Recommendation, RevisionSummary, Thread, AuditEvent)
