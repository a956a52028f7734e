from __future__ import annotations

from typing import Annotated

from fastapi import Path, status

from app import routing
from app.db import SessionDep
from app.items import schemas, service
from app.items.models import Item
from app.items.schemas import ITEM_CODE_PATTERN
from app.keys.auth import Authorized
from app.pagination import Page, PageDep, paginate
from app.text import SearchQuery

router = routing.router(tags=["items"], prefix="/v1/items", dependencies=[Authorized])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.Item,
    openapi_extra=routing.body_example(
        {"code": "breeding-goat", "name": "Dê giống", "unit": "con"}
    ),
)
def create_item(body: schemas.ItemCreate, session: SessionDep) -> Item:
    """Add an item to the goods catalogue

    Its unit is counted (con, bộ, thùng, …: whole quantities) or measured (kg, lít, …:
    up to three decimals).

    Refuses: `item_code_taken` (409), `unit_unknown` (422).
    """
    return service.create(session, item_in=body)


@router.get("", response_model=Page[schemas.Item])
def list_items(session: SessionDep, page: PageDep, q: SearchQuery = None) -> Page[schemas.Item]:
    """List catalogue items

    `q` matches names without case or diacritics.
    """
    return paginate(session, service.search(q=q), Item.id, page, schemas.Item.model_validate)


@router.get("/{item_code}", response_model=schemas.Item)
def get_item(
    item_code: Annotated[str, Path(max_length=64, pattern=ITEM_CODE_PATTERN)], session: SessionDep
) -> Item:
    """Get a catalogue item

    By its code.
    """
    return service.get_by_code(session, item_code)
