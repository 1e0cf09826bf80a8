from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..states import State
from .base import Base, UTCDateTime, utcnow
from .users import User


def content_hash(title: str, body: str) -> str:
    """SHA-256 of a text version; audit events carry it so the decided text can be proven."""
    return hashlib.sha256(f"{title}\n\n{body}".encode()).hexdigest()


class Revision(Base):
    """An immutable snapshot of a recommendation's text. The database refuses UPDATE and DELETE."""

    __tablename__ = "revisions"
    __table_args__ = (UniqueConstraint("recommendation_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(ForeignKey("recommendations.id"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(String(500), default="")
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The recommendation's state when this revision was saved.
    state: Mapped[State] = mapped_column(
        Enum(State, name="state", native_enum=False, create_constraint=True, length=32)
    )
    #: The revision the author started from; differs from number - 1 after a clean merge.
    base_number: Mapped[int | None] = mapped_column(Integer)

    author: Mapped[User] = relationship(lazy="joined", innerjoin=True)

    @property
    def content_hash(self) -> str:
        return content_hash(self.title, self.body)

    def __repr__(self) -> str:
        return f"<Revision {self.recommendation_id}#{self.number}>"


class ConflictCopy(Base):
    """Text an author saved that could not be merged with a newer revision, kept so nothing typed
    is lost. Its author can reopen it, merge by hand and save again, or discard it."""

    __tablename__ = "conflict_copies"

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(ForeignKey("recommendations.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    base_revision: Mapped[int] = mapped_column(Integer)
    #: The current revision the text clashed with.
    conflicting_revision: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    discarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<ConflictCopy {self.id} of {self.recommendation_id}>"
