"""Signing in: API tokens, and slowing down password guessing.

Failed sign-ins are counted per username and per address over a sliding window. An unknown
username is counted and answered exactly like a wrong password, so neither the answer nor its
timing tells which usernames exist.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, joinedload

from .. import audit
from ..errors import RateLimited, Unauthenticated
from ..models import ApiToken, SignInFailure, TokenPurpose, User, utcnow
from ..validation import is_clean
from .admin import authenticate

TOKEN_LIFETIME = timedelta(days=30)
#: A browser session ends after this long, signed out or not.
SESSION_LIFETIME = timedelta(hours=12)
#: A token's last use is written at most this often, so reads do not all become writes.
LAST_USED_RESOLUTION = timedelta(minutes=1)

FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USERNAME = 5
MAX_FAILURES_PER_ADDRESS = 20

WRONG_CREDENTIALS = "The username or password is not correct."


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: str
    record: ApiToken


def check_sign_in_allowed(session: Session, username: str, remote_addr: str) -> None:
    """Raise RateLimited while too many recent failures stand against the name or address."""
    now = utcnow()
    since = now - FAILURE_WINDOW
    for column, value, limit in (
        (SignInFailure.username, _normal(username), MAX_FAILURES_PER_USERNAME),
        (SignInFailure.remote_addr, remote_addr, MAX_FAILURES_PER_ADDRESS),
    ):
        count, oldest = session.execute(
            select(func.count(), func.min(SignInFailure.occurred_at)).where(
                column == value, SignInFailure.occurred_at > since
            )
        ).one()
        if count >= limit:
            oldest = _aware(oldest)
            retry_after = max(1, int((oldest + FAILURE_WINDOW - now).total_seconds()) + 1)
            raise RateLimited(
                f"Too many failed sign-ins; try again in {_minutes(retry_after)}.",
                retry_after=retry_after,
            )


def sign_in(session: Session, username: str, password: str, *, remote_addr: str) -> User | None:
    """The user with these credentials, or None after recording the failure (the caller
    commits it, then answers with WRONG_CREDENTIALS). RateLimited while guessing goes on."""
    check_sign_in_allowed(session, username, remote_addr)
    user = authenticate(session, username, password)
    if user is None:
        session.add(SignInFailure(
            username=_normal(username)[:64], remote_addr=remote_addr[:64], occurred_at=utcnow()
        ))
        session.flush()
        return None
    session.execute(delete(SignInFailure).where(SignInFailure.username == user.username))
    return user


#: Audit actions for starting and ending each kind of token.
_ACTIONS = {
    TokenPurpose.api: ("token.issue", "token.revoke"),
    TokenPurpose.browser: ("session.start", "session.end"),
}
LIFETIME = {TokenPurpose.api: TOKEN_LIFETIME, TokenPurpose.browser: SESSION_LIFETIME}


def issue_token(session: Session, user: User, purpose: TokenPurpose = TokenPurpose.api) -> IssuedToken:
    """A new token for a signed-in user; the token itself is returned only here."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    record = ApiToken(
        user_id=user.id, purpose=purpose, token_hash=_digest(token), created_at=now,
        expires_at=now + LIFETIME[purpose],
    )
    session.add(record)
    session.flush()
    audit.record(session, user, _ACTIONS[purpose][0], payload={"token": record.id})
    return IssuedToken(token, record)


def find_token(
    session: Session, token: str, purpose: TokenPurpose = TokenPurpose.api
) -> ApiToken | None:
    """The live token record: of this purpose, not expired, not revoked, of an active user."""
    record = session.scalar(
        select(ApiToken)
        .where(ApiToken.token_hash == _digest(token), ApiToken.purpose == purpose)
        # The user acts for the rest of the request, after this session ends: load the roles.
        .options(joinedload(ApiToken.user).selectinload(User.role_rows))
    )
    if record is None or record.revoked_at is not None or not record.user.active:
        return None
    if record.expires_at <= utcnow():
        return None
    return record


def needs_touch(record: ApiToken) -> bool:
    last = record.last_used_at
    return last is None or utcnow() - last >= LAST_USED_RESOLUTION


def touch_token(session: Session, token_id: int) -> None:
    record = session.get(ApiToken, token_id)
    if record is not None:
        record.last_used_at = utcnow()


def revoke_token(session: Session, user: User, token_id: int) -> None:
    record = session.get(ApiToken, token_id)
    if record is None or record.user_id != user.id or record.revoked_at is not None:
        raise Unauthenticated("This token is not valid.", code="invalid_token")
    record.revoked_at = utcnow()
    audit.record(session, user, _ACTIONS[record.purpose][1], payload={"token": record.id})


def _normal(username: str) -> str:
    """The key failures are counted under: the name as typed, made storable (a NUL or a lone
    surrogate is written escaped, so even such guesses are counted and limited)."""
    name = str(username).strip().lower()
    return name if is_clean(name) else name.encode("unicode_escape").decode("ascii")


def _aware(moment: datetime) -> datetime:
    # func.min() skips the column's type on some drivers: SQLite hands back a naive string.
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


def _minutes(seconds: int) -> str:
    minutes = -(-seconds // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
