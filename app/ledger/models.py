"""Ledger tables.

Sign convention: a posting's amount is positive for a debit and negative for a credit;
an entry balances when its postings sum to zero for every asset. An asset is a currency
code (`VND`, `USD`) or an item (`item:breeding-goat`).

Entries and postings are append-only: database triggers (see the first migration)
refuse UPDATE and DELETE. Account balances and the chain head are the *kept* values that
reconciliation reads; `ledger.verify.verify_campaign` rebuilds them from entries.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Amount, Base, UTCDateTime
from app.ledger.chain import GENESIS_HASH


class LedgerHead(Base):
    """The tip of one campaign's chain; also the row a writer locks to serialise the campaign."""

    __tablename__ = "ledger_heads"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    head_hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    pledges_count: Mapped[int] = mapped_column(Integer, default=0)
    contributions_count: Mapped[int] = mapped_column(Integer, default=0)


class LedgerAccount(Base):
    __tablename__ = "ledger_accounts"
    __table_args__ = (UniqueConstraint("campaign_id", "code", "asset"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    code: Mapped[str] = mapped_column(String(80))
    asset: Mapped[str] = mapped_column(String(80))
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    # TigerBeetle's debits_must_not_exceed_credits, inverted for asset accounts: never below zero.
    must_not_go_negative: Mapped[bool] = mapped_column(Boolean, default=False)
    balance: Mapped[Decimal] = mapped_column(Amount(), default=Decimal(0))


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"
    __table_args__ = (
        UniqueConstraint("campaign_id", "seq"),
        Index("ix_ledger_entries_campaign_recorded", "campaign_id", "recorded_at", "seq"),
        Index("ix_ledger_entries_campaign_kind", "campaign_id", "kind", "seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(40))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Canonical JSON of what the entry records (ids, codes, reasons); part of the hash.
    detail: Mapped[str] = mapped_column(Text)
    # The campaign's counters after this entry, so `as_of` reads them without a scan.
    pledges_count: Mapped[int] = mapped_column(Integer)
    contributions_count: Mapped[int] = mapped_column(Integer)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class LedgerPosting(Base):
    __tablename__ = "ledger_postings"
    __table_args__ = (
        UniqueConstraint("entry_id", "account_id"),
        Index("ix_ledger_postings_account_seq", "account_id", "seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"))
    # The entry's seq, repeated so a balance "as of" an entry is one index lookup.
    seq: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(Amount())
    balance_after: Mapped[Decimal] = mapped_column(Amount())
