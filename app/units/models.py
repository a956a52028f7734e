from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow

ROOT_CODE = "root"


class Unit(Base):
    """A node of the organisation tree. Units never move, so `path` never changes."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    # `/root/nghe-an/ky-son/`: a unit reaches every unit whose path starts with its own.
    path: Mapped[str] = mapped_column(String(2000), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def parent_code(self) -> str | None:
        parts = self.path.strip("/").split("/")
        return parts[-2] if len(parts) > 1 else None
