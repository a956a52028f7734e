from __future__ import annotations

from typing import Annotated

from fastapi import Path, status

from app import routing
from app.campaigns.dependencies import CampaignDep
from app.db import SessionDep
from app.keys.auth import Authorized
from app.pagination import Page, PageDep, paginate
from app.receiving_accounts import schemas, service
from app.receiving_accounts.models import ReceivingAccount
from app.text import NO_CONTROL_PATTERN

router = routing.router(tags=["receiving accounts"], dependencies=[Authorized])
# No key needed, ever: anyone must be able to check a number a page asks them to pay into.
public_router = routing.router(tags=["public"], prefix="/v1/public")


@router.post(
    "/campaigns/{code}/accounts",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.ReceivingAccount,
    openapi_extra=routing.body_example(
        {
            "bank": "Vietcombank – CN Nghệ An",
            "number": "0011 0040 12345",
            "holder": "Ủy ban MTTQ Việt Nam tỉnh Nghệ An",
        }
    ),
)
def create_receiving_account(
    campaign: CampaignDep, body: schemas.ReceivingAccountCreate, session: SessionDep
) -> ReceivingAccount:
    """Add an official receiving account

    A bank account the campaign receives money on.

    Refuses: `receiving_account_exists` (409).
    """
    return service.create(session, campaign, account_in=body)


@router.get("/campaigns/{code}/accounts", response_model=Page[schemas.ReceivingAccount])
def list_receiving_accounts(
    campaign: CampaignDep, session: SessionDep, page: PageDep
) -> Page[schemas.ReceivingAccount]:
    """List a campaign's receiving accounts

    Oldest first.
    """
    stmt = service.search(campaign)
    return paginate(
        session, stmt, ReceivingAccount.id, page, schemas.ReceivingAccount.model_validate
    )


@public_router.get(
    "/accounts/{number}",
    response_model=schemas.AccountCheck,
    summary="Is this an official receiving account?",
    description=(
        "Answers 200 for any well-formed number: `official` is false and `campaigns` empty "
        "when no open or closed campaign collects on it. Spaces, dashes and dots are ignored."
    ),
)
def check_account(
    number: Annotated[str, Path(max_length=64, pattern=NO_CONTROL_PATTERN)], session: SessionDep
) -> schemas.AccountCheck:
    return service.check(session, number)
