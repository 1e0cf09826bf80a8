"""Use cases of a recommendation's life: create, edit, transitions, and reading it back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, bindparam, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.interfaces import ORMOption

from .. import audit
from .. import audit_payloads as payloads
from ..actors import Actor
from ..audit_actions import AuditAction
from ..diffing import DiffOp, word_diff
from ..errors import Conflict, InvalidInput, NotFound
from ..merging import merge_field, merge_texts
from ..models import Agency, ConflictCopy, Process, Recommendation, Revision, content_hash, utcnow
from ..policy import Action, authorize, authorize_create
from ..states import REASON_REQUIRED, State, Transition, fire
from ..validation import (
    clean_body,
    clean_lookup,
    clean_reason,
    clean_summary,
    clean_title,
    fits_db_int,
    is_clean,
)
from ..visibility import visible_clause
from ._common import RECOMMENDATION_LOADING, Page, load_recommendation, paginate, render_ahead, rendered_html


def _save_revision(
    session: Session,
    actor: Actor,
    rec: Recommendation,
    *,
    title: str,
    body: str,
    summary: str,
    base_number: int | None,
    rendered: Mapping[str, str],
) -> Revision:
    """The one place a recommendation's text changes: a new immutable revision, copied onto
    the recommendation for lists and search. Its HTML was rendered before the transaction took
    its lock (see render_ahead), once per revision."""
    number = rec.revision + 1
    html = rendered_html(rendered, body)
    revision = Revision(
        number=number,
        title=title,
        body=body,
        body_html=html,
        summary=summary,
        author_id=actor.id,
        state=rec.state,
        base_number=base_number,
    )
    rec.title, rec.body, rec.body_html, rec.revision = title, body, html, number
    rec.updated_at = revision.created_at = utcnow()
    if rec.id is None:
        session.add(rec)
        session.flush()
    revision.recommendation_id = rec.id
    session.add(revision)
    return revision


def _agencies_by_code(session: Session, codes: object, process: Process) -> list[Agency]:
    if not isinstance(codes, list | tuple) or not all(isinstance(c, str) for c in codes):
        raise InvalidInput("addressed_agencies must be a list of agency codes.", code="invalid_type")
    wanted = list(dict.fromkeys(codes))
    unusable = [code for code in wanted if not is_clean(code)]
    if unusable:
        raise InvalidInput("An agency code contains characters that are not allowed.", code="unknown_agency")
    found = {a.code: a for a in session.scalars(select(Agency).where(Agency.code.in_(wanted)))}
    unknown = [code for code in wanted if code not in found]
    if unknown:
        raise InvalidInput(f"Unknown agency: {', '.join(unknown)}.", code="unknown_agency")
    taking_part = {a.id for a in process.agencies}
    outside = [code for code in wanted if found[code].id not in taking_part]
    if outside:
        raise InvalidInput(
            f"Not taking part in this process: {', '.join(outside)}.", code="agency_not_in_process"
        )
    return [found[code] for code in wanted]


def create_recommendation(
    session: Session,
    actor: Actor,
    *,
    process_id: int,
    title: str,
    body: str,
    addressed_agencies: Sequence[str] = (),
    summary: str = "",
) -> Recommendation:
    """A national expert drafts a recommendation for their own agency; it starts at revision 1."""
    rendered = render_ahead(body, clean_body)  # before the first statement: see render_ahead
    process = session.get(Process, process_id) if fits_db_int(process_id) else None
    if process is None:
        raise InvalidInput("No such process.", code="unknown_process")
    authorize_create(actor, process)
    title, body = clean_title(title), clean_body(body)
    summary = clean_summary(summary) or "First draft"
    addressed = _agencies_by_code(session, addressed_agencies, process)
    assert actor.agency is not None  # authorize_create admits only members of an agency
    # The actor may come from another session (a login cache): use this session's own rows.
    proposing = session.get_one(Agency, actor.agency.id)
    if proposing not in addressed:
        addressed.append(proposing)
    addressed.sort(key=lambda agency: agency.code)  # as the relationship loads them
    rec = Recommendation(
        process=process,
        proposing_agency=proposing,
        created_by_id=actor.id,
        state=State.draft,
        addressed_agencies=addressed,
        revision=0,
        created_at=utcnow(),
    )
    revision = _save_revision(
        session, actor, rec, title=title, body=body, summary=summary, base_number=None,
        rendered=rendered,
    )
    audit.record(
        session,
        actor,
        AuditAction.create,
        recommendation=rec,
        to_state=rec.state,
        revision=revision.number,
        payload=payloads.recommendation_created(
            process.id, (a.code for a in addressed), revision.content_hash
        ),
    )
    return rec


@dataclass(frozen=True)
class EditOutcome:
    """What became of an edit: a new revision (perhaps merged), no change, or a conflict copy."""

    recommendation: Recommendation
    revision: Revision | None = None
    merged: bool = False
    conflict: ConflictCopy | None = None

    @property
    def saved(self) -> bool:
        return self.revision is not None


def edit_recommendation(
    session: Session,
    actor: Actor,
    rec_id: int,
    *,
    title: str,
    body: str,
    base_revision: int,
    summary: str = "",
) -> EditOutcome:
    """Save new text started from `base_revision`.

    If someone saved since, the two changes are merged three-way when they touch different
    passages. When they overlap, nothing is saved to the recommendation: the author's text is
    kept as a conflict copy (with its own audit event) and returned in `outcome.conflict`.
    Saving text identical to the current revision makes no revision: it would only make
    approvals stale.
    """
    return edit_rendered(
        session, actor, rec_id, title=title, body=body, base_revision=base_revision, summary=summary,
        rendered=render_ahead(body, clean_body),  # before the lock: see render_ahead
    )


def edit_rendered(
    session: Session,
    actor: Actor,
    rec_id: int,
    *,
    title: str,
    body: str,
    base_revision: int,
    summary: str,
    rendered: Mapping[str, str],
) -> EditOutcome:
    """`edit_recommendation`, the body already rendered by the caller with `render_ahead`."""
    rec = load_recommendation(session, actor, rec_id, lock=True)
    authorize(actor, rec, Action.edit)
    title, body, summary = clean_title(title), clean_body(body), clean_summary(summary)
    if not isinstance(base_revision, int) or not 1 <= base_revision <= rec.revision:
        raise InvalidInput(
            f"base_revision must be a revision of this recommendation (1 to {rec.revision}).",
            code="unknown_revision",
        )
    merged = False
    if base_revision != rec.revision:
        base = _revision(session, rec, base_revision)
        merged_title = merge_field(base.title, title, rec.title)
        merged_body = merge_texts(base.body, body, rec.body)
        if merged_title is None or not merged_body.clean:
            return EditOutcome(rec, conflict=_keep_conflict_copy(
                session, actor, rec, title=title, body=body, summary=summary, base=base_revision
            ))
        title, body, merged = merged_title, merged_body.text or "", True
    if title == rec.title and body == rec.body:
        return EditOutcome(rec)
    previous = rec.revision
    revision = _save_revision(
        session, actor, rec, title=title, body=body,
        summary=summary or ("Merged edit" if merged else "Edit"), base_number=base_revision,
        rendered=rendered,
    )
    audit.record(
        session,
        actor,
        AuditAction.edit,
        recommendation=rec,
        revision=revision.number,
        payload=payloads.recommendation_edited(
            previous_revision=previous, base_revision=base_revision, merged=merged,
            content_hash=revision.content_hash,
        ),
    )
    return EditOutcome(rec, revision=revision, merged=merged)


def _keep_conflict_copy(
    session: Session, actor: Actor, rec: Recommendation, *, title: str, body: str, summary: str, base: int
) -> ConflictCopy:
    copy = ConflictCopy(
        recommendation_id=rec.id,
        author_id=actor.id,
        base_revision=base,
        conflicting_revision=rec.revision,
        title=title,
        body=body,
        summary=summary,
        created_at=utcnow(),
    )
    session.add(copy)
    session.flush()
    audit.record(
        session,
        actor,
        AuditAction.edit_conflict,
        recommendation=rec,
        revision=rec.revision,
        payload=payloads.edit_conflicted(base_revision=base, conflict_copy_id=copy.id),
    )
    return copy


def perform_transition(
    session: Session,
    actor: Actor,
    rec_id: int,
    action: str,
    *,
    reason: str | None = None,
    into: int | None = None,
) -> Recommendation:
    """Fire one transition of the state machine, as the policy allows, with its audit event."""
    try:
        transition = Transition(action)
    except ValueError:
        known = ", ".join(t.value for t in Transition)
        raise InvalidInput(f"Unknown action {action!r}; one of: {known}.", code="unknown_action") from None
    rec = load_recommendation(session, actor, rec_id, lock=True)
    authorize(actor, rec, Action(transition.value))
    reason = clean_reason(reason, required=transition in REASON_REQUIRED)
    target = None
    if transition is Transition.merge:
        target = _merge_target(session, actor, into)
    from_state, to_state = fire(rec, transition, into=target)
    now = utcnow()
    rec.updated_at = now
    approvals = None
    if transition is Transition.submit and rec.submitted_at is None:
        rec.submitted_at = now
    elif transition is Transition.merge:
        assert target is not None
        rec.merged_into = target
    elif transition is Transition.adopt:
        approvals = [(a.agency.code, a.id, a.revision_number) for a in rec.standing_decisions().values()]
    payload = payloads.transitioned(
        content_hash(rec.title, rec.body), into=target.id if target is not None else None,
        approvals=approvals,
    )
    audit.record(
        session,
        actor,
        AuditAction(transition),
        recommendation=rec,
        from_state=from_state,
        to_state=to_state,
        revision=rec.revision,
        reason=reason,
        payload=payload,
    )
    return rec


def _merge_target(session: Session, actor: Actor, into: object) -> Recommendation:
    if into is None:
        raise InvalidInput("Name the recommendation to merge into.", code="into_required")
    if not isinstance(into, int) or isinstance(into, bool):
        raise InvalidInput("into must be a recommendation id.", code="invalid_type")
    try:
        return load_recommendation(session, actor, into, lock=True)
    except NotFound:
        raise InvalidInput("No such recommendation to merge into.", code="unknown_target") from None


def get_recommendation(session: Session, actor: Actor, rec_id: int) -> Recommendation:
    return load_recommendation(session, actor, rec_id)


def list_recommendations(
    session: Session,
    actor: Actor,
    *,
    state: str | None = None,
    agency: str | None = None,
    process: int | None = None,
    q: str | None = None,
    page: int = 1,
    per_page: int = 50,
    loading: Sequence[ORMOption] = RECOMMENDATION_LOADING,
) -> Page[Recommendation]:
    """Recommendations the actor may see, filtered, newest change first; `loading` says what
    of each to load (by default all that the API shows)."""
    conditions = listing_conditions(session, actor, state=state, agency=agency, process=process, q=q)
    stmt = select(Recommendation).where(*conditions).options(*loading).order_by(*LISTING_ORDER)
    return paginate(session, stmt, page=page, per_page=per_page)


#: The order of every list of recommendations: newest change first.
LISTING_ORDER = (Recommendation.updated_at.desc(), Recommendation.id.desc())


def listing_conditions(
    session: Session,
    actor: Actor,
    *,
    state: str | None = None,
    agency: str | None = None,
    process: int | None = None,
    q: str | None = None,
) -> list[ColumnElement[bool]]:
    """The WHERE clauses of a list of recommendations: what the actor may see, filtered."""
    q, agency, state = clean_lookup(q, "search"), clean_lookup(agency, "agency"), clean_lookup(state, "state")
    if process is not None and not fits_db_int(process):
        raise InvalidInput("No such process.", code="unknown_process")
    conditions = [visible_clause(actor)]
    if state:
        try:
            conditions.append(Recommendation.state == State(state))
        except ValueError:
            raise InvalidInput(f"Unknown state {state!r}.", code="unknown_state") from None
    if agency:
        agency_id = session.scalar(select(Agency.id).where(Agency.code == agency.strip().upper()))
        if agency_id is None:
            raise InvalidInput(f"Unknown agency {agency!r}.", code="unknown_agency")
        conditions.append(Recommendation.proposing_agency_id == agency_id)
    if process is not None:
        conditions.append(Recommendation.process_id == process)
    if q and q.strip():
        pattern = "%" + _escape_like(q.strip()) + "%"
        conditions.append(
            or_(
                Recommendation.title.ilike(pattern, escape="\\"),
                Recommendation.body.ilike(pattern, escape="\\"),
            )
        )
    return conditions


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _revision(session: Session, rec: Recommendation, number: int) -> Revision:
    if not fits_db_int(number):
        raise NotFound(f"No revision {number} of this recommendation.")
    revision = session.scalar(
        select(Revision).where(Revision.recommendation_id == rec.id, Revision.number == number)
    )
    if revision is None:
        raise NotFound(f"No revision {number} of this recommendation.")
    return revision


def list_revisions(
    session: Session, actor: Actor, rec_id: int, *, page: int = 1, per_page: int = 50
) -> Page[Revision]:
    rec = load_recommendation(session, actor, rec_id)
    stmt = select(Revision).where(Revision.recommendation_id == rec.id).order_by(Revision.number)
    return paginate(session, stmt, page=page, per_page=per_page)


def get_revision(session: Session, actor: Actor, rec_id: int, number: int) -> Revision:
    return _revision(session, load_recommendation(session, actor, rec_id), number)


def diff_revisions(
    session: Session, actor: Actor, rec_id: int, old: int, new: int
) -> list[DiffOp]:
    """Word-level changes from revision `old` to revision `new` (title and body)."""
    rec = load_recommendation(session, actor, rec_id)
    a, b = _revision(session, rec, old), _revision(session, rec, new)
    return word_diff(f"{a.title}\n\n{a.body}", f"{b.title}\n\n{b.body}")


def list_conflict_copies(session: Session, actor: Actor, rec_id: int) -> list[ConflictCopy]:
    """The actor's own conflict copies of this recommendation that they have not discarded."""
    return kept_conflict_copies(session, actor, load_recommendation(session, actor, rec_id))


#: Built once: every view of a recommendation's page asks (`rec_id`, `author_id` bound per call).
_KEPT_COPIES = (
    select(ConflictCopy)
    .where(
        ConflictCopy.recommendation_id == bindparam("rec_id"),
        ConflictCopy.author_id == bindparam("author_id"),
        ConflictCopy.discarded_at.is_(None),
    )
    .order_by(ConflictCopy.id)
)


def kept_conflict_copies(session: Session, actor: Actor, rec: Recommendation) -> list[ConflictCopy]:
    return list(session.scalars(_KEPT_COPIES, {"rec_id": rec.id, "author_id": actor.id}))


def get_conflict_copy(session: Session, actor: Actor, copy_id: int) -> ConflictCopy:
    """A conflict copy, to reopen in the editor; only its author sees it."""
    copy = session.get(ConflictCopy, copy_id) if fits_db_int(copy_id) else None
    if copy is None or copy.author_id != actor.id:
        raise NotFound("No such conflict copy.")
    load_recommendation(session, actor, copy.recommendation_id)
    return copy


def discard_conflict_copy(session: Session, actor: Actor, copy_id: int) -> ConflictCopy:
    copy = get_conflict_copy(session, actor, copy_id)
    if copy.discarded_at is not None:
        raise Conflict("This conflict copy was already discarded.", code="already_discarded")
    copy.discarded_at = utcnow()
    audit.record(
        session, actor, AuditAction.conflict_copy_discard,
        recommendation=session.get(Recommendation, copy.recommendation_id),
        payload=payloads.conflict_copy_discarded(copy.id),
    )
    return copy
