"""Pledge rules and the pledge side of the ledger, for money and for goods alike.

Four accounts keep every pledge figure (see `ledger.accounts`): commitments (pledged),
receivable (outstanding), fulfilled and excess. Fulfilment moves the capped part of a
contribution from receivable to fulfilled and books the rest as excess, so
over-fulfilment is reported, never lost.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.campaigns import service as campaigns
from app.campaigns.models import Campaign, CampaignStatus
from app.campaigns.service import require_status
from app.codes import random_code
from app.donors import service as donors
from app.errors import Conflict, Invalid, NotFound
from app.items import service as items
from app.ledger import accounts
from app.ledger import service as ledger
from app.ledger.accounts import Posting, credit, debit
from app.money import canonical, check_amount, is_known_currency
from app.pledges.models import Pledge, pledge_relations
from app.pledges.schemas import PledgeCreate


def get(session: Session, pledge_id: int) -> Pledge:
    """The pledge, if the caller's key reaches its campaign (404 otherwise)."""
    absent = NotFound("pledge_not_found", f"No pledge has id {pledge_id}.")
    return campaigns.get_record(session, Pledge, pledge_id, absent, load=pledge_relations())


def _prefix(campaign_code: str) -> str:
    words = [w for w in campaign_code.split("-") if w.isalpha()] or ["RL"]
    return "".join(w[0] for w in words[:2]).upper()


def _new_reference(session: Session, campaign: Campaign) -> str:
    prefix = _prefix(campaign.code)
    while True:
        # 32^4 ≈ 10^6 references per prefix: short enough to type, and taken ones are redrawn.
        reference = f"{prefix}-{random_code(4)}"
        if not _reference_taken(session, campaign.id, reference):
            return reference


def _reference_taken(session: Session, campaign_id: int, reference: str) -> bool:
    stmt = select(Pledge.id).where(Pledge.campaign_id == campaign_id, Pledge.reference == reference)
    return session.scalar(stmt) is not None


def create(session: Session, campaign: Campaign, *, pledge_in: PledgeCreate) -> Pledge:
    """Record a donor's promise of money or goods to an open campaign."""
    head = ledger.lock(session, campaign.id)
    campaigns.reread(session, campaign)
    require_status(campaign, {CampaignStatus.open}, "a pledge")
    item = items.money_or_goods(
        session,
        amount=pledge_in.amount,
        item_code=pledge_in.item_code,
        quantity=pledge_in.quantity,
        money_only={"currency": pledge_in.currency},
    )
    currency = None
    if item is None:
        # A pledge keeps the donor's currency (10,000 USD from overseas in a VND campaign):
        # contributions in that currency fulfil it, by their original amount.
        currency = pledge_in.currency or campaign.currency
        if not is_known_currency(currency):
            raise Invalid.field(
                "currency", "unknown_currency", f"{currency} is not an ISO 4217 currency in use"
            )
        if pledge_in.amount is not None:
            check_amount(pledge_in.amount, currency, "amount")
    donor = donors.referenced(session, pledge_in.donor_id)
    if pledge_in.reference and _reference_taken(session, campaign.id, pledge_in.reference):
        raise Conflict(
            "pledge_reference_taken",
            f"Reference {pledge_in.reference} is used by another pledge of this campaign.",
        )
    pledge = Pledge(
        campaign_id=campaign.id,
        campaign=campaign,
        donor_id=donor.id,
        reference=pledge_in.reference or _new_reference(session, campaign),
        amount=pledge_in.amount if item is None else None,
        currency=currency,
        item_id=item.id if item else None,
        item=item,
        quantity=pledge_in.quantity if item else None,
        due_on=pledge_in.due_on,
        fulfilled_amount=Decimal(0),
        created_at=ledger.clock(head),
    )
    session.add(pledge)
    session.flush()
    asset = pledge.asset
    detail = {
        "pledge_id": pledge.id,
        "donor_id": donor.id,
        "reference": pledge.reference,
        "amount": canonical(pledge.size),
    }
    if item is not None:
        detail |= {"item_code": item.code, "quantity": detail.pop("amount")}
    else:
        detail["currency"] = currency
    ledger.post_entry(
        session,
        head,
        kind="pledge_recorded",
        detail=detail,
        postings=[
            debit(accounts.pledge_account(accounts.PLEDGE_RECEIVABLE, asset), pledge.size),
            credit(accounts.pledge_account(accounts.PLEDGE_COMMITMENTS, asset), pledge.size),
        ],
        # The reconciliation's pledges_count is a money figure, like contributions_count.
        counters=ledger.Counters(pledges=1 if item is None else 0),
        recorded_at=pledge.created_at,
    )
    return pledge


def cancel(session: Session, pledge: Pledge, *, reason: str | None) -> Pledge:
    """Cancel what remains of a pledge: it then counts nowhere; its contributions stay received."""
    head = ledger.lock(session, pledge.campaign_id)
    # Under the lock: cancellation and fulfilment as committed, not as first read.
    session.refresh(pledge, ["cancelled_at", "fulfilled_amount"])
    if pledge.cancelled_at is not None:
        raise Conflict(
            "pledge_already_cancelled",
            f"Pledge {pledge.id} was cancelled at {pledge.cancelled_at}.",
        )
    if pledge.fulfilled_amount >= pledge.size:
        raise Conflict(
            "pledge_already_fulfilled",
            f"Pledge {pledge.id} is fulfilled; there is nothing left to cancel.",
        )
    asset = pledge.asset
    size = pledge.size
    fulfilled = pledge.fulfilled_amount
    capped = min(size, fulfilled)
    pledge.cancelled_at = ledger.clock(head)
    pledge.cancel_reason = reason
    ledger.post_entry(
        session,
        head,
        kind="pledge_cancelled",
        detail={"pledge_id": pledge.id, "reason": reason},
        postings=[
            debit(accounts.pledge_account(accounts.PLEDGE_COMMITMENTS, asset), size),
            credit(accounts.pledge_account(accounts.PLEDGE_RECEIVABLE, asset), size - capped),
            credit(accounts.pledge_account(accounts.PLEDGE_FULFILLED, asset), fulfilled),
            debit(accounts.pledge_account(accounts.PLEDGE_EXCESS, asset), fulfilled - capped),
        ],
        counters=ledger.Counters(pledges=-1 if pledge.item_id is None else 0),
        recorded_at=pledge.cancelled_at,
    )
    return pledge


def apply_fulfilment(pledge: Pledge, delta: Decimal) -> list[Posting]:
    """Change a pledge's fulfilled amount by `delta` (in the pledge's currency, or its item's
    unit); return the postings that record it, in the pledge's own asset.

    A cancelled pledge keeps its fulfilled amount current but no longer counts in the
    pledge accounts, so it gets no postings.
    """
    before = pledge.fulfilled_amount
    after = before + delta
    pledge.fulfilled_amount = after
    if pledge.cancelled_at is not None:
        return []
    asset = pledge.asset
    capped_before, capped_after = min(pledge.size, before), min(pledge.size, after)
    to_fulfilled = capped_after - capped_before
    to_excess = (after - capped_after) - (before - capped_before)
    return [
        debit(accounts.pledge_account(accounts.PLEDGE_FULFILLED, asset), delta),
        credit(accounts.pledge_account(accounts.PLEDGE_RECEIVABLE, asset), to_fulfilled),
        credit(accounts.pledge_account(accounts.PLEDGE_EXCESS, asset), to_excess),
    ]


def search(campaign: Campaign, *, donor_id: int | None) -> Select[Pledge]:
    stmt = select(Pledge).where(Pledge.campaign_id == campaign.id).options(*pledge_relations())
    if donor_id is not None:
        stmt = stmt.where(Pledge.donor_id == donor_id)
    return stmt
