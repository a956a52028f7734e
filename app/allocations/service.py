"""Allocation rules, for money and goods alike: never more than was received (goods: never
more than is on hand), delivered once, cancelled only before delivery."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app import hxl
from app.allocations import schemas
from app.allocations.models import Allocation, AllocationStatus, allocation_relations
from app.allocations.schemas import AllocationCreate, AllocationDeliver
from app.campaigns import service as campaigns
from app.campaigns.models import Campaign, CampaignStatus
from app.campaigns.service import require_status
from app.dates import not_in_future, today_in_vietnam
from app.db import Database
from app.errors import Conflict, Invalid, NotFound
from app.items import service as items
from app.items.models import ASSET_PREFIX, Item
from app.ledger import accounts
from app.ledger import service as ledger
from app.ledger.accounts import credit, debit
from app.ledger.books import Books
from app.locations import service as locations
from app.money import canonical, check_amount
from app.pagination import in_batches
from app.text import csv_rows


def get(session: Session, allocation_id: int) -> Allocation:
    """The allocation, if the caller's key reaches its campaign (404 otherwise)."""
    absent = NotFound("allocation_not_found", f"No allocation has id {allocation_id}.")
    return campaigns.get_record(
        session, Allocation, allocation_id, absent, load=allocation_relations()
    )


def create(session: Session, campaign: Campaign, *, allocation_in: AllocationCreate) -> Allocation:
    """Assign received money or goods to a place; refused (409) beyond what is available."""
    head = ledger.lock(session, campaign.id)
    campaigns.reread(session, campaign)
    require_status(campaign, {CampaignStatus.open, CampaignStatus.closed}, "an allocation")
    body = allocation_in
    item = items.money_or_goods(
        session,
        amount=body.amount,
        item_code=body.item_code,
        quantity=body.quantity,
        money_only={"currency": body.currency},
    )
    if item is None:
        _check_money(campaign, body)
    location = locations.referenced(session, body.location_id)
    allocated_on = body.allocated_on or today_in_vietnam()
    not_in_future(allocated_on, "allocated_on")
    _not_before_start(campaign, allocated_on, "allocated_on", "allocated_before_campaign_start")
    asset = item.asset if item else campaign.currency
    size = body.quantity if item else body.amount
    assert size is not None  # items.money_or_goods made sure
    available = ledger.balance(session, campaign.id, accounts.available(asset))
    if size > available:
        unit = item.unit if item else campaign.currency
        what = "received and not yet allocated" if item is None else f"of {item.code} on hand"
        raise Conflict(
            "allocation_exceeds_available",
            f"Only {canonical(available)} {unit} is {what}; {canonical(size)} was asked for.",
        )
    allocation = Allocation(
        campaign_id=campaign.id,
        campaign=campaign,
        location_id=location.id,
        amount=None if item else size,
        currency=None if item else campaign.currency,
        item_id=item.id if item else None,
        item=item,
        quantity=size if item else None,
        purpose=body.purpose,
        beneficiary=body.beneficiary,
        status=AllocationStatus.allocated,
        allocated_on=allocated_on,
        created_at=ledger.clock(head),
    )
    session.add(allocation)
    session.flush()
    detail = {
        "allocation_id": allocation.id,
        "location_id": location.id,
        "amount": canonical(size),
        "purpose": allocation.purpose,
        "allocated_on": allocated_on.isoformat(),
    }
    if item is not None:
        detail |= {"item_code": item.code, "quantity": detail.pop("amount")}
    ledger.post_entry(
        session,
        head,
        kind="allocation_recorded",
        detail=detail,
        postings=[
            debit(accounts.allocated(asset, location.id), size),
            credit(accounts.available(asset), size),
        ],
        recorded_at=allocation.created_at,
    )
    return allocation


def _check_money(campaign: Campaign, body: AllocationCreate) -> None:
    assert body.amount is not None
    if body.currency and body.currency.upper() != campaign.currency:
        raise Invalid.field(
            "currency",
            "allocation_currency_mismatch",
            f"allocations are in the campaign's currency ({campaign.currency})",
        )
    check_amount(body.amount, campaign.currency, "amount")


def _not_before_start(campaign: Campaign, day: date, field: str, code: str) -> None:
    if campaign.starts_on is not None and day < campaign.starts_on:
        raise Invalid.field(
            field, code, f"{field} {day} is before the campaign starts ({campaign.starts_on})"
        )


def _require_allocated(allocation: Allocation, action: str) -> None:
    if allocation.status == AllocationStatus.delivered:
        raise Conflict(
            "allocation_already_delivered",
            f"Allocation {allocation.id} was delivered; it cannot be {action}.",
        )
    if allocation.status == AllocationStatus.cancelled:
        raise Conflict(
            "allocation_cancelled",
            f"Allocation {allocation.id} was cancelled; it cannot be {action}.",
        )


def deliver(session: Session, allocation: Allocation, *, delivery: AllocationDeliver) -> Allocation:
    """Confirm that an allocation reached its place."""
    head = ledger.lock(session, allocation.campaign_id)
    # Under the lock: the status as committed, not as this request first read it.
    session.refresh(allocation, ["status"])
    _require_allocated(allocation, "delivered")
    delivered_on = delivery.delivered_on
    not_in_future(delivered_on, "delivered_on")
    if delivered_on < allocation.allocated_on:
        raise Invalid.field(
            "delivered_on",
            "delivered_before_allocated",
            f"delivered_on {delivered_on} is before the allocation's allocated_on "
            f"({allocation.allocated_on})",
        )
    _not_before_start(
        allocation.campaign, delivered_on, "delivered_on", "delivered_before_campaign_start"
    )
    if delivery.note is not None and delivery.delivery_note is not None:
        raise Invalid.field(
            "note", "delivery_note_twice", "send delivery_note only (note is its deprecated name)"
        )
    allocation.status = AllocationStatus.delivered
    allocation.delivered_on = delivered_on
    allocation.evidence_url = str(delivery.evidence_url) if delivery.evidence_url else None
    allocation.delivery_note = (
        delivery.delivery_note if delivery.delivery_note is not None else delivery.note
    )
    allocation.delivered_at = ledger.clock(head)
    ledger.post_entry(
        session,
        head,
        kind="allocation_delivered",
        detail={
            "allocation_id": allocation.id,
            "delivered_on": delivery.delivered_on.isoformat(),
            "evidence_url": allocation.evidence_url,
        },
        postings=[
            debit(accounts.delivered(allocation.asset, allocation.location_id), allocation.size),
            credit(accounts.allocated(allocation.asset, allocation.location_id), allocation.size),
        ],
        recorded_at=allocation.delivered_at,
    )
    return allocation


def cancel(session: Session, allocation: Allocation, *, reason: str | None) -> Allocation:
    """Cancel an allocation before delivery; its money or goods become available again."""
    head = ledger.lock(session, allocation.campaign_id)
    # Under the lock: the status as committed, not as this request first read it.
    session.refresh(allocation, ["status"])
    _require_allocated(allocation, "cancelled")
    allocation.status = AllocationStatus.cancelled
    allocation.cancel_reason = reason
    allocation.cancelled_at = ledger.clock(head)
    ledger.post_entry(
        session,
        head,
        kind="allocation_cancelled",
        detail={"allocation_id": allocation.id, "reason": reason},
        postings=[
            debit(accounts.available(allocation.asset), allocation.size),
            credit(accounts.allocated(allocation.asset, allocation.location_id), allocation.size),
        ],
        recorded_at=allocation.cancelled_at,
    )
    return allocation


def add_until(
    session: Session, campaign_id: int, books: Books, *, until: date, as_of: datetime | None
) -> None:
    """Add to `books` the campaign's allocations by business date: those allocated on or
    before `until`, delivered if delivered on or before it. A cancellation is a correction:
    once recorded (by `as_of`), the allocation counts on no day. Only records recorded by
    `as_of` count. One streaming query; its cost grows with the campaign's allocations."""
    stmt = (
        select(
            Allocation.location_id,
            Allocation.amount,
            Allocation.quantity,
            Allocation.delivered_on,
            Allocation.delivered_at,
            Allocation.cancelled_at,
            Item.code,
        )
        .outerjoin(Item, Item.id == Allocation.item_id)
        .where(Allocation.campaign_id == campaign_id, Allocation.allocated_on <= until)
    )
    if as_of is not None:
        stmt = stmt.where(Allocation.created_at <= as_of)
    rows = session.execute(stmt.execution_options(yield_per=5_000))
    for location_id, amount, quantity, delivered_on, delivered_at, cancelled_at, code in rows:
        if cancelled_at is not None and (as_of is None or cancelled_at <= as_of):
            continue
        figures = books.money if code is None else books.goods[f"{ASSET_PREFIX}{code}"]
        size = amount if code is None else quantity
        assert size is not None  # the money_or_goods check constraint
        delivered = (
            delivered_on is not None
            and delivered_on <= until
            and (as_of is None or (delivered_at is not None and delivered_at <= as_of))
        )
        into = figures.deliveries if delivered else figures.open_allocations
        into[location_id] += size
        figures.available -= size


def search(
    campaign: Campaign, *, location_id: int | None, status: AllocationStatus | None
) -> Select[Allocation]:
    stmt = (
        select(Allocation)
        .where(Allocation.campaign_id == campaign.id)
        .options(*allocation_relations())
    )
    if location_id is not None:
        stmt = stmt.where(Allocation.location_id == location_id)
    if status is not None:
        stmt = stmt.where(Allocation.status == status)
    return stmt


CSV_COLUMNS = list(schemas.Allocation.model_fields)
# The allocations as HXL (`app.hxl`); a beneficiary (a household) stays out of them.
HXL_COLUMNS = (
    hxl.Column("id", "#meta +id"),
    hxl.Column("allocated_on", "#date +allocated"),
    hxl.Column("delivered_on", "#date +delivered"),
    *hxl.PLACE,
    hxl.Column("amount", "#value"),
    hxl.Column("currency", "#currency"),
    *hxl.GOODS,
    hxl.Column("quantity", "#item +num"),
    hxl.Column("purpose", "#description +purpose"),
    hxl.Column("status", "#status"),
)


def _hxl_row(allocation: Allocation, place: dict[str, str | None]) -> dict[str, Any]:
    row = schemas.Allocation.model_validate(allocation).model_dump(mode="json")
    item = allocation.item
    return {
        **row,
        **place,
        "item_name": item.name if item else None,
        "unit": item.unit if item else None,
    }


def export(
    database: Database,
    campaign: Campaign,
    *,
    location_id: int | None,
    status: AllocationStatus | None,
    as_hxl: bool,
) -> Iterator[str]:
    """The campaign's allocations as CSV or HXL (`app.text.csv_rows`), read in batches on
    a read-only session of their own, so a large campaign streams in constant memory."""
    campaign_id = campaign.id

    def batches() -> Iterator[list[dict[str, Any]]]:
        with database.session(read_only=True) as reader:
            stmt = search(
                reader.get_one(Campaign, campaign_id), location_id=location_id, status=status
            )
            for batch in in_batches(reader, stmt, Allocation.id):
                if not as_hxl:
                    yield [
                        schemas.Allocation.model_validate(a).model_dump(mode="json") for a in batch
                    ]
                    continue
                lineages = locations.lineages(reader, {a.location_id for a in batch})
                yield [_hxl_row(a, locations.hxl_place(lineages[a.location_id])) for a in batch]

    if as_hxl:
        return csv_rows(hxl.names(HXL_COLUMNS), batches(), hashtags=hxl.hashtags(HXL_COLUMNS))
    return csv_rows(CSV_COLUMNS, batches())
