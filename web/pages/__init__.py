"""The HTML pages. Each view parses the request, calls one `workflow` service, renders a
template; what a person may do is asked of the policy, never decided here or in a template."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from accord.workflow.audit_actions import AuditAction
from accord.workflow.policy import is_admin, reads_whole_log

blueprint = Blueprint("pages", __name__, template_folder="../templates")


@blueprint.app_context_processor
def navigation() -> dict[str, Any]:
    """Which sections the navigation offers: the same rules the services enforce."""
    if not current_user.is_authenticated:
        return {"nav": {"audit": False, "admin": False}}
    return {"nav": {"audit": reads_whole_log(current_user), "admin": is_admin(current_user)}}


#: What each action's button says.
ACTION_LABELS = {
    "edit": _l("Edit the text"),
    "submit": _l("Submit for national review"),
    "endorse": _l("Endorse for expert consolidation"),
    "request_changes": _l("Request changes"),
    "approve": _l("Approve this revision"),
    "object": _l("Object"),
    "adopt": _l("Adopt"),
    "return": _l("Return to national review"),
    "merge": _l("Merge into another recommendation"),
    "withdraw": _l("Withdraw"),
    "comment": _l("Comment"),
}

STATE_LABELS = {
    "draft": _l("Draft"),
    "national_review": _l("National review"),
    "expert_consolidation": _l("Expert consolidation"),
    "adopted": _l("Adopted"),
    "withdrawn": _l("Withdrawn"),
    "merged": _l("Merged"),
}


#: How each kind of audit event reads (its action's label, translated), by stored action: in
#: the decisions on a recommendation's page and on the audit page.
AUDIT_LABELS = {action.value: _l(action.label) for action in AuditAction}


def audit_labels_now() -> dict[str, str]:
    """Every action's label in this request's language, as plain text (for an export, which is
    written after the view returns)."""
    return {action.value: _(action.label) for action in AuditAction}


@blueprint.app_context_processor
def labels() -> dict[str, Any]:
    return {"action_labels": ACTION_LABELS, "state_labels": STATE_LABELS, "audit_labels": AUDIT_LABELS}


def init_app(app: Flask) -> None:
    from . import admin, audit, auth, editor, history, inbox, processes, recommendations  # noqa: F401  (routes)

    app.register_blueprint(blueprint)
