from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import Query, Response

from app import routing
from app.campaigns.dependencies import CampaignDep
from app.db import SessionDep
from app.distribution import schemas, service
from app.hxl import EXPORT_DESCRIPTION, ExportFormat, export_response
from app.keys.auth import Authorized
from app.locations.models import LocationLevel

router = routing.router(tags=["distribution"], dependencies=[Authorized])


@router.get(
    "/campaigns/{code}/distribution",
    response_model=schemas.Distribution,
    responses={200: {"content": {"text/csv": {}}, "description": EXPORT_DESCRIPTION}},
)
def get_distribution(
    campaign: CampaignDep,
    session: SessionDep,
    level: Annotated[
        LocationLevel | None,
        Query(description="Roll places up to this level (a commune counts for its district)."),
    ] = None,
    as_of: Annotated[
        datetime | None, Query(description="Recording time (RFC 3339 with zone). Default: now.")
    ] = None,
    until: Annotated[
        date | None,
        Query(
            description="Business date (YYYY-MM-DD, inclusive): count allocations allocated, "
            "and deliveries delivered, on or before it. Alone or with as_of."
        ),
    ] = None,
    format: ExportFormat = "json",
) -> schemas.Distribution | Response:
    """Where a campaign's money and goods went

    Place by place, at the chosen level. `format=csv` gives one row per place and asset;
    `format=hxl` the same as HXL, with each place's official units (docs/api.md, "HXL").
    """
    figures = service.distribution(session, campaign, level=level, as_of=as_of, until=until)
    if format == "json":
        return figures
    rows = service.export(session, figures, as_hxl=format == "hxl")
    return export_response(rows, f"{campaign.code}-distribution", format)
