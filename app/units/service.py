"""Unit rules: codes are unique, every unit but the root has a parent, units never move."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.errors import Conflict, Invalid
from app.units.models import ROOT_CODE, Unit
from app.units.schemas import UnitCreate


def by_code(session: Session, code: str) -> Unit | None:
    return session.scalars(select(Unit).where(Unit.code == code)).one_or_none()


def root(session: Session) -> Unit:
    unit = by_code(session, ROOT_CODE)
    if unit is None:  # pragma: no cover - migration 0004 creates it
        raise RuntimeError("the root unit is missing; run `alembic upgrade head`")
    return unit


def referenced(session: Session, code: str, *, field: str = "unit_code") -> Unit:
    """A unit named in a request body: unknown codes are a 422 on that field."""
    unit = by_code(session, code)
    if unit is None:
        raise unit_not_found(code, field)
    return unit


def unit_not_found(code: str, field: str) -> Invalid:
    return Invalid.field(field, "unit_not_found", f"no unit has code {code!r}")


def create(session: Session, *, unit_in: UnitCreate) -> Unit:
    """Record a unit under its parent (the root unit by default)."""
    parent = referenced(session, unit_in.parent_code or ROOT_CODE, field="parent_code")
    if by_code(session, unit_in.code) is not None:
        raise Conflict("unit_code_taken", f"A unit with code {unit_in.code!r} exists.")
    unit = Unit(
        code=unit_in.code,
        name=unit_in.name,
        parent_id=parent.id,
        path=f"{parent.path}{unit_in.code}/",
    )
    session.add(unit)
    session.flush()
    return unit


def search() -> Select[Unit]:
    return select(Unit)


def path_of(session: Session, unit_id: int) -> str:
    """The unit's path; units are read through the identity map, so once per transaction."""
    unit = session.get(Unit, unit_id)
    assert unit is not None  # a foreign key guarantees it
    return unit.path
