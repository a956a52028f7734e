from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, selectinload
from sqlalchemy.orm.interfaces import ORMOption

from app.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from app.campaigns.models import Campaign


class ReceivingAccount(Base):
    """A bank account officially collecting money for a campaign (one number may serve several)."""

    __tablename__ = "receiving_accounts"
    __table_args__ = (UniqueConstraint("campaign_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    bank: Mapped[str] = mapped_column(String(200))
    # Digits only: spaces, dashes and dots are dropped on the way in, so lookups compare digits.
    number: Mapped[str] = mapped_column(String(32), index=True)
    holder: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    campaign: Mapped[Campaign] = relationship(lazy="raise")

    @property
    def campaign_code(self) -> str:
        return self.campaign.code


def account_relations() -> tuple[ORMOption, ...]:
    """What an account's schema reads (campaign_code): loaded with every account returned."""
    return (selectinload(ReceivingAccount.campaign),)
