from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Column, Enum, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..states import TERMINAL_STATES, State
from .agencies import Agency
from .base import Base, UTCDateTime, utcnow
from .processes import Process
from .users import User

if TYPE_CHECKING:
    from .approvals import Approval

recommendation_addressees = Table(
    "recommendation_addressees",
    Base.metadata,
    Column("recommendation_id", ForeignKey("recommendations.id"), primary_key=True),
    Column("agency_id", ForeignKey("agencies.id"), primary_key=True),
)


class Recommendation(Base):
    """A recommendation and its current text.

    `title`, `body` and `body_html` repeat the current revision's, so lists and searches need
    no join; they are written in one place only (`services.recommendations._save_revision`).
    """

    __tablename__ = "recommendations"
    #: A process's list filtered by state, newest change first, read in index order.
    __table_args__ = (Index(None, "process_id", "state", "updated_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int] = mapped_column(ForeignKey("processes.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    state: Mapped[State] = mapped_column(
        Enum(State, name="state", native_enum=False, create_constraint=True, length=32),
        default=State.draft,
        index=True,
    )
    proposing_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    #: Number of the current revision.
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When it was first submitted; a recommendation never submitted stays private to its agency.
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Indexed: every recommendation shown looks up what was merged into it.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("recommendations.id"), index=True)
    #: Optimistic lock: an UPDATE that did not see the latest row is refused.
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}

    process: Mapped[Process] = relationship(lazy="joined", innerjoin=True)
    proposing_agency: Mapped[Agency] = relationship(lazy="joined", innerjoin=True)
    created_by: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    addressed_agencies: Mapped[list[Agency]] = relationship(
        secondary=recommendation_addressees, lazy="selectin", order_by=Agency.code
    )
    approvals: Mapped[list[Approval]] = relationship(
        back_populates="recommendation", lazy="selectin", order_by="Approval.id"
    )
    merged_into: Mapped[Recommendation | None] = relationship(
        remote_side=[id], back_populates="merged_from"
    )
    #: Recommendations merged into this one: the other end of the provenance link. Queries
    #: that show recommendations load it with `services._common.RECOMMENDATION_LOADING`.
    merged_from: Mapped[list[Recommendation]] = relationship(
        back_populates="merged_into", order_by=id
    )

    @property
    def is_terminal(self) -> bool:
        return self.state in TERMINAL_STATES

    @property
    def addressed_agency_ids(self) -> frozenset[int]:
        return frozenset(agency.id for agency in self.addressed_agencies)

    def standing_decisions(self) -> dict[int, Approval]:
        """Each agency's latest decision (approve or object), stale or not, by agency id."""
        latest: dict[int, Approval] = {}
        for approval in self.approvals:  # ordered by id: later decisions replace earlier ones
            latest[approval.agency_id] = approval
        return latest

    def missing_approvals(self) -> list[Agency]:
        """Addressed agencies without a non-stale `approve` on the current revision."""
        standing = self.standing_decisions()
        return [
            agency
            for agency in self.addressed_agencies
            if not (
                (decision := standing.get(agency.id)) is not None
                and decision.is_approval
                and not decision.is_stale
            )
        ]

    def standing_objections(self) -> list[Approval]:
        """Objections on the current revision that no later decision of the agency replaced."""
        return [
            decision
            for decision in self.standing_decisions().values()
            if not decision.is_approval and not decision.is_stale
        ]

    def __repr__(self) -> str:
        return f"<Recommendation {self.id} {self.state}>"
