from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, selectinload
from sqlalchemy.orm.interfaces import ORMOption

from app.dates import today_in_vietnam
from app.db import Amount, Base, UTCDateTime, utcnow
from app.items.models import MoneyOrGoods, money_or_goods_check

if TYPE_CHECKING:
    from app.campaigns.models import Campaign


class PledgeStatus(StrEnum):
    open = "open"
    partially_fulfilled = "partially_fulfilled"
    fulfilled = "fulfilled"
    overdue = "overdue"
    cancelled = "cancelled"


class Pledge(MoneyOrGoods, Base):
    """A promise of money (`amount` in its own `currency`, which may differ from the
    campaign's) or of goods (`quantity` of an item)."""

    __tablename__ = "pledges"
    __table_args__ = (
        UniqueConstraint("campaign_id", "reference"),
        money_or_goods_check(),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("donors.id"), index=True)
    reference: Mapped[str] = mapped_column(String(32))
    due_on: Mapped[date | None] = mapped_column(Date)
    # Kept: the original amounts (in the pledge's own currency; quantities, for goods) of
    # its non-reversed contributions; may exceed what was pledged.
    fulfilled_amount: Mapped[Decimal] = mapped_column(Amount(), default=Decimal(0))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    campaign: Mapped[Campaign] = relationship(lazy="raise")

    @property
    def campaign_code(self) -> str:
        return self.campaign.code

    @property
    def outstanding_amount(self) -> Decimal:
        if self.cancelled_at is not None:
            return Decimal(0)
        return max(Decimal(0), self.size - self.fulfilled_amount)

    @property
    def over_fulfilled_amount(self) -> Decimal:
        return max(Decimal(0), self.fulfilled_amount - self.size)

    @property
    def status(self) -> PledgeStatus:
        if self.cancelled_at is not None:
            return PledgeStatus.cancelled
        if self.fulfilled_amount >= self.size:
            return PledgeStatus.fulfilled
        if self.due_on is not None and self.due_on < today_in_vietnam():
            return PledgeStatus.overdue
        if self.fulfilled_amount > 0:
            return PledgeStatus.partially_fulfilled
        return PledgeStatus.open


def pledge_relations() -> tuple[ORMOption, ...]:
    """What a pledge's schema reads (campaign_code, item_code): loaded with every pledge a
    service returns."""
    return (selectinload(Pledge.campaign), selectinload(Pledge.item))
