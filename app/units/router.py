from __future__ import annotations

from fastapi import status

from app import routing
from app.db import SessionDep
from app.keys.auth import AdminOnly
from app.pagination import Page, PageDep, paginate
from app.units import schemas, service
from app.units.models import Unit

router = routing.router(tags=["units"], prefix="/v1/units", dependencies=[AdminOnly])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.Unit,
    openapi_extra=routing.body_example({"code": "ky-son", "name": "Ủy ban MTTQ huyện Kỳ Sơn"}),
)
def create_unit(body: schemas.UnitCreate, session: SessionDep) -> Unit:
    """Add a unit

    A node of the organisation tree below `parent_code` (the root by default).

    Refuses: `unit_code_taken` (409), `unit_not_found` (422).
    """
    return service.create(session, unit_in=body)


@router.get("", response_model=Page[schemas.Unit])
def list_units(session: SessionDep, page: PageDep) -> Page[schemas.Unit]:
    """List units

    The organisation tree, oldest first.
    """
    return paginate(session, service.search(), Unit.id, page, schemas.Unit.model_validate)
