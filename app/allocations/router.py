from __future__ import annotations

from typing import Annotated

from fastapi import Body, Request, Response, status

from app import routing
from app.allocations import schemas, service
from app.allocations.models import Allocation, AllocationStatus
from app.campaigns.dependencies import CampaignDep
from app.db import SessionDep
from app.hxl import EXPORT_DESCRIPTION, ExportFormat, export_response
from app.ids import IdPath, IdQuery
from app.keys.auth import Authorized
from app.pagination import Page, PageDep, paginate

router = routing.router(tags=["allocations"], dependencies=[Authorized])


@router.post(
    "/campaigns/{code}/allocations",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.Allocation,
    openapi_extra=routing.body_example(
        {
            "location_id": 1,
            "amount": "100000",
            "purpose": "Hỗ trợ làm nhà cho hộ mất nhà",
            "beneficiary": "Hộ ông Lô Văn Tình, bản Xiêng Thù",
            "allocated_on": "2022-10-15",
        }
    ),
)
def create_allocation(
    campaign: CampaignDep, body: schemas.AllocationCreate, session: SessionDep
) -> Allocation:
    """Allocate money or goods to a place

    Assigns part of what the campaign holds to a location.

    Refuses: `allocation_exceeds_available` (409), `money_and_goods`,
    `location_not_found`, `quantity_not_whole`, `allocated_before_campaign_start`,
    `date_in_future` (422), `campaign_not_accepting` (409).
    """
    return service.create(session, campaign, allocation_in=body)


@router.get(
    "/campaigns/{code}/allocations",
    response_model=Page[schemas.Allocation],
    responses={200: {"content": {"text/csv": {}}, "description": EXPORT_DESCRIPTION}},
)
def list_allocations(
    campaign: CampaignDep,
    request: Request,
    session: SessionDep,
    page: PageDep,
    location_id: IdQuery = None,
    status: AllocationStatus | None = None,
    format: ExportFormat = "json",
) -> Page[schemas.Allocation] | Response:
    """List a campaign's allocations

    Oldest first. `format=csv` streams every matching row as one CSV file, `format=hxl`
    as HXL with each place's official units (docs/api.md, "HXL").
    """
    if format != "json":
        rows = service.export(
            request.app.state.database,
            campaign,
            location_id=location_id,
            status=status,
            as_hxl=format == "hxl",
        )
        return export_response(rows, f"{campaign.code}-allocations", format)
    stmt = service.search(campaign, location_id=location_id, status=status)
    return paginate(session, stmt, Allocation.id, page, schemas.Allocation.model_validate)


@router.get("/allocations/{allocation_id}", response_model=schemas.Allocation)
def get_allocation(allocation_id: IdPath, session: SessionDep) -> Allocation:
    """Get an allocation

    With its delivery, if any.
    """
    return service.get(session, allocation_id)


@router.post(
    "/allocations/{allocation_id}/deliver",
    response_model=schemas.Allocation,
    openapi_extra=routing.body_example(
        {
            "delivered_on": "2022-10-20",
            "evidence_url": "https://relief.example.vn/evidence/ta-ca-1.jpg",
            "delivery_note": "Đã trao tận tay chủ hộ.",
        }
    ),
)
def deliver_allocation(
    allocation_id: IdPath, body: schemas.AllocationDeliver, session: SessionDep
) -> Allocation:
    """Record an allocation's delivery

    Dated, with evidence (a photo or document URL) and a `delivery_note` (its deprecated
    old name `note` is still read).

    Refuses: `allocation_already_delivered`, `allocation_cancelled` (409),
    `delivered_before_allocated`, `delivered_before_campaign_start`, `delivery_note_twice`,
    `date_in_future` (422).
    """
    return service.deliver(session, service.get(session, allocation_id), delivery=body)


@router.post(
    "/allocations/{allocation_id}/cancel",
    response_model=schemas.Allocation,
    openapi_extra=routing.body_example({"reason": "Hộ đã được hỗ trợ từ nguồn khác"}),
)
def cancel_allocation(
    allocation_id: IdPath,
    session: SessionDep,
    body: Annotated[schemas.AllocationCancel | None, Body()] = None,
) -> Allocation:
    """Cancel an allocation

    What was set aside returns to the campaign's available money or goods.

    Refuses: `allocation_already_delivered`, `allocation_cancelled` (409).
    """
    allocation = service.get(session, allocation_id)
    return service.cancel(session, allocation, reason=body.reason if body else None)
