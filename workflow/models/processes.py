from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .agencies import Agency
from .base import Base, UTCDateTime, utcnow

process_agencies = Table(
    "process_agencies",
    Base.metadata,
    Column("process_id", ForeignKey("processes.id"), primary_key=True),
    Column("agency_id", ForeignKey("agencies.id"), primary_key=True),
)


class Process(Base):
    """A drafting exercise, such as one workshop, with the agencies taking part in it."""

    __tablename__ = "processes"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    agencies: Mapped[list[Agency]] = relationship(
        secondary=process_agencies, lazy="selectin", order_by=Agency.code
    )

    def __repr__(self) -> str:
        return f"<Process {self.id} {self.title!r}>"
