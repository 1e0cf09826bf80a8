from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .agencies import Agency, AgencyKind
from .base import Base, UTCDateTime, utcnow


class Role(enum.StrEnum):
    #: Proposes and revises text for a national agency.
    national_expert = "national_expert"
    #: Decides for a national agency: reviews, endorses, approves or objects.
    approver = "approver"
    #: Consolidates text for the programme (EU bodies only).
    eu_expert = "eu_expert"
    #: Reads everything, changes nothing.
    auditor = "auditor"
    #: Manages agencies, users and processes.
    admin = "admin"


#: Which agency kinds a role may be held in; a role outside its kinds is refused.
ROLE_AGENCY_KINDS: dict[Role, frozenset[AgencyKind]] = {
    Role.national_expert: frozenset({AgencyKind.national}),
    Role.approver: frozenset({AgencyKind.national}),
    Role.eu_expert: frozenset({AgencyKind.eu}),
    Role.auditor: frozenset(AgencyKind),
    Role.admin: frozenset(AgencyKind),
}


class UserRole(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[Role] = mapped_column(
        Enum(Role, name="role", native_enum=False, create_constraint=True, length=32),
        primary_key=True,
    )


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    #: Disabled accounts keep their history but can no longer sign in or act.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    agency: Mapped[Agency] = relationship(lazy="joined")
    #: Loaded with the user only where the user acts (`services.auth`); an author shown on a
    #: page needs no roles.
    role_rows: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", order_by=UserRole.role
    )

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(row.role for row in self.role_rows)

    def has_role(self, role: Role) -> bool:
        return role in self.roles

    def __repr__(self) -> str:
        return f"<User {self.username}>"
