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


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.Campaign,
    openapi_extra=routing.body_example(
        {
            "code": "ky-son-flood-2022",
            "title": "Ủng hộ đồng bào Kỳ Sơn bị lũ quét",
            "kind": "flood",
            "currency": "VND",
            "target_amount": "5000000000",
            "starts_on": "2022-10-01",
            "description": "Hỗ trợ các hộ dân huyện Kỳ Sơn bị lũ quét tháng 9/2022.",
        }
    ),
)
def create_campaign(body: schemas.CampaignCreate, session: SessionDep) -> Campaign:
    """Create a campaign (draft)

    Records a new relief appeal in `draft` and opens its ledger chain; it takes money
    only once opened. A sub-campaign (`parent_code`) uses its parent's currency and
    belongs to the parent's unit or a unit below it (it takes the parent's unit when
    `unit_code` is omitted).

    Refuses: `campaign_code_taken` (409), `sub_campaign_outside_parent_unit` (409),
    `unknown_currency`, `parent_currency_mismatch`, `amount_precision_exceeds_currency`,
    `dates_out_of_order` (422).
    """
    return service.create(session, campaign_in=body)


@router.get("", response_model=Page[schemas.Campaign])
def list_campaigns(
    session: SessionDep,
    page: PageDep,
    status: CampaignStatus | None = None,
    parent_code: Annotated[str | None, Query(max_length=64, pattern=CODE_PATTERN)] = None,
) -> Page[schemas.Campaign]:
    """List campaigns

    The campaigns whose unit the key reaches, oldest first, filtered by status or
    parent.
    """
    stmt = service.search(session, status=status, parent_code=parent_code)
    return paginate(session, stmt, Campaign.id, page, schemas.Campaign.model_validate)


@router.get("/{code}", response_model=schemas.Campaign)
def get_campaign(campaign: CampaignDep) -> Campaign:
    """Get a campaign

    One campaign by its code; 404 when absent or outside the key's units.
    """
    return campaign


@router.patch(
    "/{code}",
    response_model=schemas.Campaign,
    openapi_extra=routing.body_example(
        {"title": "Ủng hộ đồng bào Kỳ Sơn, Nghệ An bị lũ quét", "target_amount": "6000000000"}
    ),
)
def update_campaign(
    campaign: CampaignDep, body: schemas.CampaignUpdate, session: SessionDep
) -> Campaign:
    """Change a campaign (title, status, target …)

    Changes are recorded in the campaign's ledger chain. Status only moves draft → open
    → closed.

    Refuses: `illegal_status_transition` (409), `value_required`, `dates_out_of_order`,
    `amount_precision_exceeds_currency` (422).
    """
    return service.update(session, campaign, changes=body)
