"""An addressed agency approves or objects to the exact text of one revision."""

from __future__ import annotations

from sqlalchemy.orm import Session

from .. import audit
from .. import audit_payloads as payloads
from ..actors import Actor
from ..audit_actions import AuditAction
from ..errors import Conflict, InvalidInput
from ..models import Approval, Decision, content_hash, utcnow
from ..policy import Action, authorize, repeats_standing_decision
from ..validation import clean_reason
from ._common import load_recommendation


def record_decision(
    session: Session,
    actor: Actor,
    rec_id: int,
    decision: str,
    *,
    revision: int,
    reason: str | None = None,
) -> Approval:
    """Record the actor's agency's decision on `revision`, which must be the current one.

    An objection needs a reason. A decision replaces the agency's earlier one; repeating the
    decision that already stands on the same revision is refused, as it would change nothing.
    """
    try:
        choice = Decision(decision)
    except ValueError:
        raise InvalidInput("The decision is either approve or object.", code="unknown_decision") from None
    rec = load_recommendation(session, actor, rec_id, lock=True)
    authorize(actor, rec, Action(choice.value))
    reason = clean_reason(reason, required=choice is Decision.object)
    if not isinstance(revision, int) or isinstance(revision, bool):
        raise InvalidInput("revision must be a revision number.", code="invalid_type")
    if revision != rec.revision:
        raise Conflict(
            f"Revision {revision} is not the current one; the text is now at revision "
            f"{rec.revision}. Read it before deciding.",
            code="stale_revision",
        )
    assert actor.agency is not None  # the policy admits only approvers of an addressed agency
    if repeats_standing_decision(actor, rec, Action(choice.value)):
        raise Conflict(
            f"Your agency's decision on revision {revision} is already “{choice.value}”.",
            code="already_decided",
        )
    approval = Approval(
        recommendation=rec,
        agency_id=actor.agency.id,
        decision=choice,
        revision_number=revision,
        reason=reason,
        user_id=actor.id,
        created_at=utcnow(),
    )
    session.add(approval)
    audit.record(
        session,
        actor,
        AuditAction(choice),
        recommendation=rec,
        revision=revision,
        reason=reason,
        payload=payloads.decided(content_hash(rec.title, rec.body)),
    )
    return approval
