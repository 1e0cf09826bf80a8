"""Administration: agencies, users, processes. Every change is an audit event."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, selectinload

from .. import audit
from .. import audit_payloads as payloads
from ..actors import Actor
from ..audit_actions import AuditAction
from ..errors import Conflict, InvalidInput
from ..models import ROLE_AGENCY_KINDS, Agency, AgencyKind, Base, Process, Role, User, UserRole
from ..passwords import check_password_policy, hash_password
from ..policy import authorize_admin
from ..validation import clean_name, is_clean
from ._common import Page, paginate
from .auth import revoke_all_tokens

E = TypeVar("E", bound=StrEnum)

_AGENCY_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,31}$")
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")


def _enum(enum_type: type[E], value: object, what: str) -> E:
    try:
        return enum_type(str(value))
    except ValueError:
        choices = ", ".join(member.value for member in enum_type)
        raise InvalidInput(f"Unknown {what} {value!r}; one of: {choices}.", code=f"unknown_{what}") from None


def add_agency(
    session: Session, actor: Actor, *, code: str, name: str, country: str, kind: str
) -> Agency:
    authorize_admin(actor)
    code = str(code).strip().upper()
    if not _AGENCY_CODE.match(code):
        raise InvalidInput(
            "An agency code is 2 to 32 capital letters, digits and hyphens, such as KZ-BS.",
            code="invalid_code",
        )
    agency_kind = _enum(AgencyKind, kind, "kind")
    name, country = clean_name(name, "name"), clean_name(country, "country", limit=100)
    if session.scalar(select(Agency.id).where(Agency.code == code)) is not None:
        raise Conflict(f"An agency with the code {code} exists already.", code="duplicate")
    agency = Agency(code=code, name=name, country=country, kind=agency_kind)
    session.add(agency)
    audit.record(
        session, actor, AuditAction.agency_add,
        payload=payloads.agency_added(code, name, country, agency_kind.value),
    )
    return agency


def add_user(
    session: Session,
    actor: Actor,
    *,
    username: str,
    agency_code: str,
    roles: Iterable[str],
    password: str,
    display_name: str | None = None,
) -> User:
    """Create a user of one agency with roles that fit its kind and a password that passes the
    policy (checked before anything is written)."""
    authorize_admin(actor)
    username = str(username).strip().lower()
    if not _USERNAME.match(username):
        raise InvalidInput(
            "A username is 3 to 64 lower-case letters, digits, dots, hyphens or underscores.",
            code="invalid_username",
        )
    code = str(agency_code).strip().upper()
    agency = session.scalar(select(Agency).where(Agency.code == code)) if is_clean(code) else None
    if agency is None:
        raise InvalidInput(f"Unknown agency {agency_code!r}.", code="unknown_agency")
    wanted = sorted({_enum(Role, role, "role") for role in roles})
    if not wanted:
        raise InvalidInput("A user needs at least one role.", code="role_required")
    for role in wanted:
        if agency.kind not in ROLE_AGENCY_KINDS[role]:
            fits = " or ".join(sorted(kind.value for kind in ROLE_AGENCY_KINDS[role]))
            raise InvalidInput(
                f"The role {role.value} belongs to {fits} agencies; {agency.code} is {agency.kind.value}.",
                code="role_agency_mismatch",
            )
    display_name = clean_name(display_name or username, "display name")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"The username {username} is taken.", code="duplicate")
    check_password_policy(password, username=username)
    user = User(
        username=username,
        display_name=display_name,
        password_hash=hash_password(password),
        agency=agency,
        active=True,
        role_rows=[UserRole(role=role) for role in wanted],
    )
    session.add(user)
    audit.record(
        session, actor, AuditAction.user_add,
        payload=payloads.user_added(username, agency.code, (r.value for r in wanted)),
    )
    return user


def set_user_active(session: Session, actor: Actor, username: str, *, active: bool) -> User:
    """Disable an account (it keeps its history) or enable it again.

    Disabling ends every session and API token of the account for good: enabling it again
    later does not bring back a cookie or token copied before (they sign in afresh).
    """
    authorize_admin(actor)
    # A name with a NUL or a surrogate names no one, and PostgreSQL would fail on it.
    user = session.scalar(select(User).where(User.username == username)) if is_clean(username) else None
    if user is None:
        raise InvalidInput(f"Unknown user {username!r}.", code="unknown_user")
    if user.active == active:
        raise Conflict(f"{username} is already {'active' if active else 'disabled'}.", code="unchanged")
    if not active and actor.id is not None and actor.id == user.id:
        raise Conflict(
            "You cannot disable your own account; another administrator can.", code="self_disable"
        )
    user.active = active
    if not active:
        revoke_all_tokens(session, user.id)
    audit.record(
        session, actor, AuditAction.user_enable if active else AuditAction.user_disable,
        payload=payloads.account_switched(username),
    )
    return user


def add_process(
    session: Session, actor: Actor, *, title: str, agency_codes: Sequence[str]
) -> Process:
    authorize_admin(actor)
    title = clean_name(title, "title", limit=300)
    codes = list(dict.fromkeys(str(code).strip().upper() for code in agency_codes))
    if not codes:
        raise InvalidInput("A process needs at least one agency.", code="agency_required")
    if not all(is_clean(code) for code in codes):  # no code has them; PostgreSQL would fail on them
        raise InvalidInput("An agency code contains characters that are not allowed.", code="unknown_agency")
    agencies = list(session.scalars(select(Agency).where(Agency.code.in_(codes))))
    unknown = sorted(set(codes) - {a.code for a in agencies})
    if unknown:
        raise InvalidInput(f"Unknown agency: {', '.join(unknown)}.", code="unknown_agency")
    if session.scalar(select(Process.id).where(func.lower(Process.title) == title.lower())):
        raise Conflict(f"A process titled {title!r} exists already.", code="duplicate")
    process = Process(title=title, agencies=sorted(agencies, key=lambda a: a.code))
    session.add(process)
    session.flush()
    audit.record(
        session, actor, AuditAction.process_add,
        payload=payloads.process_added(process.id, title, codes),
    )
    return process


# --- reading, for the administration pages ----------------------------------------------------


@dataclass(frozen=True)
class AdminOverview:
    """How much there is to administer."""

    agencies: int
    users: int
    active_users: int
    processes: int


def admin_overview(session: Session, actor: Actor) -> AdminOverview:
    authorize_admin(actor)

    def count(*where: ColumnElement[bool], of: type[Base]) -> int:
        return session.scalar(select(func.count()).select_from(of).where(*where)) or 0

    return AdminOverview(
        agencies=count(of=Agency),
        users=count(of=User),
        active_users=count(User.active.is_(True), of=User),
        processes=count(of=Process),
    )


def _all_agencies(session: Session) -> Sequence[Agency]:
    return session.scalars(select(Agency).order_by(Agency.code)).all()


def agency_directory(
    session: Session, actor: Actor, *, page: int = 1, per_page: int = 100
) -> Page[Agency]:
    """Every agency, by code (administrators only)."""
    authorize_admin(actor)
    return paginate(session, select(Agency).order_by(Agency.code), page=page, per_page=per_page)


@dataclass(frozen=True)
class UserDirectory:
    """Users with their agency and roles, and what the form to add one offers."""

    users: Page[User]
    agencies: Sequence[Agency]
    roles: Sequence[Role]
    #: Which agency kinds each role fits, to say so beside the role checkboxes.
    role_kinds: dict[Role, frozenset[AgencyKind]]
    #: The administrator reading it, whose own account they may not disable.
    reader_id: int | None = None

    def may_disable(self, user: User) -> bool:
        return user.active and user.id != self.reader_id


def user_directory(
    session: Session, actor: Actor, *, page: int = 1, per_page: int = 100
) -> UserDirectory:
    """Every user, by agency then username (administrators only)."""
    authorize_admin(actor)
    stmt = (
        select(User)
        .join(User.agency)
        .options(selectinload(User.role_rows))
        .order_by(Agency.code, User.username)
    )
    return UserDirectory(
        users=paginate(session, stmt, page=page, per_page=per_page),
        agencies=_all_agencies(session),
        roles=list(Role),
        role_kinds=dict(ROLE_AGENCY_KINDS),
        reader_id=actor.id,
    )


@dataclass(frozen=True)
class ProcessDirectory:
    """Processes with their agencies, and the agencies the form to add one offers."""

    processes: Page[Process]
    agencies: Sequence[Agency]


def process_directory(
    session: Session, actor: Actor, *, page: int = 1, per_page: int = 100
) -> ProcessDirectory:
    """Every process, newest first (administrators only)."""
    authorize_admin(actor)
    stmt = select(Process).order_by(Process.id.desc())
    return ProcessDirectory(
        processes=paginate(session, stmt, page=page, per_page=per_page),
        agencies=_all_agencies(session),
    )
