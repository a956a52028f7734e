from __future__ import annotations

from typing import Annotated

from fastapi import Query, status

from app import routing
from app.campaigns import schemas, service
from app.campaigns.dependencies import CampaignDep
from app.campaigns.models import Campaign, CampaignStatus
from app.campaigns.schemas import CODE_PATTERN
from app.db import SessionDep
from app.keys.auth import Authorized
from app.pagination import Page, PageDep, paginate

router = routing.router(tags=["campaigns"], prefix="/v1/campaigns", dependencies=[Authorized])


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
