"""Who acts: a signed-in user, or the system itself (the command line run by an operator)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from .models import Agency, Role, User


class Actor(Protocol):
    @property
    def id(self) -> int | None: ...
    @property
    def username(self) -> str: ...
    @property
    def agency(self) -> Agency | None: ...
    @property
    def roles(self) -> frozenset[Role]: ...
    @property
    def active(self) -> bool: ...


@dataclass(frozen=True)
class SystemActor:
    """The operator at the command line: an administrator of no agency.

    It can manage agencies, users and processes; having no agency, it takes part in no
    recommendation.
    """

    username: str = "system"
    id: None = None
    agency: None = None
    roles: frozenset[Role] = field(default=frozenset({Role.admin}))
    active: bool = True


SYSTEM = SystemActor()

__all__ = ["SYSTEM", "Actor", "SystemActor", "User"]
