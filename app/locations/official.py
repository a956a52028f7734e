"""Vietnam's official administrative units (the 2025 two-level structure), loaded into the tree.

The units come from the maintained `vietnam-provinces` package: 34 provinces and
centrally-run cities, and their wards (phường), communes (xã) and special zones (đặc khu),
which are all level `commune` here, hanging straight under their province. Codes are the
official ones, zero-padded as published: "40" for Nghệ An, "16813" for Xã Mường Xén.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from vietnam_provinces import Province, VietNamDivisionType, Ward
from vietnam_provinces import __data_version__ as DATA_VERSION
from vietnam_provinces import __version__ as PACKAGE_VERSION

from app.locations.models import Location, LocationLevel
from app.locations.service import lineage
from app.text import fold, nfc

__all__ = ["DATA_VERSION", "PACKAGE_VERSION", "ImportReport", "OfficialUnit", "import_units"]


@dataclass(frozen=True)
class OfficialUnit:
    code: str
    name: str
    level: LocationLevel
    parent_code: str | None


@dataclass
class LevelCounts:
    created: int = 0
    # Already there with its official code.
    present: int = 0
    # Already there by name (recorded by hand, without a code): given its code, not duplicated.
    matched: int = 0


@dataclass
class ImportReport:
    levels: dict[LocationLevel, LevelCounts] = field(default_factory=dict)

    @property
    def created(self) -> int:
        return sum(c.created for c in self.levels.values())

    @property
    def already_present(self) -> int:
        return sum(c.present + c.matched for c in self.levels.values())


def official_units() -> tuple[list[OfficialUnit], list[OfficialUnit]]:
    """The provinces and the communes, in the package's order."""
    provinces = [
        OfficialUnit(
            code=f"{p.code:02d}",
            # Cities keep "Thành phố …"; provinces carry their prefix too: "Tỉnh Nghệ An".
            name=nfc(p.name if p.division_type != VietNamDivisionType.TINH else f"Tỉnh {p.name}"),
            level=LocationLevel.province,
            parent_code=None,
        )
        for p in Province.iter_all()
    ]
    communes = [
        OfficialUnit(
            code=f"{w.code:05d}",
            name=nfc(w.name),
            level=LocationLevel.commune,
            parent_code=f"{w.province_code:02d}",
        )
        for w in Ward.iter_all()
    ]
    return provinces, communes


def import_units(session: Session) -> ImportReport:
    """Add every official unit that is not in the tree yet; flushes, never commits.

    A unit is already present when a location has its code, or when a location without a
    code has its name (folded) at its level under its parent: that one gets the code.
    Re-running changes nothing. A handful of statements per level, whatever the count.
    """
    provinces, communes = official_units()
    report = ImportReport()
    report.levels[LocationLevel.province] = _add_missing(session, provinces)
    report.levels[LocationLevel.commune] = _add_missing(session, communes)
    return report


def _add_missing(session: Session, units: Sequence[OfficialUnit]) -> LevelCounts:
    counts = LevelCounts()
    parents = _by_code(session, {u.parent_code for u in units if u.parent_code})
    with_code = set(
        session.scalars(select(Location.code).where(Location.code.in_([u.code for u in units])))
    )
    counts.present = sum(1 for u in units if u.code in with_code)
    rows = [_row(unit, parents) for unit in units if unit.code not in with_code]
    # Official names equal once folded (Xã Văn Lăng, Xã Văn Lang) only claim an exact match.
    spellings = Counter((u.parent_code, fold(u.name)) for u in units)
    custom = _custom_by_key(session, rows)
    new_rows = []
    for unit, row in rows:
        key = (row["ancestry"], row["name_folded"])
        existing = custom.get(key)
        if existing is not None and (
            spellings[(unit.parent_code, row["name_folded"])] == 1
            or existing.name.casefold() == unit.name.casefold()
        ):
            del custom[key]  # claimed once
            existing.code = unit.code  # through the ORM, so the audit log sees it
            counts.matched += 1
        else:
            new_rows.append(row)
    # ORM objects rather than a Core INSERT: each new place is audited like any other write
    # (one event each, under the command's system principal); still one batched INSERT.
    session.add_all([Location(**row) for row in new_rows])
    counts.created = len(new_rows)
    session.flush()
    return counts


def _row(unit: OfficialUnit, parents: dict[str, Location]) -> tuple[OfficialUnit, dict[str, Any]]:
    parent = parents[unit.parent_code] if unit.parent_code else None
    return unit, {
        "name": unit.name,
        "name_folded": fold(unit.name),
        "level": unit.level,
        "parent_id": parent.id if parent else None,
        "code": unit.code,
        **lineage(parent, unit.name),
    }


def _by_code(session: Session, codes: Iterable[str]) -> dict[str, Location]:
    codes = list(codes)
    if not codes:
        return {}
    return {
        location.code: location
        for location in session.scalars(select(Location).where(Location.code.in_(codes)))
        if location.code is not None
    }


def _custom_by_key(
    session: Session, rows: Sequence[tuple[OfficialUnit, dict[str, Any]]]
) -> dict[tuple[str, str], Location]:
    """Locations without a code at the rows' level under the rows' parents, by folded name."""
    if not rows:
        return {}
    level = rows[0][0].level
    candidates = session.scalars(
        select(Location).where(
            Location.ancestry.in_({row["ancestry"] for _, row in rows}),
            Location.level == level,
            Location.code.is_(None),
        )
    )
    return {(loc.ancestry, loc.name_folded): loc for loc in candidates}
