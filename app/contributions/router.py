from __future__ import annotations

from fastapi import Request, Response, status

from app import routing
from app.campaigns.dependencies import CampaignDep
from app.contributions import schemas, service
from app.contributions.models import Contribution
from app.db import SessionDep
from app.hxl import EXPORT_DESCRIPTION, ExportFormat, export_response
from app.ids import IdPath, IdQuery
from app.keys.auth import Authorized
from app.pagination import Page, PageDep, paginate

router = routing.router(tags=["contributions"], dependencies=[Authorized])


@router.post(
    "/campaigns/{code}/contributions",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.Contribution,
    openapi_extra=routing.body_example(
        {
            "donor_id": 1,
            "amount": "500000",
            "received_on": "2022-10-05",
            "method": "bank_transfer",
            "bank_reference": "FT22278912345",
            "description": "MBVCB.2235.Nguyen Van An ung ho dong bao Ky Son",
        }
    ),
)
def create_contribution(
    campaign: CampaignDep, body: schemas.ContributionCreate, session: SessionDep
) -> Contribution:
    """Record money or goods received

    Books a contribution on the campaign's ledger: money (`amount`, `method`) or goods
    (`item_code`, `quantity`). Foreign money needs `settled_amount` or `fx_rate`. Send
    an `Idempotency-Key` header so a retried request is recorded once.

    Refuses: `money_and_goods`, `method_required`, `bank_reference_already_recorded`
    (409), `campaign_not_accepting` (409), `date_in_future`, `date_not_plain`,
    `date_too_early`, `contribution_currency_mismatch`, `quantity_not_whole` (422).
    """
    return service.create(session, campaign, contribution_in=body)


@router.get(
    "/campaigns/{code}/contributions",
    response_model=Page[schemas.Contribution],
    responses={200: {"content": {"text/csv": {}}, "description": EXPORT_DESCRIPTION}},
)
def list_contributions(
    campaign: CampaignDep,
    request: Request,
    session: SessionDep,
    page: PageDep,
    donor_id: IdQuery = None,
    pledge_id: IdQuery = None,
    format: ExportFormat = "json",
) -> Page[schemas.Contribution] | Response:
    """List a campaign's contributions

    Oldest first; reversed ones included. `format=csv` streams every matching row as one
    CSV file, `format=hxl` the same as HXL (docs/api.md, "HXL"), with the donor's name:
    the real one where the key reaches the unit that recorded the donor, the public one
    (anonymous donors masked) elsewhere.
    """
    if format != "json":
        rows = service.export(
            session,
            request.app.state.database,
            campaign,
            donor_id=donor_id,
            pledge_id=pledge_id,
            as_hxl=format == "hxl",
        )
        return export_response(rows, f"{campaign.code}-contributions", format)
    stmt = service.search(campaign, donor_id=donor_id, pledge_id=pledge_id)
    return paginate(session, stmt, Contribution.id, page, schemas.Contribution.model_validate)


@router.get("/contributions/{contribution_id}", response_model=schemas.Contribution)
def get_contribution(contribution_id: IdPath, session: SessionDep) -> Contribution:
    """Get a contribution

    With its receipt code and any reversal.
    """
    return service.get(session, contribution_id)


@router.post(
    "/contributions/{contribution_id}/reverse",
    response_model=schemas.Contribution,
    openapi_extra=routing.body_example({"reason": "Nhập sai số tiền"}),
)
def reverse_contribution(
    contribution_id: IdPath, body: schemas.ContributionReverse, session: SessionDep
) -> Contribution:
    """Reverse a contribution

    A correction is a reversing entry, never an edit: the original stays in the chain.

    Refuses: `contribution_already_reversed`, `reversal_exceeds_available` (409).
    """
    contribution = service.get(session, contribution_id)
    return service.reverse(session, contribution, reason=body.reason)
