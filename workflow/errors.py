"""Domain errors: each carries a machine code and a sentence for a person.

The web layer maps the class to an HTTP status; the engine never knows about HTTP.
"""

from __future__ import annotations


class DomainError(Exception):
    """A use case was refused. Nothing was changed."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class NotFound(DomainError):
    """Absent, or not visible to the actor (the two are indistinguishable on purpose)."""

    code = "not_found"


class PermissionDenied(DomainError):
    """The actor sees the object but their role or agency does not allow the action."""

    code = "forbidden"


class Conflict(DomainError):
    """The action does not fit the current state: wrong state, failed guard, lost race."""

    code = "conflict"


class InvalidInput(DomainError):
    """Well-formed but invalid values: an empty title, an unknown agency, a missing reason."""

    code = "invalid"


class Unauthenticated(DomainError):
    """No valid credentials: a wrong password, or a missing, expired or revoked token."""

    code = "unauthenticated"


class RateLimited(DomainError):
    """Too many failed attempts; try again after `retry_after` seconds."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after
