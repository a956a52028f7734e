"""Places money and goods go to: province → district → commune → village, or custom."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow

# Joins the names of a location's ancestors and its own into its `path`.
PATH_SEPARATOR = " › "


class LocationLevel(StrEnum):
    province = "province"
    district = "district"
    commune = "commune"
    village = "village"
    other = "other"


class Location(Base):
    """A node of the tree. Never renamed or moved, so its ancestry and path are stored once."""

    __tablename__ = "locations"
    # A custom place spelled twice (case, diacritics, NFD) under one parent is refused; official
    # units are exempt, as two communes may differ only by diacritics (Xã Văn Lăng, Xã Văn Lang).
    __table_args__ = (
        Index(
            "uq_locations_custom_name",
            "ancestry",
            "level",
            "name_folded",
            unique=True,
            sqlite_where=text("code IS NULL"),
            postgresql_where=text("code IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # Lower-case, diacritics removed: what `?q=` searches.
    name_folded: Mapped[str] = mapped_column(String(200), index=True)
    level: Mapped[LocationLevel] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"), index=True)
    code: Mapped[str | None] = mapped_column(String(40), unique=True)
    # The ids of the ancestors, root first: "/" for a root, "/1/5/" under 1 › 5.
    ancestry: Mapped[str] = mapped_column(String(255))
    # How many ancestors it has: 0 for a root.
    depth: Mapped[int]
    # The names from the root down to this one, joined by PATH_SEPARATOR.
    path: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def ancestor_ids(self) -> list[int]:
        """The ids of the ancestors, root first."""
        return ancestor_ids(self.ancestry)


def ancestor_ids(ancestry: str) -> list[int]:
    """The ids in a stored ancestry ("/1/5/" → [1, 5]), root first."""
    return [int(part) for part in ancestry.strip("/").split("/") if part]
