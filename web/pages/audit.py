"""The audit page: the whole chain, its verification, filters, and exports (auditors and
administrators; the service refuses everyone else)."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import Response, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from accord.workflow.errors import InvalidInput
from accord.workflow.services.audit_log import EventFilters, export_log, read_log

from . import audit_labels_now, blueprint
from .context import database, me
from .fields import whole_number

PER_PAGE = 50

#: Filter fields as they appear in the query string, in the order of the form.
FILTER_FIELDS = ("recommendation", "actor", "agency", "action", "from", "to")

EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/x-ndjson; charset=utf-8",
}


def _raw_filters() -> dict[str, str]:
    """The filters as typed: kept to refill the form and to carry into links."""
    return {name: request.args.get(name, "").strip() for name in FILTER_FIELDS}


def _day(raw: str, label: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(_("%(field)s is not a date; write it as YYYY-MM-DD.", field=label)) from None


def _parse_filters(raw: dict[str, str]) -> EventFilters:
    """The query string as service filters: dates are whole UTC days, both ends included."""
    # "#12" as the pages write it, or 12
    recommendation = whole_number(raw["recommendation"].removeprefix("#"), _l("The recommendation"))
    since, until = _day(raw["from"], _("From")), _day(raw["to"], _("To"))
    return EventFilters(
        recommendation=recommendation,
        actor_name=raw["actor"] or None,
        actor_agency=raw["agency"] or None,
        action=raw["action"] or None,
        since=datetime.combine(since, time.min, UTC) if since else None,
        # the end day is included: until the start of the next one (no end after the last day)
        until=datetime.combine(until + timedelta(days=1), time.min, UTC) if until and until < date.max else None,
    )


@blueprint.get("/audit")
@login_required
def audit() -> ResponseReturnValue:
    """The chain's events in order, filtered and paginated; with ?verify=1, the chain's
    verification on top (it walks every event, so it is a button, not part of every view)."""
    raw = _raw_filters()
    active: dict[str, Any] = {name: value for name, value in raw.items() if value}
    filters, page = _parse_filters(raw), whole_number(request.args.get("page"), _l("The page"), default=1)
    with database().read() as session:
        reading = read_log(
            session, me(), filters, page=page, per_page=PER_PAGE, verify=request.args.get("verify") == "1"
        )
        pages = max(1, -(-reading.events.total // PER_PAGE))
        return render_template(
            "pages/audit.html", reading=reading, filters=raw, active=active, pages=pages
        )


@blueprint.get("/audit/export.<any(csv, jsonl):fmt>")
@login_required
def audit_export(fmt: str) -> ResponseReturnValue:
    """The filtered events as a CSV or JSON-lines download, streamed as they are read."""
    filters = _parse_filters(_raw_filters())
    stack = ExitStack()
    try:
        session = stack.enter_context(database().read())
        chunks = export_log(session, me(), fmt, filters, labels=audit_labels_now())
    except BaseException:  # a refusal too: the session ends, the refused page answers
        stack.close()
        raise
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    response = Response(chunks, mimetype=None, content_type=EXPORT_TYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="accord-audit-{stamp}.{fmt}"'
    response.headers["Cache-Control"] = "no-store"
    # The session stays open while the body streams; closing the response ends it.
    response.call_on_close(stack.close)
    return response
