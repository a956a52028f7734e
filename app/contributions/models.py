from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship, selectinload
from sqlalchemy.orm.interfaces import ORMOption

from app.db import Amount, Base, UTCDateTime, utcnow
from app.items.models import MoneyOrGoods

if TYPE_CHECKING:
    from app.campaigns.models import Campaign
    from app.donors.models import Donor


class PaymentMethod(StrEnum):
    bank_transfer = "bank_transfer"
    cash = "cash"
    card = "card"
    e_wallet = "e_wallet"
    cheque = "cheque"
    other = "other"


class Contribution(MoneyOrGoods, Base):
    """Money (`amount` in `currency`, settled in the campaign's) or goods (`quantity` of an
    item). Never updated once recorded: a correction is a `ContributionReversal`."""

    __tablename__ = "contributions"
    __table_args__ = (
        Index("ix_contributions_campaign_bank_reference", "campaign_id", "bank_reference"),
        Index("ix_contributions_line_fingerprint", "line_fingerprint"),
        # The campaign page's chart (money received per day) read from the index alone.
        Index(
            "ix_contributions_campaign_received_on_amount",
            "campaign_id",
            "received_on",
            "item_id",
            "settled_amount",
        ),
        # The statement's amount search (`?amount=500.000`): a range of the index, not a scan.
        Index("ix_contributions_campaign_settled_amount", "campaign_id", "settled_amount"),
        CheckConstraint(
            "(item_id IS NULL AND quantity IS NULL AND estimated_value IS NULL"
            " AND amount IS NOT NULL AND currency IS NOT NULL AND settled_amount IS NOT NULL"
            " AND method IS NOT NULL)"
            " OR (item_id IS NOT NULL AND quantity IS NOT NULL"
            " AND amount IS NULL AND currency IS NULL AND settled_amount IS NULL AND fx_rate IS NULL)",
            name="money_or_goods",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    donor_id: Mapped[int | None] = mapped_column(ForeignKey("donors.id"), index=True)
    pledge_id: Mapped[int | None] = mapped_column(ForeignKey("pledges.id"), index=True)
    # In the campaign's currency: what the bank credited (or amount × fx_rate).
    settled_amount: Mapped[Decimal | None] = mapped_column(Amount())
    fx_rate: Mapped[Decimal | None] = mapped_column(Amount())
    # Goods only, in the campaign's currency; reported beside cash, never added to it.
    estimated_value: Mapped[Decimal | None] = mapped_column(Amount())
    received_on: Mapped[date] = mapped_column(Date)
    method: Mapped[PaymentMethod | None] = mapped_column(String(20))
    bank_reference: Mapped[str | None] = mapped_column(String(100))
    receipt_code: Mapped[str] = mapped_column(String(20), unique=True)
    # A bank statement line's identity (`app.statements.parsing`): set on imported
    # contributions, so a line is booked once across the campaigns that share its money.
    line_fingerprint: Mapped[str | None] = mapped_column(String(32))
    # The transfer message as the bank statement gave it; the public statement searches it.
    description: Mapped[str | None] = mapped_column(Text)
    # Lower-case, diacritics removed: what the public statement's `q` searches.
    description_folded: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    campaign: Mapped[Campaign] = relationship(lazy="raise")
    # Loaded only where asked for (selectinload), never by surprise.
    donor: Mapped[Donor | None] = relationship(lazy="raise")
    reversal: Mapped[ContributionReversal | None] = relationship(
        lazy="raise", back_populates="contribution"
    )

    @property
    def campaign_code(self) -> str:
        return self.campaign.code

    @property
    def received(self) -> Decimal:
        """What it adds to the campaign's received figure: the settled amount, or the quantity."""
        received = self.settled_amount if self.item_id is None else self.quantity
        assert received is not None  # the money_or_goods check constraint
        return received

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


def contribution_relations() -> tuple[ORMOption, ...]:
    """What a contribution's schema reads (campaign_code, item_code, status): loaded with
    every contribution a service returns."""
    return (
        selectinload(Contribution.campaign),
        selectinload(Contribution.item),
        selectinload(Contribution.reversal),
    )
