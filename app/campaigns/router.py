from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status

from app.campaigns import schemas, service
from app.campaigns.models import Campaign, CampaignStatus
from app.campaigns.schemas import CODE_PATTERN
from app.db import SessionDep, TransactionalRoute
from app.keys.auth import Authorized
from app.pagination import Page, PageDep, paginate

router = APIRouter(
    prefix="/v1/campaigns",
    tags=["campaigns"],
    route_class=TransactionalRoute,
    dependencies=[Authorized],
)


def valid_campaign(
    code: Annotated[str, Path(max_length=64, pattern=CODE_PATTERN)], session: SessionDep
) -> Campaign:
    """Load the campaign named in the path, or answer 404."""
    return service.get_by_code(session, code)


CampaignDep = Annotated[Campaign, Depends(valid_campaign)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=schemas.Campaign)
def create_campaign(body: schemas.CampaignCreate, session: SessionDep) -> Campaign:
    return service.create(session, campaign_in=body)


@router.get("", response_model=Page[schemas.Campaign])
def list_campaigns(
    session: SessionDep,
    page: PageDep,
    status: CampaignStatus | None = None,
    parent_code: Annotated[str | None, Query(max_length=64, pattern=CODE_PATTERN)] = None,
) -> Page[schemas.Campaign]:
    stmt = service.search(session, status=status, parent_code=parent_code)
    return paginate(session, stmt, Campaign.id, page, schemas.Campaign.model_validate)


@router.get("/{code}", response_model=schemas.Campaign)
def get_campaign(campaign: CampaignDep) -> Campaign:
    return campaign


@router.patch("/{code}", response_model=schemas.Campaign)
def update_campaign(
    campaign: CampaignDep, body: schemas.CampaignUpdate, session: SessionDep
) -> Campaign:
    return service.update(session, campaign, changes=body)
