from __future__ import annotations

from fastapi import status

from app import routing
from app.db import SessionDep
from app.donors import schemas, service
from app.donors.models import Donor
from app.ids import IdPath
from app.keys.auth import Authorized
from app.pagination import Page, PageDep, paginate
from app.text import SearchQuery

router = routing.router(tags=["donors"], prefix="/v1/donors", dependencies=[Authorized])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.Donor,
    openapi_extra=routing.body_example(
        {
            "name": "Công ty CP Sữa Việt Nam",
            "kind": "business",
            "country": "VN",
            "email": "csr@example.vn",
        }
    ),
)
def create_donor(body: schemas.DonorCreate, session: SessionDep) -> Donor:
    """Record a donor

    An individual, business or organisation that gives. An `anonymous` donor's name, and
    the real name behind a `display_name`, are never shown or searchable publicly.

    Refuses: invalid e-mail, phone or country, control characters or bidirectional
    overrides in names (422).
    """
    return service.create(session, donor_in=body)


@router.get("", response_model=Page[schemas.Donor])
def list_donors(
    session: SessionDep,
    page: PageDep,
    q: SearchQuery = None,
) -> Page[schemas.Donor]:
    """List donors

    Donors the key may see, oldest first; `q` matches names without case or diacritics.
    """
    return paginate(
        session, service.search(session, q=q), Donor.id, page, schemas.Donor.model_validate
    )


@router.get("/{donor_id}", response_model=schemas.Donor)
def get_donor(donor_id: IdPath, session: SessionDep) -> Donor:
    """Get a donor

    One donor with private fields (e-mail, phone).
    """
    return service.get(session, donor_id)
