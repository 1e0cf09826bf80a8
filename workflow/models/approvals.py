from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Enum, ForeignKey, Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .agencies import Agency
from .base import Base, UTCDateTime, utcnow
from .users import User

if TYPE_CHECKING:
    from .recommendations import Recommendation


class Decision(enum.StrEnum):
    approve = "approve"
    object = "object"


class Approval(Base):
    """An agency's decision pinned to one revision. Rows are never changed: a new decision is a
    new row, and the latest row of each agency is the one that stands."""

    __tablename__ = "approvals"
    __table_args__ = (Index(None, "recommendation_id", "agency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(ForeignKey("recommendations.id"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    decision: Mapped[Decision] = mapped_column(
        Enum(Decision, name="decision", native_enum=False, create_constraint=True, length=16)
    )
    revision_number: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    recommendation: Mapped[Recommendation] = relationship(back_populates="approvals")
    agency: Mapped[Agency] = relationship(lazy="joined", innerjoin=True)
    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)

    @property
    def is_approval(self) -> bool:
        return self.decision == Decision.approve

    @property
    def is_stale(self) -> bool:
        """A later edit made this decision stale: it no longer counts."""
        return self.revision_number != self.recommendation.revision
