from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship, selectinload
from sqlalchemy.orm.interfaces import ORMOption

from app.db import Base, UTCDateTime, utcnow
from app.items.models import MoneyOrGoods, money_or_goods_check

if TYPE_CHECKING:
    from app.campaigns.models import Campaign


class AllocationStatus(StrEnum):
    allocated = "allocated"
    delivered = "delivered"
    cancelled = "cancelled"


class Allocation(MoneyOrGoods, Base):
    """Money (`amount` in `currency`) or goods (`quantity` of an item) assigned to a location."""

    __tablename__ = "allocations"
    __table_args__ = (money_or_goods_check(),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(500))
    # Private: may name a household. Never shown on public views.
    beneficiary: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[AllocationStatus] = mapped_column(String(10), default=AllocationStatus.allocated)
    # The business date: the day the officer decided it (reconciliation's `until` cuts on it).
    allocated_on: Mapped[date] = mapped_column(Date)
    delivered_on: Mapped[date | None] = mapped_column(Date)
    evidence_url: Mapped[str | None] = mapped_column(String(2000))
    delivery_note: Mapped[str | None] = mapped_column(Text)
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    campaign: Mapped[Campaign] = relationship(lazy="raise")

    @property
    def campaign_code(self) -> str:
        return self.campaign.code


def allocation_relations() -> tuple[ORMOption, ...]:
    """What an allocation's schema reads (campaign_code, item_code): loaded with every
    allocation a service returns."""
    return (selectinload(Allocation.campaign), selectinload(Allocation.item))
