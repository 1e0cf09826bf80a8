from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow
from .recommendations import Recommendation
from .users import User


class Comment(Base):
    """One message of a thread; immutable once written (the database refuses UPDATE/DELETE)."""

    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    thread: Mapped[Thread] = relationship(back_populates="comments")


class Thread(Base):
    """A discussion on a recommendation, optionally anchored to a revision and a quoted passage."""

    __tablename__ = "threads"

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(ForeignKey("recommendations.id"), index=True)
    revision_number: Mapped[int | None] = mapped_column(Integer)
    quote: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    recommendation: Mapped[Recommendation] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id], lazy="joined")
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id], lazy="joined")
    comments: Mapped[list[Comment]] = relationship(
        back_populates="thread", lazy="selectin", order_by=Comment.id
    )

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None

    @property
    def passage_changed(self) -> bool:
        """The quoted passage no longer appears in the current text."""
        return quoted_passage_changed(self.quote, self.recommendation.body)


def quoted_passage_changed(quote: str | None, body: str) -> bool:
    """Whether a thread's quoted passage no longer appears in the text it was quoted from
    (for readers holding the quote and the text without the Thread object)."""
    return quote is not None and quote not in body
