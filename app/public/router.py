from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import Path, Query, Request, Response

from app import routing
from app.campaigns.models import CampaignStatus
from app.campaigns.schemas import CODE_PATTERN
from app.contributions.models import Contribution
from app.db import SessionDep
from app.hxl import EXPORT_DESCRIPTION, ExportFormat, export_response
from app.money import PositiveDecimal
from app.pagination import Page, PageDep, paginate
from app.public import schemas, service
from app.text import SearchQuery

router = routing.router(tags=["public"], prefix="/v1/public")

CampaignCode = Annotated[str, Path(max_length=64, pattern=CODE_PATTERN)]


@router.get("/campaigns", response_model=Page[schemas.PublicCampaign])
def list_public_campaigns(
    session: SessionDep,
    page: PageDep,
    status: Annotated[Literal["open", "closed"] | None, Query(description="Default: both.")] = None,
) -> Page[schemas.PublicCampaign]:
    """List public campaigns

    Open and closed campaigns with their totals.
    """
    return service.list_campaigns(session, page, status=CampaignStatus(status) if status else None)


@router.get("/campaigns/{code}", response_model=schemas.PublicCampaignDetail)
def get_public_campaign(code: CampaignCode, session: SessionDep) -> schemas.PublicCampaignDetail:
    """A public campaign's page

    Totals, where the money and goods went, and the official receiving accounts. Drafts
    answer 404.
    """
    return service.campaign_detail(session, service.get_campaign(session, code))


@router.get(
    "/campaigns/{code}/contributions",
    response_model=Page[schemas.PublicContribution],
    responses={200: {"content": {"text/csv": {}}, "description": EXPORT_DESCRIPTION}},
)
def list_public_contributions(
    code: CampaignCode,
    request: Request,
    session: SessionDep,
    page: PageDep,
    q: SearchQuery = None,
    min_amount: Annotated[
        PositiveDecimal | None, Query(description="Settled amount at least this.")
    ] = None,
    max_amount: Annotated[
        PositiveDecimal | None, Query(description="Settled amount at most this.")
    ] = None,
    received_from: date | None = None,
    received_to: date | None = None,
    bank_reference: Annotated[
        str | None,
        Query(
            max_length=100,
            description="The bank reference of a transfer, matched exactly (never in part).",
        ),
    ] = None,
    format: ExportFormat = "json",
) -> Page[schemas.PublicContribution] | Response:
    """A campaign's public statement

    Every contribution, anonymous donors masked, as JSON pages or (`format=csv`) one CSV
    file with a UTF-8 BOM and no cell a spreadsheet would run as a formula; `format=hxl`
    adds HXL's hashtag row under the header (docs/api.md, "HXL"). `q` matches
    only what the public is shown (display names, transfer messages of named donors).
    """
    campaign = service.get_campaign(session, code)
    where = service.StatementFilter(
        q, min_amount, max_amount, received_from, received_to, bank_reference
    )
    where.check(campaign)
    if format != "json":
        lines = service.csv_lines(
            request.app.state.database, campaign.id, where, as_hxl=format == "hxl"
        )
        return export_response(lines, f"{code}-contributions", format)
    stmt = service.statement(session, campaign, where)
    return paginate(session, stmt, Contribution.id, page, service.render)


@router.get("/receipts/{receipt_code}", response_model=schemas.PublicReceipt)
def get_public_receipt(
    receipt_code: Annotated[str, Path(max_length=20, pattern=r"^[A-Za-z0-9-]+$")],
    session: SessionDep,
) -> schemas.PublicReceipt:
    """Look up a receipt

    A contribution by its receipt code, and its campaign's page.
    """
    return service.receipt(session, receipt_code)
