from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship, selectinload
from sqlalchemy.orm.interfaces import ORMOption

from app.db import Base, UTCDateTime, utcnow
from app.keys.roles import Role
from app.units.models import Unit


class ApiKey(Base):
    """A bearer token's record. The token itself is never stored, only its SHA-256."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    role: Mapped[Role] = mapped_column(String(10))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    # The first characters of the token, not secret: lets people tell their keys apart.
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    unit: Mapped[Unit | None] = relationship(lazy="raise")

    @property
    def unit_code(self) -> str | None:
        return self.unit.code if self.unit else None


def key_relations() -> tuple[ORMOption, ...]:
    """What a key's schema reads (unit_code): loaded with every key returned."""
    return (selectinload(ApiKey.unit),)
