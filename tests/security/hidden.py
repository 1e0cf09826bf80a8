"""Private drafts of one agency (KZ-BS), with everything that hangs off them, for the tests
that call every route as everyone else.

Three kinds of recommendation stay private to their agency (and auditors): a draft never
submitted, one withdrawn before it was ever submitted, and one sent back to draft by a request
for changes and then edited. Each carries its own marker in every text it has — title, body,
revision summaries, comments, conflict copies — so a marker found anywhere another agency can
read is a leak. The quoted passage and the reasons carry markers of their own (QUOTE, REASON):
those reach the audit log's payloads and reasons, which administrators read whole (docs/design.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from accord.workflow import services

from ..factories import World

#: In every text of the private drafts (titles, bodies, summaries, comments, conflict copies).
SECRET = "zqxsecret"
#: Only in the passage a thread quotes (also copied into the audit event's payload).
QUOTE = "zqxpassage"
#: Only in the reasons of the private drafts' transitions (also in their audit events).
REASON = "zqxreason"
MARKERS = (SECRET, QUOTE, REASON)

#: Ids that exist nowhere: what a hidden object must look exactly like.
MISSING_ID = 987_654


@dataclass
class Hidden:
    """The private drafts and what hangs off them, by id."""

    draft: int  # never submitted: two revisions, a conflict copy, two threads
    withdrawn: int  # withdrawn before it was ever submitted
    sent_back: int  # submitted, sent back to draft, edited: private again
    process: int
    threads: list[int] = field(default_factory=list)
    copies: list[int] = field(default_factory=list)

    @property
    def recommendations(self) -> list[int]:
        return [self.draft, self.withdrawn, self.sent_back]


def plant(session: Session, world: World) -> Hidden:
    """Private drafts of KZ-BS in the world's process, through the services."""
    body = (
        f"The agencies set up a {SECRET} joint unit.\n\n"
        f"Its {QUOTE} mandate covers the whole border.\n\n"
        f"It reports every quarter ({SECRET})."
    )
    draft = world.draft(session, title=f"Private plan {SECRET} one", body=body)
    expert, approver = world["kz_expert"], world["kz_approver"]
    services.edit_recommendation(
        session, expert, draft.id, title=draft.title, body=body.replace("every quarter", f"monthly {SECRET}"),
        base_revision=1, summary=f"Tightened {SECRET}",
    )
    # From revision 1 again, changing the same paragraph: kept as a conflict copy.
    conflict = services.edit_recommendation(
        session, expert, draft.id, title=draft.title, body=body.replace("every quarter", f"yearly {SECRET}"),
        base_revision=1, summary=f"Clashing {SECRET}",
    )
    assert conflict.conflict is not None
    first = services.start_thread(session, approver, draft.id, body=f"Why {SECRET}?", quote=f"Its {QUOTE} mandate")
    services.add_comment(session, expert, first.id, body=f"Because {SECRET}.")
    second = services.start_thread(session, expert, draft.id, body=f"Settled {SECRET}.")
    services.resolve_thread(session, approver, second.id)

    withdrawn = world.draft(session, title=f"Withdrawn {SECRET} two", body=f"Never sent {SECRET}.")
    world.fire(session, withdrawn, "withdraw", "kz_expert", reason=f"Dropped {REASON}.")

    sent_back = world.draft(session, title="Border crossings, published once", body="Open text, seen in review.")
    world.fire(session, sent_back, "submit", "kz_expert")
    world.fire(session, sent_back, "request_changes", "kz_approver", reason=f"Rework {REASON}.")
    services.edit_recommendation(
        session, expert, sent_back.id, title=f"Reworked {SECRET} three", body=f"Reworked text {SECRET}.",
        base_revision=1, summary=f"Rework {SECRET}",
    )
    session.flush()
    return Hidden(
        draft=draft.id, withdrawn=withdrawn.id, sent_back=sent_back.id, process=world.process.id,
        threads=[first.id, second.id], copies=[conflict.conflict.id],
    )


#: Users of other agencies in roles the world lacks: a national expert outside the process, an
#: administrator of an agency outside it, and one person holding both national roles.
MORE_OUTSIDERS = {
    "tj_expert": ("TJ-BS", ["national_expert"]),
    "ee_admin": ("EE-ASS", ["admin"]),
    "kg_both": ("KG-BS", ["national_expert", "approver"]),
}


def plant_public(session: Session, world: World) -> None:
    """Things every participant sees, so that listings are not trivially empty; and the
    outsiders the world lacks."""
    from accord.workflow.actors import SYSTEM
    from accord.workflow.states import State

    from ..factories import PASSWORD

    for username, (agency, roles) in MORE_OUTSIDERS.items():
        world.users[username] = services.add_user(
            session, SYSTEM, username=username, agency_code=agency, roles=roles, password=PASSWORD
        )

    review = world.bring_to(session, State.national_review, title="Joint patrols in review")
    thread = services.start_thread(session, world["kg_approver"], review.id, body="Which sections?")
    services.add_comment(session, world["kz_expert"], thread.id, body="The eastern ones.")
    world.bring_to(session, State.expert_consolidation, title="Shared risk analysis", approved=True)
    world.draft(session, by="kg_expert", title="A draft of Kyrgyzstan's own")
