from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Amount, Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from app.campaigns.models import Campaign


class PaymentMethod(StrEnum):
    bank_transfer = "bank_transfer"
    cash = "cash"
    card = "card"
    e_wallet = "e_wallet"
    cheque = "cheque"
    other = "other"


class Contribution(Base):
    """Never updated once recorded: a correction is a `ContributionReversal`."""

    __tablename__ = "contributions"
    __table_args__ = (
        Index("ix_contributions_campaign_bank_reference", "campaign_id", "bank_reference"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    donor_id: Mapped[int | None] = mapped_column(ForeignKey("donors.id"), index=True)
    pledge_id: Mapped[int | None] = mapped_column(ForeignKey("pledges.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Amount())
    currency: Mapped[str] = mapped_column(String(3))
    # In the campaign's currency: what the bank credited (or amount × fx_rate).
    settled_amount: Mapped[Decimal] = mapped_column(Amount())
    fx_rate: Mapped[Decimal | None] = mapped_column(Amount())
    received_on: Mapped[date] = mapped_column(Date)
    method: Mapped[PaymentMethod] = mapped_column(String(20))
    bank_reference: Mapped[str | None] = mapped_column(String(100))
    receipt_code: Mapped[str] = mapped_column(String(20), unique=True)
    # The transfer message as the bank statement gave it; the public statement searches it.
    description: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    campaign: Mapped[Campaign] = relationship(lazy="selectin")
    reversal: Mapped[ContributionReversal | None] = relationship(
        lazy="selectin", back_populates="contribution"
    )

    @property
    def campaign_code(self) -> str:
        return self.campaign.code

    @property
    def status(self) -> str:
        return "reversed" if self.reversal is not None else "recorded"


class ContributionReversal(Base):
    """The record that cancels a contribution; both stay visible."""

    __tablename__ = "contribution_reversals"

    id: Mapped[int] = mapped_column(primary_key=True)
    contribution_id: Mapped[int] = mapped_column(ForeignKey("contributions.id"), unique=True)
    reason: Mapped[str] = mapped_column(String(500))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    contribution: Mapped[Contribution] = relationship(lazy="raise", back_populates="reversal")
