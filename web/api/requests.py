"""What each operation of the API reads: request bodies and query parameters, declared once.

`parsing.py` validates requests against these models (a 400 naming the field otherwise) and
`openapi.py` generates the document's schemas and query parameters from them.

The models check the shape only: types, and which fields are required. Whether a value makes
sense (a title not too long, an action that exists, a page in range) is the engine's question,
answered 422; such rules appear here as documentation only (`documented`), never enforced
twice. A null counts as an absent field.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

from accord.workflow.models import Decision
from accord.workflow.services._common import MAX_PER_PAGE
from accord.workflow.states import State, Transition
from accord.workflow.validation import MAX_BODY, MAX_COMMENT, MAX_QUOTE, MAX_REASON, MAX_SUMMARY, MAX_TITLE


def documented(kind: str, **rules: Any) -> WithJsonSchema:
    """The schema clients read for a value whose rules the engine checks (422), not the model."""
    return WithJsonSchema({"type": kind, **rules})


def _values(enum: Any) -> list[str]:
    return [member.value for member in enum]


# Texts, each with the longest length the engine accepts (documented; the engine checks it).
Title = Annotated[str, documented("string", maxLength=MAX_TITLE)]
BodyText = Annotated[str, documented("string", maxLength=MAX_BODY)]
Summary = Annotated[str, documented("string", maxLength=MAX_SUMMARY)]
Reason = Annotated[str, documented("string", maxLength=MAX_REASON)]
CommentText = Annotated[str, documented("string", maxLength=MAX_COMMENT)]
Quote = Annotated[str, documented("string", maxLength=MAX_QUOTE)]


# -- request bodies ------------------------------------------------------------------------------


class Body(BaseModel):
    """A JSON object; unknown fields are ignored, types are not converted ("1" is no integer)."""

    model_config = ConfigDict(strict=True, extra="ignore", populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _null_is_absent(cls, data: Any) -> Any:
        return {name: value for name, value in data.items() if value is not None} if isinstance(data, dict) else data

    def arguments(self) -> dict[str, Any]:
        """The fields as the service's keyword arguments (absent optional ones left out)."""
        return self.model_dump(exclude_none=True)


class TokenRequest(Body):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"username": "aigerim", "password": "correct horse battery staple"}]}
    )

    username: str
    password: str


class NewRecommendation(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "process": 1,
        "title": "Joint patrols on the common border",
        "body": "Neighbouring border agencies **patrol jointly** at agreed sections.",
        "addressed_agencies": ["KZ-SRC"],
        "summary": "First draft",
    }]})

    process_id: int = Field(alias="process", description="The id of a process the caller's agency takes part in.")
    title: Title
    body: BodyText | None = Field("", description="Markdown; empty when absent.")
    addressed_agencies: list[str] | None = Field(
        [], description="Agency codes; the proposing agency is always added."
    )
    summary: Summary | None = ""


class RecommendationEdit(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "title": "Inter-agency coordination council at each border crossing point",
        "body": "A coordination council meets monthly at each crossing point.",
        "base_revision": 2,
        "summary": "Monthly meetings",
    }]})

    title: Title
    body: BodyText
    base_revision: int = Field(description="The revision the new text was started from.")
    summary: Summary | None = ""


class TransitionRequest(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"action": "submit"},
        {"action": "withdraw", "reason": "Covered by the national single-window programme."},
        {"action": "merge", "into": 3},
    ]})

    action: Annotated[str, documented("string", enum=_values(Transition))]
    reason: Reason | None = Field(None, description="Required for request_changes, return and withdraw.")
    into: int | None = Field(None, description="merge only: the recommendation to merge into.")


class DecisionRequest(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"decision": "approve", "revision": 2},
        {"decision": "object", "revision": 2, "reason": "Weekly meetings are too frequent."},
    ]})

    decision: Annotated[str, documented("string", enum=_values(Decision))]
    revision: int = Field(description="Must be the current revision.")
    reason: Reason | None = Field(None, description="Required to object.")


class NewThread(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"body": "Could small crossing points meet monthly instead?", "quote": "meets weekly"}
    ]})

    body: CommentText
    revision: int | None = Field(None, description="The revision the quote is from (default: current).")
    quote: Quote | None = Field(None, description="A passage of that revision.")


class NewComment(Body):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"body": "Agreed in principle; I will propose wording."}]}
    )

    body: CommentText


BODIES: tuple[type[Body], ...] = (
    TokenRequest, NewRecommendation, RecommendationEdit, TransitionRequest, DecisionRequest, NewThread, NewComment,
)


# -- query parameters ------------------------------------------------------------------------------


def _integer(raw: Any) -> Any:
    """ASCII digits with an optional sign: `int()` would also take "٣", " 1_0 " or "²"."""
    if isinstance(raw, str):
        if not re.fullmatch(r"[+-]?[0-9]{1,4000}", raw):  # 4300 digits is int()'s own limit
            raise PydanticCustomError("wrong_type", "must be an integer")
        return int(raw)
    return raw


def _time(raw: Any) -> Any:
    """An ISO 8601 time; one without a zone is UTC."""
    if not isinstance(raw, str):
        return raw
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise PydanticCustomError("wrong_type", "must be an ISO 8601 time") from None
    try:
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError:
        raise PydanticCustomError("out_of_range", "is out of range") from None


Integer = Annotated[int, BeforeValidator(_integer)]
Time = Annotated[datetime, BeforeValidator(_time)]


class Query(BaseModel):
    """A query string; an empty parameter counts as absent, unknown ones are ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    #: The message when a required parameter is missing (code `missing_parameter`).
    missing: ClassVar[str] = "Give every required parameter."

    def arguments(self) -> dict[str, Any]:
        return self.model_dump()


class Pagination(Query):
    page: Annotated[Integer, documented("integer", minimum=1, default=1)] = Field(
        1, description="The page number, from 1 (default 1)."
    )
    per_page: Annotated[Integer, documented("integer", minimum=1, maximum=MAX_PER_PAGE, default=50)] = Field(
        50, description=f"Items per page, 1 to {MAX_PER_PAGE} (default 50)."
    )


class RecommendationFilters(Pagination):
    state: Annotated[str, documented("string", enum=_values(State))] | None = Field(
        None, description="Only those in this state."
    )
    agency: str | None = Field(None, description="Only those proposed by the agency of this code.")
    process: Integer | None = Field(None, description="Only those of this process id.")
    q: str | None = Field(None, description="Only those whose title or text contains this, ignoring case.")


class AuditFilters(Pagination):
    recommendation: Integer | None = Field(None, description="Only the events of this recommendation id.")
    actor_name: str | None = Field(None, alias="actor", description="Only the events of this username.")
    action: str | None = Field(None, description="Only the events of this action.")
    since: Time | None = Field(None, description="Only events at or after this ISO 8601 time.")
    until: Time | None = Field(None, description="Only events before this ISO 8601 time.")


class DiffQuery(Query):
    missing: ClassVar[str] = "Give both revisions: ?from=a&to=b."

    old: Integer = Field(alias="from", description="The older revision's number.", examples=[1])
    new: Integer = Field(alias="to", description="The newer revision's number.", examples=[2])
