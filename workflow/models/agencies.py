from __future__ import annotations

import enum

from sqlalchemy import Enum, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class AgencyKind(enum.StrEnum):
    #: A Central Asian border or customs agency.
    national = "national"
    #: An EU member-state body or the programme team.
    eu = "eu"


class Agency(Base):
    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(100))
    kind: Mapped[AgencyKind] = mapped_column(
        Enum(AgencyKind, name="agency_kind", native_enum=False, create_constraint=True, length=16)
    )

    def __repr__(self) -> str:
        return f"<Agency {self.code}>"
