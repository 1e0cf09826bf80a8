"""Every kind of audit event, declared once: the action stored in each event and the label people
read on pages and in exports.

The values are the action strings of the events already in the chain, whose hashes cover them:
a value is never changed, only new ones added. The labels are English msgids: `workflow/` stays
Flask-free, so the web layer passes them through gettext (babel.cfg extracts this module, `N_`
marks them); the command line writes them in English.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping


def N_(message: str) -> str:  # noqa: N802  (gettext's name for a marker, which babel.cfg looks for)
    """Marks an English text for the translators' catalogue; it is translated where shown."""
    return message


class AuditAction(enum.StrEnum):
    """An audit event's action: the stored value, and `label`, how people read it."""

    label: str

    # `label` has a default only so that AuditAction(value), the lookup of a member by its
    # value, type-checks (mypy reads it as a call of __new__); every member names its label.
    def __new__(cls, value: str, label: str = "") -> AuditAction:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    # A recommendation's text (services/recommendations.py)
    create = "create", N_("Drafted")
    edit = "edit", N_("Edited")
    edit_conflict = "edit_conflict", N_("Edit kept as a conflict copy")
    conflict_copy_discard = "conflict_copy.discard", N_("Conflict copy discarded")
    # Its transitions: the same names as states.Transition
    submit = "submit", N_("Submitted for national review")
    request_changes = "request_changes", N_("Changes requested")
    endorse = "endorse", N_("Endorsed")
    return_ = "return", N_("Returned to national review")
    adopt = "adopt", N_("Adopted")
    merge = "merge", N_("Merged")
    withdraw = "withdraw", N_("Withdrawn")
    # An agency's decision on a revision: the same names as models.Decision
    approve = "approve", N_("Approved")
    object = "object", N_("Objected")
    # Discussion (services/threads.py)
    thread_start = "thread.start", N_("Thread started")
    comment = "comment", N_("Commented")
    thread_resolve = "thread.resolve", N_("Thread resolved")
    thread_reopen = "thread.reopen", N_("Thread reopened")
    # Administration (services/admin.py, services/auth.py)
    agency_add = "agency.add", N_("Agency added")
    process_add = "process.add", N_("Process added")
    user_add = "user.add", N_("User added")
    user_enable = "user.enable", N_("Account enabled")
    user_disable = "user.disable", N_("Account disabled")
    user_password_change = "user.password_change", N_("Password changed")
    user_set_password = "user.set_password", N_("Password set by an administrator")
    # Signing in and out (services/auth.py)
    session_start = "session.start", N_("Signed in")
    session_end = "session.end", N_("Signed out")
    token_issue = "token.issue", N_("API token issued")
    token_revoke = "token.revoke", N_("API token revoked")


#: Each action's English label, by stored value: what the command line's export writes.
ENGLISH_LABELS: Mapping[str, str] = {action.value: action.label for action in AuditAction}
