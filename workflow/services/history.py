"""Use cases behind the editor and the history pages: what the editor is prefilled with, saving
from it (a reopened conflict copy included), a preview through the sanitizer, the list of
revisions and the comparison of any two of them."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..actors import Actor
from ..diffing import DiffOp, word_diff
from ..errors import InvalidInput, NotFound
from ..models import Approval, ConflictCopy, Decision, Recommendation, Revision
from ..policy import Action, authorize
from ..rendering import render_markdown
from ..validation import clean_body
from ._common import Page, load_recommendation, paginate, render_ahead, rendered_html
from .recommendations import EditOutcome, discard_conflict_copy, edit_rendered, get_conflict_copy

__all__ = [
    "Comparison",
    "EditorForm",
    "History",
    "SaveResult",
    "TextComparison",
    "agency_approved_revision",
    "compare_revisions",
    "editor_form",
    "preview_markdown",
    "revision_history",
    "save_edit",
]

#: Revisions on one page of the history.
HISTORY_PER_PAGE = 50


def _joined(title: str, body: str) -> str:
    """A text version as one string, the way revisions are compared (title, blank line, body)."""
    return f"{title}\n\n{body}"


def _counts(ops: list[DiffOp]) -> tuple[int, int]:
    """How many changed passages insert and delete text."""
    return sum(1 for kind, _ in ops if kind == "insert"), sum(1 for kind, _ in ops if kind == "delete")


@dataclass(frozen=True)
class TextComparison:
    """The current revision next to a text of the actor's own (a conflict copy), word by word:
    `ops` go from the current revision to the actor's text."""

    current: Revision
    ops: list[DiffOp]

    @property
    def changed(self) -> bool:
        return any(kind != "equal" for kind, _ in self.ops)


def _current_revision(session: Session, rec: Recommendation) -> Revision:
    revision = session.scalar(
        select(Revision).where(Revision.recommendation_id == rec.id, Revision.number == rec.revision)
    )
    if revision is None:  # the schema keeps every revision; this is a broken database
        raise NotFound("No such revision of this recommendation.")
    return revision


def _compare_with_current(session: Session, rec: Recommendation, title: str, body: str) -> TextComparison:
    current = _current_revision(session, rec)
    return TextComparison(current, word_diff(_joined(current.title, current.body), _joined(title, body)))


@dataclass(frozen=True)
class EditorForm:
    """What the editor shows: the text to start from and the revision it was loaded from.

    With a reopened conflict copy, the copy's text is prefilled, the base is the current
    revision (the author merges by hand) and `comparison` shows what the current text says.
    """

    rec_id: int
    #: The recommendation's current title, for the page heading.
    heading: str
    title: str
    body: str
    summary: str
    #: A number, or the field exactly as posted when a refused save shows the form again.
    base_revision: int | str
    preview_html: str
    copy: ConflictCopy | None = None
    comparison: TextComparison | None = None


def editor_form(session: Session, actor: Actor, rec_id: int, copy_id: int | None = None) -> EditorForm:
    """The editor of a recommendation the actor may edit now, prefilled with the current text,
    or with their own conflict copy `copy_id` of it."""
    rec = load_recommendation(session, actor, rec_id)
    authorize(actor, rec, Action.edit)
    if copy_id is None:
        return EditorForm(
            rec_id=rec.id, heading=rec.title, title=rec.title, body=rec.body, summary="",
            base_revision=rec.revision, preview_html=rec.body_html,
        )
    copy = _own_copy(session, actor, rec, copy_id)
    return EditorForm(
        rec_id=rec.id, heading=rec.title, title=copy.title, body=copy.body, summary=copy.summary,
        base_revision=rec.revision, preview_html=render_markdown(copy.body), copy=copy,
        comparison=_compare_with_current(session, rec, copy.title, copy.body),
    )


def _own_copy(session: Session, actor: Actor, rec: Recommendation, copy_id: int) -> ConflictCopy:
    copy = get_conflict_copy(session, actor, copy_id)  # its author only
    if copy.recommendation_id != rec.id:
        raise NotFound("No such conflict copy of this recommendation.")
    return copy


@dataclass(frozen=True)
class SaveResult:
    """A save from the editor: the engine's outcome and, when the text clashed with a newer
    revision, the editor to show again, holding the kept copy's text on the current revision."""

    outcome: EditOutcome
    editor: EditorForm | None = None
    #: The conflict copy the save started from, now discarded (its text was saved or kept anew).
    settled_copy: int | None = None

    @property
    def conflict(self) -> ConflictCopy | None:
        return self.outcome.conflict


def save_edit(
    session: Session,
    actor: Actor,
    rec_id: int,
    *,
    title: str,
    body: str,
    summary: str,
    base_revision: int,
    copy_id: int | None = None,
) -> SaveResult:
    """Save the editor's text (see `edit_recommendation`). Saved from a reopened conflict copy,
    that copy is discarded once its text is saved, or kept anew as a newer conflict copy."""
    rendered = render_ahead(body, clean_body)  # before the lock: see render_ahead
    copy = None
    if copy_id is not None:
        rec = load_recommendation(session, actor, rec_id)
        authorize(actor, rec, Action.edit)  # a refusal says why, not "no such copy"
        copy = _own_copy(session, actor, rec, copy_id)
    outcome = edit_rendered(
        session, actor, rec_id, title=title, body=body, base_revision=base_revision, summary=summary,
        rendered=rendered,
    )
    settled = None
    if copy is not None and copy.discarded_at is None:
        discard_conflict_copy(session, actor, copy.id)
        settled = copy.id
    editor = None
    if outcome.conflict is not None:
        rec, kept = outcome.recommendation, outcome.conflict
        editor = EditorForm(
            rec_id=rec.id, heading=rec.title, title=kept.title, body=kept.body, summary=kept.summary,
            base_revision=rec.revision, preview_html=rendered_html(rendered, kept.body), copy=kept,
            comparison=_compare_with_current(session, rec, kept.title, kept.body),
        )
    return SaveResult(outcome, editor, settled)


def preview_markdown(text: object) -> str:
    """Markdown as the page will show it once saved: the same limits, the same sanitizer."""
    return render_markdown(clean_body(text))


def agency_approved_revision(session: Session, actor: Actor, rec: Recommendation) -> int | None:
    """The revision of the actor's agency's latest `approve` decision on `rec`, or None."""
    if actor.agency is None:
        return None
    return session.scalar(
        select(Approval.revision_number)
        .where(
            Approval.recommendation_id == rec.id,
            Approval.agency_id == actor.agency.id,
            Approval.decision == Decision.approve,
        )
        .order_by(Approval.id.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class History:
    """Every revision of a recommendation, newest first, a page at a time."""

    recommendation: Recommendation
    revisions: Page[Revision]
    #: The revision my agency last approved, if any.
    approved_revision: int | None = None

    @property
    def numbers(self) -> list[int]:
        """Every revision number, for choosing two to compare."""
        return list(range(self.recommendation.revision, 0, -1))

    @property
    def changed_since_approval(self) -> int | None:
        """The revision my agency approved when a later edit made that approval stale."""
        approved = self.approved_revision
        return approved if approved is not None and approved < self.recommendation.revision else None

    @property
    def pages(self) -> int:
        return max(1, -(-self.revisions.total // self.revisions.per_page))


def revision_history(session: Session, actor: Actor, rec_id: int, *, page: int = 1) -> History:
    rec = load_recommendation(session, actor, rec_id)
    stmt = (
        select(Revision)
        .where(Revision.recommendation_id == rec.id)
        .order_by(Revision.number.desc())
    )
    revisions = paginate(session, stmt, page=page, per_page=HISTORY_PER_PAGE)
    return History(rec, revisions, agency_approved_revision(session, actor, rec))


@dataclass(frozen=True)
class Comparison:
    """Two revisions of a recommendation, word by word from `old` to `new`."""

    recommendation: Recommendation
    old: Revision
    new: Revision
    ops: list[DiffOp] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(kind != "equal" for kind, _ in self.ops)

    @property
    def insertions(self) -> int:
        return _counts(self.ops)[0]

    @property
    def deletions(self) -> int:
        return _counts(self.ops)[1]

    @property
    def numbers(self) -> list[int]:
        return list(range(self.recommendation.revision, 0, -1))


def compare_revisions(session: Session, actor: Actor, rec_id: int, old: int, new: int) -> Comparison:
    """Revision `old` against revision `new` of a recommendation the actor may see."""
    rec = load_recommendation(session, actor, rec_id)
    for number in (old, new):
        if not 1 <= number <= rec.revision:
            raise InvalidInput(
                f"There is no revision {number}: this recommendation has revisions 1 to {rec.revision}.",
                code="unknown_revision",
            )
    found = {
        r.number: r
        for r in session.scalars(
            select(Revision).where(Revision.recommendation_id == rec.id, Revision.number.in_({old, new}))
        )
    }
    a, b = found.get(old), found.get(new)
    if a is None or b is None:
        raise NotFound("No such revision of this recommendation.")
    return Comparison(rec, a, b, word_diff(_joined(a.title, a.body), _joined(b.title, b.body)))
