"""Reading the audit log: who may read which events, verifying the chain, exporting it."""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Select, func, not_, select
from sqlalchemy.orm import Session

from .. import audit
from ..actors import Actor
from ..audit_actions import ENGLISH_LABELS
from ..errors import InvalidInput
from ..models import AuditEvent, Recommendation
from ..policy import authorize_whole_log, reads_whole_log
from ..validation import clean_lookup, fits_db_int
from ..visibility import visible_clause
from ._common import Page, paginate

#: How many events an export reads (and hands on as one chunk) at a time.
EXPORT_BATCH = 1_000


_LAST_CHANGE = select(func.max(AuditEvent.seq))


def last_change(session: Session) -> int:
    """The sequence number of the latest audit event (0 before the first).

    Every change writes at least one event in its own transaction (`workflow.audit_rule`
    refuses a commit that changes data without one): most use cases write one, a save from a
    reopened conflict copy two (the edit, or the copy kept anew, and the old copy discarded), a
    password change that keeps its owner signed in two (the change, the new session). And
    sequence numbers only grow: so this number moves with every change and names the state of
    all the data. What
    is read at one number stays true until it moves (`web.answer_cache` relies on it). One
    lookup of the primary key's last entry.
    """
    return session.scalar(_LAST_CHANGE) or 0


@dataclass(frozen=True)
class EventFilters:
    """What narrows a reading of the log; every field is optional and they all combine."""

    recommendation: int | None = None
    actor_name: str | None = None
    actor_agency: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        """Refuse values that could name nothing stored (and that a database would fail on)."""
        if self.recommendation is not None and not fits_db_int(self.recommendation):
            raise InvalidInput("No such recommendation.", code="unknown_recommendation")
        for name in ("actor_name", "actor_agency", "action"):
            clean_lookup(getattr(self, name), name.replace("_", " "))
        for name in ("since", "until"):
            moment = getattr(self, name)
            if moment is None:
                continue
            try:
                object.__setattr__(self, name, moment.astimezone(UTC))
            except (OverflowError, ValueError):
                raise InvalidInput(f"The {name} time is out of range.", code="invalid_time") from None

    def apply(self, stmt: Select[AuditEvent]) -> Select[AuditEvent]:
        if self.recommendation is not None:
            stmt = stmt.where(AuditEvent.recommendation_id == self.recommendation)
        if self.actor_name:
            stmt = stmt.where(AuditEvent.actor == self.actor_name.strip().lower())
        if self.actor_agency:
            stmt = stmt.where(AuditEvent.actor_agency == self.actor_agency.strip().upper())
        if self.action:
            stmt = stmt.where(AuditEvent.action == self.action)
        if self.since is not None:
            stmt = stmt.where(AuditEvent.occurred_at >= self.since)
        if self.until is not None:
            stmt = stmt.where(AuditEvent.occurred_at < self.until)
        return stmt


def list_events(
    session: Session,
    actor: Actor,
    *,
    recommendation: int | None = None,
    actor_name: str | None = None,
    actor_agency: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    page: int = 1,
    per_page: int = 50,
) -> EventPage:
    """Events in chain order. Auditors and administrators read them all (administrators
    without the words of drafts they may not see); everyone else reads the events of the
    recommendations they may see."""
    stmt = select(AuditEvent)
    if not reads_whole_log(actor):
        visible = select(Recommendation.id).where(visible_clause(actor))
        stmt = stmt.where(AuditEvent.recommendation_id.in_(visible))
    filters = EventFilters(recommendation, actor_name, actor_agency, action, since, until)
    found = paginate(session, filters.apply(stmt).order_by(AuditEvent.seq), page=page, per_page=per_page)
    return _with_words_withheld(session, actor, found)


@dataclass(frozen=True)
class EventPage(Page[AuditEvent]):
    """A page of events, and the recommendations among theirs whose words the reader may not
    read (see `words_withheld`)."""

    withheld: frozenset[int] = frozenset()

    def withholds(self, event: AuditEvent) -> bool:
        return event.recommendation_id in self.withheld


def words_withheld(session: Session, actor: Actor, among: Collection[int] | None = None) -> frozenset[int]:
    """Recommendations (of `among`, or all) whose events an actor who reads the whole log reads
    without their words: the private drafts of other agencies, for an administrator. A draft is
    visible only to its proposing agency and to auditors (docs/design.md), and an administrator
    reads every event (docs/api.md): who did what and when, then, but not the reasons or quoted
    passages written in a draft they may not see."""
    if among is not None and not among:
        return frozenset()
    stmt = select(Recommendation.id).where(not_(visible_clause(actor)))
    if among is not None:
        stmt = stmt.where(Recommendation.id.in_(sorted(among)))
    return frozenset(session.scalars(stmt))


def _with_words_withheld(session: Session, actor: Actor, found: Page[AuditEvent]) -> EventPage:
    ids = {e.recommendation_id for e in found.items if e.recommendation_id is not None}
    withheld = words_withheld(session, actor, ids) if reads_whole_log(actor) else frozenset()
    return EventPage(found.items, found.page, found.per_page, found.total, withheld)


def verify(session: Session, actor: Actor) -> audit.Verification:
    authorize_whole_log(actor, to="verify the audit chain")
    return audit.verify_chain(session)


@dataclass(frozen=True)
class LogReading:
    """One page of the whole log as an auditor reads it: the chain's verification (when asked
    for), the events that match the filters, and the values the filters can take."""

    verification: audit.Verification | None
    events: EventPage
    actions: Sequence[str]
    agencies: Sequence[str]


def read_log(
    session: Session,
    actor: Actor,
    filters: EventFilters = EventFilters(),
    *,
    page: int = 1,
    per_page: int = 50,
    verify: bool = False,
) -> LogReading:
    """The whole log, filtered and paginated, with the chain verified if `verify` (auditors and
    administrators only: everyone else is refused, not shown a part of it).

    Verifying walks every event (about 3 s per million here), so it is done when asked for,
    not on every page of a long log."""
    authorize_whole_log(actor)
    events = _with_words_withheld(session, actor, paginate(
        session, filters.apply(select(AuditEvent)).order_by(AuditEvent.seq), page=page, per_page=per_page
    ))
    actions = session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)).all()
    agencies = [
        code
        for code in session.scalars(select(AuditEvent.actor_agency).distinct().order_by(AuditEvent.actor_agency))
        if code is not None  # the system's events
    ]
    verification = audit.verify_chain(session) if verify else None
    return LogReading(verification, events, actions, agencies)


def export_log(
    session: Session, actor: Actor, fmt: str, filters: EventFilters = EventFilters(),
    *, labels: Mapping[str, str] = ENGLISH_LABELS,
) -> Iterator[str]:
    """The filtered events as CSV or JSON lines, in chunks of text, for streaming.

    The permission and the format are checked at once, before anything is read; the events are
    then read in batches while the chunks are consumed, so the session must stay open until
    the iterator is exhausted or closed. The text is what `workflow.audit.export_events` writes,
    actions labelled from `labels` (the reader's language: the caller translates them).
    """
    authorize_whole_log(actor)
    if fmt not in audit.EXPORT_FORMATS:
        raise InvalidInput(
            f"Unknown export format {fmt!r}; one of: {', '.join(audit.EXPORT_FORMATS)}.",
            code="unknown_format",
        )
    stmt = filters.apply(select(AuditEvent)).order_by(AuditEvent.seq)
    withheld = words_withheld(session, actor)
    events = session.scalars(stmt.execution_options(yield_per=EXPORT_BATCH))
    return _export_chunks(events, fmt, withheld, labels)


def _export_chunks(
    events: Iterator[AuditEvent], fmt: str, withheld: frozenset[int], labels: Mapping[str, str]
) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=audit.EXPORT_COLUMNS) if fmt == "csv" else None
    if writer:
        writer.writeheader()
    pending = 0
    try:
        for event in events:
            withhold = event.recommendation_id in withheld
            if writer:
                writer.writerow(audit.csv_row(event, withhold=withhold, labels=labels))
            else:
                document = audit.event_document(event, withhold=withhold, labels=labels)
                buffer.write(audit.canonical_json(document) + "\n")
            pending += 1
            if pending == EXPORT_BATCH:
                yield _drain(buffer)
                pending = 0
        rest = _drain(buffer)
        if rest:
            yield rest
    finally:
        close = getattr(events, "close", None)
        if close:
            close()


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
