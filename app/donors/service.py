from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.donors.models import Donor
from app.donors.schemas import DonorCreate
from app.errors import Invalid, NotFound
from app.text import fold


def get(session: Session, donor_id: int) -> Donor:
    donor = session.get(Donor, donor_id)
    if donor is None:
        raise NotFound("donor_not_found", f"No donor has id {donor_id}.")
    return donor


def referenced(session: Session, donor_id: int) -> Donor:
    """A donor named in a request body: unknown ids are a 422 on `donor_id`."""
    donor = session.get(Donor, donor_id)
    if donor is None:
        raise Invalid.field("donor_id", "donor_not_found", f"no donor has id {donor_id}")
    return donor


def create(session: Session, *, donor_in: DonorCreate) -> Donor:
    donor = Donor(**donor_in.model_dump(), name_folded=fold(donor_in.name))
    session.add(donor)
    session.flush()
    return donor


def search(*, q: str | None) -> Select[Donor]:
    stmt = select(Donor)
    if q:
        stmt = stmt.where(Donor.name_folded.contains(fold(q), autoescape=True))
    return stmt
