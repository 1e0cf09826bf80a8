"""The tables of Accord, one family per module."""

from .agencies import Agency, AgencyKind
from .approvals import Approval, Decision
from .audit import AuditEvent
from .auth import Credential, CredentialKind, SignInFailure
from .base import Base, utcnow
from .processes import Process, process_agencies
from .recommendations import Recommendation, recommendation_addressees
from .revisions import ConflictCopy, Revision, content_hash
from .threads import Comment, Thread
from .users import ROLE_AGENCY_KINDS, Role, User, UserRole

__all__ = [
    "ROLE_AGENCY_KINDS",
    "Agency",
    "AgencyKind",
    "Approval",
    "AuditEvent",
    "Base",
    "Comment",
    "ConflictCopy",
    "Credential",
    "CredentialKind",
    "Decision",
    "Process",
    "Recommendation",
    "Revision",
    "Role",
    "SignInFailure",
    "Thread",
    "User",
    "UserRole",
    "content_hash",
    "process_agencies",
    "recommendation_addressees",
    "utcnow",
]
