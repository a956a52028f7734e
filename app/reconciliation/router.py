from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import Query

from app import routing
from app.audit import service as audit
from app.audit.schemas import VerifyReport
from app.campaigns.dependencies import CampaignDep
from app.db import SessionDep
from app.keys.auth import AuditorsOnly, Authorized
from app.reconciliation import records, schemas, service

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
    until: Annotated[
        date | None,
        Query(
            description="Business date (YYYY-MM-DD, inclusive): count contributions received, "
            "and allocations allocated and delivered, on or before it. Alone or with as_of."
        ),
    ] = None,
) -> schemas.Reconciliation:
    """Reconcile a campaign

    The campaign's proven totals (pledged, received, allocated, delivered, available, by
    currency and place) and the checks behind them, as recorded at `as_of`; with `until`,
    the figures count only what was received, allocated and delivered by that business
    date. With `include_children`, the sub-campaigns the key may see are added in.

    Refuses: `as_of_before_campaign`, `date_in_future` (422).
    """
    return service.reconcile(
        session,
        campaign,
        as_of=as_of,
        until=until,
        verify_full=verify == "full",
        include_children=include_children,
    )


# The audit log's verification lives here because it also compares every campaign's
# contribution, pledge and allocation rows with its chain (`records`).
verify_router = routing.router(tags=["audit"], prefix="/v1/audit", dependencies=[AuditorsOnly])


@verify_router.get("/verify", response_model=VerifyReport)
def verify(session: SessionDep) -> VerifyReport:
    """Verify every chain and every record

    Recomputes every ledger chain, every kept balance and every audit chain, and compares
    every contribution, pledge and allocation with the entry that recorded it and each
    chain's head with the audit log's last event for its campaign.
    """
    return audit.verify_all(session, records_check=records.broken_link)
