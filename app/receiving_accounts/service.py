"""Official receiving accounts: officers register them, anyone checks a number against them.

Scam pages post fake account numbers; `check` lets a donor verify one in seconds. Numbers
are kept as digits only, so `0011-0040 12345` and `0011004012345` are the same account.
"""

from __future__ import annotations

import re

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.campaigns.models import Campaign, CampaignStatus
from app.errors import Conflict, Invalid
from app.receiving_accounts.models import ReceivingAccount, account_relations
from app.receiving_accounts.schemas import AccountCheck, OfficialCampaign, ReceivingAccountCreate

_SEPARATORS = re.compile(r"[\s.\-]+")
# Vietnamese bank accounts have 6 to 19 digits; one more leaves room for foreign layouts.
MIN_DIGITS, MAX_DIGITS = 6, 20
PUBLIC_STATUSES = (CampaignStatus.open, CampaignStatus.closed)


def normalise_number(number: str, field: str = "number") -> str:
    """The account number as digits only; 422 unless that leaves 6 to 20 ASCII digits."""
    digits = _SEPARATORS.sub("", number)
    if not (digits.isascii() and digits.isdigit()):
        raise Invalid.field(
            field,
            "account_number_not_digits",
            "an account number has digits only (spaces, dashes and dots are ignored)",
        )
    if not MIN_DIGITS <= len(digits) <= MAX_DIGITS:
        raise Invalid.field(
            field,
            "account_number_length",
            f"an account number has {MIN_DIGITS} to {MAX_DIGITS} digits, not {len(digits)}",
        )
    return digits


def create(
    session: Session, campaign: Campaign, *, account_in: ReceivingAccountCreate
) -> ReceivingAccount:
    """Register an official receiving account of the campaign (any status: drafts prepare)."""
    number = normalise_number(account_in.number)
    taken = select(ReceivingAccount.id).where(
        ReceivingAccount.campaign_id == campaign.id, ReceivingAccount.number == number
    )
    if session.scalar(taken) is not None:
        raise Conflict(
            "receiving_account_exists",
            f"Account {number} is already registered for campaign {campaign.code!r}.",
        )
    account = ReceivingAccount(
        campaign_id=campaign.id,
        campaign=campaign,
        bank=account_in.bank,
        number=number,
        holder=account_in.holder,
    )
    session.add(account)
    session.flush()
    return account


def search(campaign: Campaign) -> Select[ReceivingAccount]:
    return (
        select(ReceivingAccount)
        .where(ReceivingAccount.campaign_id == campaign.id)
        .options(*account_relations())
    )


def check(session: Session, number: str) -> AccountCheck:
    """Whether `number` is an official receiving account of an open or closed campaign.

    A draft campaign is not public, so its accounts answer as unknown.
    """
    digits = normalise_number(number)
    rows = session.execute(
        select(Campaign.code, Campaign.title, ReceivingAccount.bank, ReceivingAccount.holder)
        .join(Campaign, Campaign.id == ReceivingAccount.campaign_id)
        .where(ReceivingAccount.number == digits, Campaign.status.in_(PUBLIC_STATUSES))
        .order_by(Campaign.code)
    ).all()
    campaigns = [
        OfficialCampaign(code=code, title=title, bank=bank, holder=holder)
        for code, title, bank, holder in rows
    ]
    return AccountCheck(number=digits, official=bool(campaigns), campaigns=campaigns)
