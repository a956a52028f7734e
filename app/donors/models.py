from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow

# What the public is shown instead of an anonymous donor's name.
ANONYMOUS_DONOR = "Nhà hảo tâm ẩn danh"


class DonorKind(StrEnum):
    individual = "individual"
    organisation = "organisation"
    business = "business"
    overseas_vietnamese = "overseas_vietnamese"


class Donor(Base):
    __tablename__ = "donors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    name_folded: Mapped[str] = mapped_column(String(300), index=True)
    kind: Mapped[DonorKind] = mapped_column(String(30))
    country: Mapped[str] = mapped_column(String(2))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(40))
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    display_name: Mapped[str | None] = mapped_column(String(300))
    # The unit that recorded the donor: officers see the donors of their unit tree.
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def public_name(self) -> str:
        """What the public sees of the donor: never an anonymous donor's real name, nor the
        real name behind a display name."""
        if self.anonymous:
            return ANONYMOUS_DONOR
        return self.display_name or self.name
