from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.donors.models import Donor
from app.donors.schemas import DonorCreate
from app.errors import DomainError, Invalid, NotFound
from app.keys import scope
from app.text import fold


def _find(session: Session, donor_id: int, absent: DomainError) -> Donor:
    # Officers see the donors their unit tree recorded; others are absent to them.
    return scope.get_reachable(
        session, select(Donor, Donor.unit_id).where(Donor.id == donor_id), absent
    )


def get(session: Session, donor_id: int) -> Donor:
    """The donor, if the caller's key reaches the unit that recorded it (404 otherwise)."""
    return _find(session, donor_id, NotFound("donor_not_found", f"No donor has id {donor_id}."))


def referenced(session: Session, donor_id: int) -> Donor:
    """A donor named in a request body: unknown (or unreachable) ids are a 422 on `donor_id`."""
    absent = Invalid.field("donor_id", "donor_not_found", f"no donor has id {donor_id}")
    return _find(session, donor_id, absent)


def create(session: Session, *, donor_in: DonorCreate) -> Donor:
    """Record a donor, owned by the caller's unit (the root unit for admins)."""
    unit = scope.acting_unit(session, None)
    donor = Donor(**donor_in.model_dump(), name_folded=fold(donor_in.name), unit_id=unit.id)
    session.add(donor)
    session.flush()
    return donor


def search(session: Session, *, q: str | None) -> Select[Donor]:
    """The donors the caller's key reaches, filtered by name."""
    stmt = scope.within_reach(session, select(Donor), Donor.unit_id)
    if q:
        stmt = stmt.where(Donor.name_folded.contains(fold(q), autoescape=True))
    return stmt
