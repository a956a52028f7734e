from __future__ import annotations

from fastapi import status

from app import routing
from app.db import SessionDep
from app.ids import IdPath, IdQuery
from app.keys.auth import Authorized
from app.locations import schemas, service
from app.locations.models import Location, LocationLevel
from app.pagination import Page, PageDep, paginate
from app.text import SearchQuery

router = routing.router(tags=["locations"], prefix="/v1/locations", dependencies=[Authorized])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.Location,
    openapi_extra=routing.body_example({"name": "Xã Tà Cạ", "level": "commune"}),
)
def create_location(body: schemas.LocationCreate, session: SessionDep) -> Location:
    """Record a place

    A province, district or commune that money and goods go to.

    Refuses: `location_exists`, `location_code_taken` (409), `location_too_deep` (422).
    """
    return service.create(session, location_in=body)


@router.get("", response_model=Page[schemas.Location])
def list_locations(
    session: SessionDep,
    page: PageDep,
    q: SearchQuery = None,
    parent_id: IdQuery = None,
    level: LocationLevel | None = None,
) -> Page[schemas.Location]:
    """List places

    Filtered by parent or level; `q` ignores case and diacritics.
    """
    stmt = service.search(q=q, parent_id=parent_id, level=level)
    return paginate(session, stmt, Location.id, page, schemas.Location.model_validate)


@router.get("/{location_id}", response_model=schemas.Location)
def get_location(location_id: IdPath, session: SessionDep) -> Location:
    """Get a place

    With its path from the province down.
    """
    return service.get(session, location_id)
