"""Use cases. Each takes a session, an actor and plain arguments, and runs inside the caller's
single transaction, writing its audit event in that same transaction. Nothing here commits."""

from ._common import Page
from .admin import add_agency, add_process, add_user, set_user_active
from .approvals import record_decision
from .audit_log import last_change, list_events, verify
from .auth import (
    authenticate,
    find_token,
    issue_token,
    needs_touch,
    revoke_token,
    sign_in,
    touch_token,
)
from .inbox import Inbox, NextStep, inbox
from .overview import (
    Overview,
    ProcessListing,
    new_recommendation_form,
    process_listing,
    recommendation_overview,
)
from .recommendations import (
    EditOutcome,
    create_recommendation,
    diff_revisions,
    discard_conflict_copy,
    edit_recommendation,
    get_conflict_copy,
    get_recommendation,
    get_revision,
    list_conflict_copies,
    list_recommendations,
    list_revisions,
    perform_transition,
)
from .reference import list_agencies, list_processes
from .sign_in_limits import check_sign_in_allowed
from .threads import add_comment, list_threads, reopen_thread, resolve_thread, start_thread

__all__ = [
    "EditOutcome",
    "Inbox",
    "NextStep",
    "Overview",
    "Page",
    "ProcessListing",
    "add_agency",
    "add_comment",
    "add_process",
    "add_user",
    "authenticate",
    "check_sign_in_allowed",
    "find_token",
    "issue_token",
    "last_change",
    "needs_touch",
    "revoke_token",
    "sign_in",
    "touch_token",
    "create_recommendation",
    "diff_revisions",
    "discard_conflict_copy",
    "edit_recommendation",
    "get_conflict_copy",
    "get_recommendation",
    "get_revision",
    "inbox",
    "list_agencies",
    "list_conflict_copies",
    "list_events",
    "list_recommendations",
    "list_processes",
    "list_revisions",
    "list_threads",
    "new_recommendation_form",
    "perform_transition",
    "process_listing",
    "recommendation_overview",
    "record_decision",
    "reopen_thread",
    "resolve_thread",
    "set_user_active",
    "start_thread",
    "verify",
]
