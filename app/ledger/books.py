"""A campaign's books: the chart of accounts read back into figures per asset.

Every reader of totals (reconciliation, distribution, public pages) reads them here, from
kept balances: one row per account, so the cost does not grow with the number of entries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import Invalid
from app.ledger import accounts as chart
from app.ledger.models import LedgerAccount

ZERO = Decimal(0)


@dataclass
class Figures:
    """The figures of one asset (the campaign's currency, or one item), read from balances."""

    commitments: Decimal = ZERO
    receivable: Decimal = ZERO
    fulfilled: Decimal = ZERO
    excess: Decimal = ZERO
    # `cash` for money, `on_hand` for goods: received and not allocated.
    available: Decimal = ZERO
    donations: dict[tuple[str, str], Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    open_allocations: dict[int, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    deliveries: dict[int, Decimal] = field(default_factory=lambda: defaultdict(Decimal))

    @property
    def pledged(self) -> Decimal:
        return -self.commitments

    @property
    def received(self) -> Decimal:
        return -sum(self.donations.values(), ZERO)

    @property
    def unpledged_received(self) -> Decimal:
        return -sum((v for (side, _), v in self.donations.items() if side == "unpledged"), ZERO)

    @property
    def delivered(self) -> Decimal:
        return sum(self.deliveries.values(), ZERO)

    @property
    def allocated(self) -> Decimal:
        return sum(self.open_allocations.values(), ZERO) + self.delivered

    @property
    def is_empty(self) -> bool:
        """Counts nowhere: everything in it was cancelled or reversed (or never happened)."""
        return not any(
            (self.commitments, self.received, self.allocated, self.fulfilled, self.excess)
        )


@dataclass
class Books:
    """Every figure of a campaign: its currency's, each item's, and the memo accounts."""

    currency: str
    money: Figures = field(default_factory=Figures)
    goods: dict[str, Figures] = field(default_factory=lambda: defaultdict(Figures))
    # Foreign amounts as donors sent them, and goods' estimated value, by currency / item code.
    originals: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    in_kind_values: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    # Pledges in another currency than the campaign's, by currency: only their pledge
    # accounts, never added to the campaign's money figures.
    pledges_abroad: dict[str, Figures] = field(default_factory=lambda: defaultdict(Figures))


_PLEDGE_FIELDS = {
    chart.PLEDGE_COMMITMENTS: "commitments",
    chart.PLEDGE_RECEIVABLE: "receivable",
    chart.PLEDGE_FULFILLED: "fulfilled",
    chart.PLEDGE_EXCESS: "excess",
}


def read_books(accounts: Iterable[tuple[LedgerAccount, Decimal]], currency: str) -> Books:
    """Every figure of a campaign whose books are in `currency`, from its account balances."""
    books = Books(currency)
    for account, amount in accounts:
        code, asset = account.code, account.asset
        if code.startswith(chart.ORIGINALS_PREFIX):
            if not code.endswith(":offset"):
                books.originals[asset] += amount
            continue
        if code.startswith(chart.IN_KIND_VALUE_PREFIX):
            if not code.endswith(":offset"):
                books.in_kind_values[code.removeprefix(chart.IN_KIND_VALUE_PREFIX)] += amount
            continue
        if chart.is_goods(asset):
            figures = books.goods[asset]
        elif asset == currency:
            figures = books.money
        elif code in _PLEDGE_FIELDS:
            figures = books.pledges_abroad[asset]
        else:
            continue
        if code in (chart.CASH, chart.ON_HAND):
            figures.available += amount
        elif code in _PLEDGE_FIELDS:
            setattr(figures, _PLEDGE_FIELDS[code], getattr(figures, _PLEDGE_FIELDS[code]) + amount)
        elif code.startswith(chart.DONATIONS_PREFIX):
            _, side, original = code.split(":")
            figures.donations[(side, original)] += amount
        elif code.startswith(chart.ALLOCATED_PREFIX) and account.location_id is not None:
            figures.open_allocations[account.location_id] += amount
        elif code.startswith(chart.DELIVERED_PREFIX) and account.location_id is not None:
            figures.deliveries[account.location_id] += amount
    return books


def kept_books(session: Session, currencies: Mapping[int, str]) -> dict[int, Books]:
    """The current books of several campaigns (campaign id → its currency), in one query."""
    rows: dict[int, list[tuple[LedgerAccount, Decimal]]] = defaultdict(list)
    accounts = select(LedgerAccount).where(LedgerAccount.campaign_id.in_(list(currencies)))
    for account in session.scalars(accounts):
        rows[account.campaign_id].append((account, account.balance))
    return {
        campaign_id: read_books(rows[campaign_id], currency)
        for campaign_id, currency in currencies.items()
    }


def merge_books(parts: Sequence[Books]) -> Books:
    """The books of several campaigns of one currency (the first's), added up account by account."""
    total = Books(parts[0].currency)
    for books in parts:
        assets = [
            (total.money, books.money),
            *((total.goods[asset], figures) for asset, figures in books.goods.items()),
            *(
                (total.pledges_abroad[cur], figures)
                for cur, figures in books.pledges_abroad.items()
            ),
        ]
        for into, figures in assets:
            for name in ("commitments", "receivable", "fulfilled", "excess", "available"):
                setattr(into, name, getattr(into, name) + getattr(figures, name))
            for target, source in (
                (into.donations, figures.donations),
                (into.open_allocations, figures.open_allocations),
                (into.deliveries, figures.deliveries),
            ):
                for key, amount in source.items():
                    target[key] += amount  # type: ignore[index]
        for target_memo, source_memo in (
            (total.originals, books.originals),
            (total.in_kind_values, books.in_kind_values),
        ):
            for name, amount in source_memo.items():
                target_memo[name] += amount
    return total


def checked_as_of(as_of: datetime | None) -> datetime | None:
    """`as_of` in UTC; a 422 unless it has a zone and is not in the future."""
    if as_of is None:
        return None
    try:
        as_of = as_of.astimezone(UTC) if as_of.tzinfo else as_of
    except OverflowError as exc:
        raise Invalid.field(
            "as_of", "as_of_out_of_range", "as_of is outside the calendar this service keeps"
        ) from exc
    if as_of.tzinfo is None:
        raise Invalid.field(
            "as_of",
            "as_of_needs_timezone",
            "as_of must be RFC 3339 with a time zone, e.g. 2022-10-31T17:00:00Z",
        )
    if as_of > utcnow():
        raise Invalid.field(
            "as_of",
            "as_of_in_future",
            "as_of cannot be in the future: the books do not know it yet",
        )
    return as_of
