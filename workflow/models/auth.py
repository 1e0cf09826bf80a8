from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime
from .users import User


class CredentialKind(enum.StrEnum):
    # The member names are what the database stores: renaming one needs a migration.
    #: A bearer token of the JSON API.
    api = "api"
    #: A signed-in browser session; the cookie carries the token, so signing out (or disabling
    #: the account) ends the session on the server, and a copied cookie stops working too.
    browser = "browser"


class Credential(Base):
    """What a signed-in person presents: an API bearer token or a browser session's token.
    Only its SHA-256 is stored: the token itself is handed out once. Tokens are random and
    long, so a fast hash fits."""

    # The table (named when it held only API tokens) and its column `purpose` keep their
    # names: renaming them would take a migration and change nothing that is stored.
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[CredentialKind] = mapped_column(
        "purpose",
        Enum(CredentialKind, name="token_purpose", native_enum=False, create_constraint=True, length=16),
        default=CredentialKind.api,
        server_default=CredentialKind.api.value,
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Indexed, like revoked_at, for the sign-ins that delete dead tokens a batch at a time.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)


class SignInFailure(Base):
    """A failed sign-in, kept for a while to slow down password guessing
    (`services.sign_in_limits`): counted by address (and name), deleted by age."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (
        Index(None, "username", "occurred_at"),
        Index(None, "remote_addr", "occurred_at"),
        Index(None, "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    remote_addr: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
