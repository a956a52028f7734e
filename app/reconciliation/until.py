"""The books by business date: what the records say was received, allocated and delivered
on or before a day (`?until=`), as recorded at `as_of`.

Kept balances follow recording order, and 2022 gifts entered today are recorded today;
so `until` reads the records themselves: contributions by `received_on`, allocations by
`allocated_on` and `delivered_on`. Pledges have no business date: every pledge recorded
(by `as_of`) counts, fulfilled only by what was received by `until`. Reversals and
cancellations are corrections: once recorded, the record counts on no day. The result is
a `Books` like the kept one, so the reconciliation reads it the same way; its cost grows
with the campaign (one streaming query per table), as `verify=full`'s does.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.allocations import service as allocations
from app.campaigns.models import Campaign
from app.contributions.models import Contribution, ContributionReversal
from app.items.models import ASSET_PREFIX, Item
from app.ledger import accounts as chart
from app.ledger.books import Books, Figures
from app.pledges.models import Pledge

ZERO = Decimal(0)
_BATCH = 5_000


@dataclass
class BooksUntil:
    books: Books
    pledges_count: int = 0
    contributions_count: int = 0


def _received(
    session: Session, campaign: Campaign, result: BooksUntil, until: date, as_of: datetime | None
) -> dict[int, Decimal]:
    """Add the contributions received by `until` to the books; return what each pledge got."""
    books = result.books
    reversed_ids = select(ContributionReversal.contribution_id)
    stmt = (
        select(
            Contribution.pledge_id,
            Contribution.amount,
            Contribution.currency,
            Contribution.settled_amount,
            Contribution.quantity,
            Contribution.estimated_value,
            Item.code,
        )
        .outerjoin(Item, Item.id == Contribution.item_id)
        .where(Contribution.campaign_id == campaign.id, Contribution.received_on <= until)
    )
    if as_of is not None:
        reversed_ids = reversed_ids.where(ContributionReversal.recorded_at <= as_of)
        stmt = stmt.where(Contribution.recorded_at <= as_of)
    stmt = stmt.where(Contribution.id.not_in(reversed_ids))
    per_pledge: dict[int, Decimal] = defaultdict(Decimal)
    rows = session.execute(stmt.execution_options(yield_per=_BATCH))
    for pledge_id, amount, currency, settled, quantity, value, code in rows:
        side = "pledged" if pledge_id is not None else "unpledged"
        if code is None:  # money; the money_or_goods check constraint holds the rest
            assert amount is not None and currency is not None and settled is not None
            books.money.donations[(side, currency)] -= settled
            books.money.available += settled
            if currency != campaign.currency:
                books.originals[currency] += amount
            result.contributions_count += 1
            toward = amount
        else:
            assert quantity is not None
            figures = books.goods[f"{ASSET_PREFIX}{code}"]
            figures.donations[(side, chart.IN_KIND)] -= quantity
            figures.available += quantity
            if value is not None:
                books.in_kind_values[code] += value
            toward = quantity
        if pledge_id is not None:
            per_pledge[pledge_id] += toward
    return per_pledge


def _pledged(
    session: Session,
    campaign: Campaign,
    result: BooksUntil,
    per_pledge: dict[int, Decimal],
    as_of: datetime | None,
) -> None:
    """Add every pledge recorded by `as_of` and not cancelled by then, fulfilled by
    `per_pledge`, as the four pledge accounts would hold it."""
    books = result.books
    stmt = (
        select(Pledge.id, Pledge.amount, Pledge.currency, Pledge.quantity, Item.code)
        .outerjoin(Item, Item.id == Pledge.item_id)
        .where(Pledge.campaign_id == campaign.id)
    )
    if as_of is not None:
        stmt = stmt.where(Pledge.created_at <= as_of)
        stmt = stmt.where((Pledge.cancelled_at.is_(None)) | (Pledge.cancelled_at > as_of))
    else:
        stmt = stmt.where(Pledge.cancelled_at.is_(None))
    for pledge_id, amount, currency, quantity, code in session.execute(stmt):
        figures: Figures
        size = quantity if code is not None else amount
        assert size is not None  # the money_or_goods check constraint
        if code is not None:
            figures = books.goods[f"{ASSET_PREFIX}{code}"]
        else:
            assert currency is not None
            figures = (
                books.money if currency == campaign.currency else books.pledges_abroad[currency]
            )
            result.pledges_count += 1
        fulfilled = per_pledge.get(pledge_id, ZERO)
        capped = min(size, fulfilled)
        figures.commitments -= size
        figures.receivable += size - capped
        figures.fulfilled += fulfilled
        figures.excess -= fulfilled - capped


def books_until(
    session: Session, campaign: Campaign, currency: str, *, until: date, as_of: datetime | None
) -> BooksUntil:
    """The campaign's books by business date `until` (inclusive), as recorded at `as_of`
    (now when None), in `currency` (the reconciliation's)."""
    result = BooksUntil(Books(currency))
    per_pledge = _received(session, campaign, result, until, as_of)
    _pledged(session, campaign, result, per_pledge, as_of)
    allocations.add_until(session, campaign.id, result.books, until=until, as_of=as_of)
    return result
