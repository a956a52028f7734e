"""Transparency log tables: the tree's nodes, checkpoints, keys and cosignatures.

All are append-only (triggers in migration 0008, like the ledger's): a node, a checkpoint
or a cosignature, once written, is never changed, so yesterday's proofs stay valid.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class TreeNode(Base):
    """A perfect subtree's hash: leaves [index·2^level, (index+1)·2^level) of one campaign's log."""

    __tablename__ = "transparency_nodes"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class SigningKey(Base):
    """A public key that has signed checkpoints; kept (and published) after rotation."""

    __tablename__ = "signing_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    vkey: Mapped[str] = mapped_column(String(200), unique=True)
    first_used_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Checkpoint(Base):
    """A signed tree head of one campaign's log (the C2SP tlog-checkpoint note, signed)."""

    __tablename__ = "checkpoints"
    __table_args__ = (UniqueConstraint("campaign_id", "size"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    size: Mapped[int] = mapped_column(BigInteger)
    root_hash: Mapped[str] = mapped_column(String(64))  # hex, like the ledger's hashes
    # `<origin>\n<size>\n<base64 root>\n`, exactly the signed bytes.
    body: Mapped[str] = mapped_column(Text)
    # The log's signature line, `— <name> <base64(key ID ‖ signature)>\n`.
    signature: Mapped[str] = mapped_column(Text)
    signing_key_id: Mapped[int] = mapped_column(ForeignKey("signing_keys.id"))
    # Why it was issued: `statement`, `on_demand` or `interval`.
    reason: Mapped[str] = mapped_column(String(20))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AuditorKey(Base):
    """An auditor's cosigning public key (a tlog-cosignature vkey), registered with their API key."""

    __tablename__ = "auditor_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    vkey: Mapped[str] = mapped_column(String(300), unique=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"), index=True)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Cosignature(Base):
    """An auditor's signature line on a checkpoint, served under the log's own."""

    __tablename__ = "cosignatures"
    __table_args__ = (UniqueConstraint("checkpoint_id", "auditor_key_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    checkpoint_id: Mapped[int] = mapped_column(ForeignKey("checkpoints.id"))
    auditor_key_id: Mapped[int] = mapped_column(ForeignKey("auditor_keys.id"))
    line: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
