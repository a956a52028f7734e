from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, joinedload, mapped_column, relationship
from sqlalchemy.orm.interfaces import ORMOption

from app.db import Amount, Base, UTCDateTime, utcnow
from app.units.models import Unit


class CampaignStatus(StrEnum):
    draft = "draft"
    open = "open"
    closed = "closed"


class CampaignKind(StrEnum):
    flood = "flood"
    storm = "storm"
    landslide = "landslide"
    drought = "drought"
    epidemic = "epidemic"
    poverty = "poverty"
    other = "other"


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[CampaignKind] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3))
    target_amount: Mapped[Decimal | None] = mapped_column(Amount())
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), index=True)
    # The organisation unit that runs the campaign; its officers (and their parents') act on it.
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[CampaignStatus] = mapped_column(String(10), default=CampaignStatus.draft)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    # Loaded with the campaign in one extra query per result set, never lazily per row.
    parent: Mapped[Campaign | None] = relationship(remote_side=[id], lazy="raise")
    unit: Mapped[Unit] = relationship(lazy="raise")

    @property
    def parent_code(self) -> str | None:
        return self.parent.code if self.parent else None

    @property
    def unit_code(self) -> str:
        return self.unit.code


def campaign_relations() -> tuple[ORMOption, ...]:
    """What a campaign's schema reads (parent_code, unit_code): loaded with every campaign a
    service returns, since relationships never load by themselves (lazy="raise")."""
    return (joinedload(Campaign.parent), joinedload(Campaign.unit))
