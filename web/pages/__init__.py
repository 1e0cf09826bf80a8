"""The HTML pages. Each view parses the request, calls one `workflow` service, renders a
template; what a person may do is asked of the policy, never decided here or in a template."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from accord.workflow.errors import DomainError
from accord.workflow.policy import is_admin, reads_whole_log

from ..api.errors import STATUS

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


#: How a decision reads once taken, in the list of decisions on a recommendation's page.
ACTION_DONE = {
    "create": _l("Drafted"),
    "submit": _l("Submitted for national review"),
    "request_changes": _l("Changes requested"),
    "endorse": _l("Endorsed"),
    "return": _l("Returned to national review"),
    "adopt": _l("Adopted"),
    "merge": _l("Merged"),
    "withdraw": _l("Withdrawn"),
}


@blueprint.app_context_processor
def labels() -> dict[str, Any]:
    return {"action_labels": ACTION_LABELS, "state_labels": STATE_LABELS, "action_done": ACTION_DONE}


def refused(error: DomainError, *, kept_text: str | None = None) -> tuple[str, int]:
    """A refused action, as a page: the sentence, the status, a way back. Nothing changed.

    `kept_text` is what the person typed, shown back so it is not lost with the refusal.
    """
    status = next(s for cls, s in STATUS.items() if isinstance(error, cls))
    back = request.referrer if request.referrer and request.referrer.startswith(request.host_url) else None
    return render_template(
        "pages/refused.html", error=error, status=status, back=back, kept_text=kept_text
    ), status


def init_app(app: Flask) -> None:
    from . import admin, audit, auth, editor, history, inbox, processes, recommendations  # noqa: F401  (routes)

    app.register_blueprint(blueprint)

    @app.errorhandler(CSRFError)
    def csrf_refused(error: CSRFError) -> Response | tuple[str, int]:
        if request.path.startswith("/api/"):
            from ..api.errors import error_response

            return error_response(400, "csrf", error.description)
        message = _("This form has expired or did not come from Accord. Reload the page and try again.")
        return render_template("pages/refused.html", error=None, status=400, message=message, back=None), 400

    # HTTP errors of the pages as pages (Werkzeug's own are bare); the API answers them in JSON.
    page_messages = {
        404: _l("There is nothing at this address."),
        405: _l("This address does not accept that kind of request."),
        413: _l("What you sent is larger than Accord accepts (%(megabytes)s MB at most)."),
    }

    def http_error_page(error: HTTPException) -> Response | tuple[str, int]:
        if request.path.startswith("/api/"):
            from ..api.errors import http_error_response

            return http_error_response(error)
        back = request.referrer if request.referrer and request.referrer.startswith(request.host_url) else None
        limit = app.config.get("MAX_CONTENT_LENGTH") or 0
        message = str(page_messages[error.code]) % {"megabytes": limit // 2**20}
        return render_template("pages/refused.html", error=None, status=error.code,
                               message=message, back=back), error.code

    for status in page_messages:
        app.register_error_handler(status, http_error_page)
