from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.errors import Conflict, Invalid, NotFound
from app.locations.models import Location
from app.locations.schemas import LocationCreate
from app.text import fold


def get(session: Session, location_id: int) -> Location:
    location = session.get(Location, location_id)
    if location is None:
        raise NotFound("location_not_found", f"No location has id {location_id}.")
    return location


def referenced(session: Session, location_id: int, *, field: str = "location_id") -> Location:
    """A location named in a request body: unknown ids are a 422 on that field."""
    location = session.get(Location, location_id)
    if location is None:
        raise Invalid.field(field, "location_not_found", f"no location has id {location_id}")
    return location


def create(session: Session, *, location_in: LocationCreate) -> Location:
    """Record a place; its parent must exist and its official code must be unused."""
    if location_in.parent_id is not None:
        referenced(session, location_in.parent_id, field="parent_id")
    if location_in.code and session.scalar(
        select(Location.id).where(Location.code == location_in.code)
    ):
        raise Conflict("location_code_taken", f"A location with code {location_in.code} exists.")
    location = Location(
        name=location_in.name,
        name_folded=fold(location_in.name),
        level=location_in.level,
        parent_id=location_in.parent_id,
        code=location_in.code,
    )
    session.add(location)
    session.flush()
    return location


def search(*, q: str | None, parent_id: int | None) -> Select[Location]:
    stmt = select(Location)
    if q:
        stmt = stmt.where(Location.name_folded.contains(fold(q), autoescape=True))
    if parent_id is not None:
        stmt = stmt.where(Location.parent_id == parent_id)
    return stmt
