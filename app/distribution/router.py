from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import Query

from app import routing
from app.campaigns.dependencies import CampaignDep
from app.db import SessionDep
from app.distribution import schemas, service
from app.keys.auth import Authorized
from app.locations.models import LocationLevel

router = routing.router(tags=["distribution"], dependencies=[Authorized])


@router.get("/campaigns/{code}/distribution", response_model=schemas.Distribution)
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
) -> schemas.Distribution:
    """Where a campaign's money and goods went

    Place by place, at the chosen level.
    """
    return service.distribution(session, campaign, level=level, as_of=as_of, until=until)
