from __future__ import annotations

from typing import Annotated

from fastapi import Body, status

from app import routing
from app.campaigns.dependencies import CampaignDep
from app.db import SessionDep
from app.ids import IdPath, IdQuery
from app.keys.auth import Authorized
from app.pagination import Page, PageDep, paginate
from app.pledges import schemas, service
from app.pledges.models import Pledge

router = routing.router(tags=["pledges"], dependencies=[Authorized])


@router.post(
    "/campaigns/{code}/pledges",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.Pledge,
    openapi_extra=routing.body_example(
        {"donor_id": 1, "amount": "100000000", "due_on": "2022-11-30", "reference": "KS-9PLD"}
    ),
)
def create_pledge(campaign: CampaignDep, body: schemas.PledgeCreate, session: SessionDep) -> Pledge:
    """Record a pledge

    A donor's promise to give money (`amount`, in its own `currency`: contributions in
    that currency fulfil it) or goods (`item_code` + `quantity`), never both.

    Refuses: `money_and_goods`, `donor_not_found`, `unknown_currency`, `quantity_not_whole`
    (422), `pledge_reference_taken` (409),
    `campaign_not_accepting` (409, the campaign is not open).
    """
    return service.create(session, campaign, pledge_in=body)


@router.get("/campaigns/{code}/pledges", response_model=Page[schemas.Pledge])
def list_pledges(
    campaign: CampaignDep, session: SessionDep, page: PageDep, donor_id: IdQuery = None
) -> Page[schemas.Pledge]:
    """List a campaign's pledges

    Oldest first.
    """
    stmt = service.search(campaign, donor_id=donor_id)
    return paginate(session, stmt, Pledge.id, page, schemas.Pledge.model_validate)


@router.get("/pledges/{pledge_id}", response_model=schemas.Pledge)
def get_pledge(pledge_id: IdPath, session: SessionDep) -> Pledge:
    """Get a pledge

    With what has been fulfilled so far.
    """
    return service.get(session, pledge_id)


@router.post(
    "/pledges/{pledge_id}/cancel",
    response_model=schemas.Pledge,
    openapi_extra=routing.body_example({"reason": "Nhà tài trợ rút cam kết"}),
)
def cancel_pledge(
    pledge_id: IdPath,
    session: SessionDep,
    body: Annotated[schemas.PledgeCancel | None, Body()] = None,
) -> Pledge:
    """Cancel a pledge

    What is still outstanding is written off in the ledger; contributions already
    received stay.

    Refuses: `pledge_already_cancelled`, `pledge_already_fulfilled` (409).
    """
    pledge = service.get(session, pledge_id)
    return service.cancel(session, pledge, reason=body.reason if body else None)
