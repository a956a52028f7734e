from __future__ import annotations

from fastapi import status

from app import routing
from app.campaigns.dependencies import CampaignDep
from app.contributions import schemas, service
from app.contributions.models import Contribution
from app.db import SessionDep
from app.ids import IdPath, IdQuery
from app.keys.auth import Authorized
from app.pagination import Page, PageDep, paginate

router = routing.router(tags=["contributions"], dependencies=[Authorized])


@router.post(
    "/campaigns/{code}/contributions",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.Contribution,
)
def create_contribution(
    campaign: CampaignDep, body: schemas.ContributionCreate, session: SessionDep
) -> Contribution:
    return service.create(session, campaign, contribution_in=body)


@router.get("/campaigns/{code}/contributions", response_model=Page[schemas.Contribution])
def list_contributions(
    campaign: CampaignDep,
    session: SessionDep,
    page: PageDep,
    donor_id: IdQuery = None,
    pledge_id: IdQuery = None,
) -> Page[schemas.Contribution]:
    stmt = service.search(campaign, donor_id=donor_id, pledge_id=pledge_id)
    return paginate(session, stmt, Contribution.id, page, schemas.Contribution.model_validate)


@router.get("/contributions/{contribution_id}", response_model=schemas.Contribution)
def get_contribution(contribution_id: IdPath, session: SessionDep) -> Contribution:
    return service.get(session, contribution_id)


@router.post("/contributions/{contribution_id}/reverse", response_model=schemas.Contribution)
def reverse_contribution(
    contribution_id: IdPath, body: schemas.ContributionReverse, session: SessionDep
) -> Contribution:
    contribution = service.get(session, contribution_id)
    return service.reverse(session, contribution, reason=body.reason)
