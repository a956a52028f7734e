from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Query

from app import routing
from app.campaigns.dependencies import CampaignDep
from app.db import SessionDep
from app.keys.auth import Authorized
from app.reconciliation import schemas, service

router = routing.router(tags=["reconciliation"], dependencies=[Authorized])


@router.get(
    "/campaigns/{code}/reconciliation",
    response_model=schemas.Reconciliation,
    response_model_exclude_none=True,
)
def get_reconciliation(
    campaign: CampaignDep,
    session: SessionDep,
    as_of: Annotated[
        datetime | None,
        Query(
            description="Recording time (RFC 3339 with zone): what the books said then. Default: now."
        ),
    ] = None,
    verify: Annotated[
        Literal["kept", "full"],
        Query(description="`full` also replays every entry: hash chain and kept balances."),
    ] = "kept",
    include_children: Annotated[
        bool, Query(description="Add in the figures of every sub-campaign below this one.")
    ] = False,
) -> schemas.Reconciliation:
    """Reconcile a campaign

    The campaign's proven totals (pledged, received, allocated, delivered, available, by
    currency and place) and the checks behind them, as recorded at `as_of`. With
    `include_children`, the sub-campaigns the key may see are added in.

    Refuses: `as_of_before_campaign` (422).
    """
    return service.reconcile(
        session,
        campaign,
        as_of=as_of,
        verify_full=verify == "full",
        include_children=include_children,
    )
