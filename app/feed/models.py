"""The feed's tables: the secrets a bank signs its posts with, and the posts answered."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class FeedSecret(Base):
    """A receiving account's HMAC secret. Kept as issued (the server must compute the same
    HMAC as the bank, so it cannot be a one-way hash like an API key's); never shown again
    after it is issued, never written to the audit log."""

    __tablename__ = "feed_secrets"

    id: Mapped[int] = mapped_column(primary_key=True)
    receiving_account_id: Mapped[int] = mapped_column(
        ForeignKey("receiving_accounts.id"), index=True
    )
    secret: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Set when a newer secret replaces it: still valid until then (the rotation's grace).
    retires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def status(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.retires_at is None:
            return "active"
        return "retiring" if self.retires_at > now else "retired"

    def valid(self, now: datetime) -> bool:
        return self.status(now) in ("active", "retiring")


class FeedOutcome(StrEnum):
    """What an accepted post did: booked a new contribution, or found its bank line already
    recorded (by a statement import, by hand, or by an earlier post with another id)."""

    booked = "booked"
    duplicate = "duplicate"


class FeedPost(Base):
    """A transfer the feed answered, by the bank's transaction id: a repeat of the same id
    answers this again and books nothing."""

    __tablename__ = "feed_posts"
    __table_args__ = (UniqueConstraint("receiving_account_id", "transaction_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    receiving_account_id: Mapped[int] = mapped_column(ForeignKey("receiving_accounts.id"))
    transaction_id: Mapped[str] = mapped_column(String(100))
    # SHA-256 of the transfer as posted, send time excepted: the same id with other
    # content is refused (409), a resend with a fresh send time is the same post.
    content_sha256: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[FeedOutcome] = mapped_column(String(20))
    contribution_id: Mapped[int | None] = mapped_column(ForeignKey("contributions.id"))
    counterparty_name: Mapped[str | None] = mapped_column(String(300))
    counterparty_account: Mapped[str | None] = mapped_column(String(64))
    counterparty_bank: Mapped[str | None] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
