"""Signing in: checking a password, API tokens and browser sessions, slowing down password
guessing; changing passwords.

Guessing is slowed down, never locked out (`sign_in_limits`). An unknown username is counted
and answered exactly like a wrong password, so neither the answer nor its timing tells which
usernames exist. A wrong current password when changing one counts too.

Sessions and tokens that have expired or been revoked are deleted a batch at a time by the
sign-ins that follow, like expired failures: they are bookkeeping, not history (the audit log
keeps their start and end).

A new password ends every session and API token of its user (a copied cookie or a leaked
token dies with the old password); the person who changed it stays signed in, on a fresh
session.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, bindparam, or_, select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from .. import audit
from .. import audit_payloads as payloads
from ..actors import Actor
from ..audit_actions import AuditAction
from ..errors import InvalidInput, Unauthenticated
from ..models import Credential, CredentialKind, User, utcnow
from ..passwords import check_password_policy, hash_password, needs_rehash, verify_password
from ..policy import authorize_admin
from ..validation import is_clean
from ._common import delete_batch
from .sign_in_limits import PRUNE_BATCH, check_sign_in_allowed, clear_failures, prune_failures, record_failure

TOKEN_LIFETIME = timedelta(days=30)
#: A browser session ends after this long, signed out or not.
SESSION_LIFETIME = timedelta(hours=12)
#: A token's last use is written at most this often, so reads do not all become writes.
LAST_USED_RESOLUTION = timedelta(minutes=1)

WRONG_CREDENTIALS = "The username or password is not correct."
WRONG_CURRENT_PASSWORD = "The current password is not correct."


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: str
    record: Credential


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or None. Unknown names cost the same time as a
    wrong password, so response times do not reveal which usernames exist."""
    username = str(username).strip().lower()
    if not is_clean(username):  # no stored username has such characters; nor can it be looked up
        verify_password(_dummy_hash(), password)
        return None
    user = session.scalar(
        select(User)
        .where(User.username == username)
        .options(selectinload(User.role_rows))  # the user acts once signed in
    )
    if user is None:
        verify_password(_dummy_hash(), password)
        return None
    if not verify_password(user.password_hash, password) or not user.active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against for unknown usernames; made on first use, not at import."""
    return hash_password("not a real password, only time spent")


def sign_in(session: Session, username: str, password: str, *, remote_addr: str) -> User | None:
    """The user with these credentials, or None after recording the failure (the caller
    commits it, then answers with WRONG_CREDENTIALS). RateLimited, with nothing checked or
    recorded, while a delay runs for this name from this address or for this address."""
    check_sign_in_allowed(session, username, remote_addr)
    prune_failures(session)
    prune_dead_credentials(session)
    user = authenticate(session, username, password)
    if user is None:
        record_failure(session, username, remote_addr)
        return None
    clear_failures(session, user.username, remote_addr)
    return user


def prune_dead_credentials(session: Session) -> int:
    """Delete up to PRUNE_BATCH sessions and tokens that have expired or been revoked (they
    can never be used again); how many went. Rows another transaction is deleting meanwhile
    are skipped (PostgreSQL), not waited for."""
    now = utcnow()
    dead = or_(Credential.expires_at <= now, Credential.revoked_at.is_not(None))
    return delete_batch(session, Credential, Credential.id, dead, PRUNE_BATCH)


#: Audit actions for starting and ending each kind of token.
_ACTIONS = {
    CredentialKind.api: (AuditAction.token_issue, AuditAction.token_revoke),
    CredentialKind.browser: (AuditAction.session_start, AuditAction.session_end),
}
LIFETIME = {CredentialKind.api: TOKEN_LIFETIME, CredentialKind.browser: SESSION_LIFETIME}


def issue_token(session: Session, user: User, kind: CredentialKind = CredentialKind.api) -> IssuedToken:
    """A new token for a signed-in user; the token itself is returned only here."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    record = Credential(
        user_id=user.id, kind=kind, token_hash=_digest(token), created_at=now,
        expires_at=now + LIFETIME[kind],
    )
    session.add(record)
    session.flush()
    audit.record(session, user, _ACTIONS[kind][0], payload=payloads.token_event(record.id))
    return IssuedToken(token, record)


#: Every request runs this, so it is built once. The user acts for the rest of the request,
#: after the session that loaded it ends: load the roles, in the same statement (a row per role).
_FIND_TOKEN = (
    select(Credential)
    .where(Credential.token_hash == bindparam("token_hash"),
           Credential.kind == bindparam("kind", type_=Credential.kind.type))
    .options(joinedload(Credential.user).joinedload(User.role_rows))
)


def find_token(
    session: Session, token: str, kind: CredentialKind = CredentialKind.api
) -> Credential | None:
    """The live credential: of this kind, not expired, not revoked, of an active user."""
    record = session.scalars(_FIND_TOKEN, {"token_hash": _digest(token), "kind": kind}).unique().one_or_none()
    if record is None or record.revoked_at is not None or not record.user.active:
        return None
    if record.expires_at <= utcnow():
        return None
    return record


def needs_touch(record: Credential) -> bool:
    last = record.last_used_at
    return last is None or utcnow() - last >= LAST_USED_RESOLUTION


def touch_token(session: Session, token_id: int) -> None:
    record = session.get(Credential, token_id)
    if record is not None:
        record.last_used_at = utcnow()


def revoke_token(session: Session, user: User, token_id: int) -> None:
    record = session.get(Credential, token_id)
    if record is None or record.user_id != user.id or record.revoked_at is not None:
        raise Unauthenticated("This token is not valid.", code="invalid_token")
    record.revoked_at = utcnow()
    audit.record(session, user, _ACTIONS[record.kind][1], payload=payloads.token_event(record.id))


def revoke_all_tokens(session: Session, user_id: int) -> int:
    """End every live session and API token of a user at once; how many there were.

    Written as one UPDATE, without an audit event of its own: the change that calls for it
    (a new password, a disabled account) is the event, and says how many ended.
    """
    # An UPDATE's result is a CursorResult, which has the row count (Session.execute says Result).
    result = cast(CursorResult[Any], session.execute(
        update(Credential)
        .where(Credential.user_id == user_id, Credential.revoked_at.is_(None), Credential.expires_at > utcnow())
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    ))
    return result.rowcount or 0


@dataclass(frozen=True)
class PasswordChange:
    """A password changed by its owner: how many sessions and tokens ended, and the fresh
    browser session that keeps them signed in (when they asked for one)."""

    ended: int
    session: IssuedToken | None


def change_password(
    session: Session,
    actor: Actor,
    current_password: str,
    new_password: str,
    *,
    remote_addr: str = "unknown",
    new_session: bool = False,
) -> PasswordChange | None:
    """The actor changes their own password, proving the current one.

    None when the current password is wrong: the failure is recorded like a failed sign-in
    (the caller commits it, then answers WRONG_CURRENT_PASSWORD), so the form cannot be used
    to guess passwords faster than the sign-in form. RateLimited while guessing goes on;
    InvalidInput (nothing changed) when the new password fails the policy or is the current
    one. Otherwise every session and API token of the user ends, including the one in use;
    with `new_session`, a fresh browser session is issued for the caller to carry on with.
    """
    # NO KEY UPDATE (key_share): the row is locked against other changes, not against rows
    # that merely reference it (see load_recommendation).
    user = session.scalar(
        select(User)
        .where(User.id == actor.id)
        .options(selectinload(User.role_rows))
        .with_for_update(of=User, key_share=True)
    ) if actor.id is not None else None
    if user is None or not user.active:
        raise Unauthenticated("Sign in first.", code="unauthenticated")
    check_sign_in_allowed(session, user.username, remote_addr)
    if not isinstance(current_password, str) or not verify_password(user.password_hash, current_password):
        record_failure(session, user.username, remote_addr)
        return None
    if not isinstance(new_password, str):
        raise InvalidInput("The new password must be text.", code="invalid_type")
    if verify_password(user.password_hash, new_password):
        raise InvalidInput("The new password is the current one; choose another.", code="same_password")
    check_password_policy(new_password, username=user.username)
    user.password_hash = hash_password(new_password)
    clear_failures(session, user.username, remote_addr)
    ended = revoke_all_tokens(session, user.id)
    audit.record(
        session, user, AuditAction.user_password_change, payload=payloads.password_set(user.username, ended)
    )
    issued = issue_token(session, user, CredentialKind.browser) if new_session else None
    return PasswordChange(ended, issued)


def set_password(session: Session, actor: Actor, *, username: str, new_password: str) -> int:
    """An administrator (or the operator at the command line) sets a user's password, which
    must pass the policy; every session and API token of that user ends. How many ended."""
    authorize_admin(actor)
    name = str(username).strip().lower()
    user = session.scalar(
        select(User).where(User.username == name).with_for_update(of=User, key_share=True)
    ) if is_clean(name) else None
    if user is None:
        raise InvalidInput(f"Unknown user {username!r}.", code="unknown_user")
    if not isinstance(new_password, str):
        raise InvalidInput("The new password must be text.", code="invalid_type")
    check_password_policy(new_password, username=user.username)
    user.password_hash = hash_password(new_password)
    ended = revoke_all_tokens(session, user.id)
    audit.record(
        session, actor, AuditAction.user_set_password, payload=payloads.password_set(user.username, ended)
    )
    return ended
