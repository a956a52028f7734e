"""Builds the reconciliation from kept ledger balances: DESIGN.md's auditor contract.

The figures and checks 1–4 read only account balances (one row per account, or one
index lookup per account for `as_of`), so their cost does not grow with the number of
contributions. `verify_full` adds checks 5–6 and recomputes 2 and 4 from the records
(the checks themselves are in `app.reconciliation.checks`).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import metrics
from app.campaigns import service as campaigns
from app.campaigns.models import Campaign
from app.dates import not_in_future
from app.errors import Invalid
from app.items import service as item_service
from app.items.models import ASSET_PREFIX
from app.ledger import service as ledger
from app.ledger.books import Books, Figures, checked_as_of, merge_books, read_books
from app.ledger.chain import rfc3339
from app.ledger.models import LedgerEntry
from app.locations.models import Location
from app.money import canonical
from app.reconciliation import schemas
from app.reconciliation.checks import (
    bank_lines_counted_once,
    full_checks,
    kept_checks,
    rolled_up_checks,
)
from app.reconciliation.until import books_until

ZERO = Decimal(0)


def _by_currency(books: Books) -> list[schemas.CurrencyLine]:
    currency = books.currency
    settled: dict[str, Decimal] = defaultdict(Decimal)
    for (_, original), amount in books.money.donations.items():
        settled[original] -= amount
    settled.setdefault(currency, ZERO)
    lines = []
    for code in sorted(settled):
        amount = settled[code] if code == currency else books.originals.get(code, ZERO)
        if code != currency and amount == 0 and settled[code] == 0:
            continue  # everything received in it was reversed: it counts nowhere
        lines.append(
            schemas.CurrencyLine(
                currency=code, amount=canonical(amount), settled_amount=canonical(settled[code])
            )
        )
    return lines


def _pledge_line(currency: str, figures: Figures) -> schemas.PledgeLine:
    return schemas.PledgeLine(
        currency=currency,
        pledged=canonical(figures.pledged),
        fulfilled=canonical(figures.fulfilled),
        outstanding=canonical(figures.receivable),
        over_fulfilled=canonical(-figures.excess),
    )


def _pledges_by_currency(books: Books) -> list[schemas.PledgeLine]:
    """The campaign's currency first, then every other pledge currency that still counts."""
    return [_pledge_line(books.currency, books.money)] + [
        _pledge_line(currency, figures)
        for currency, figures in sorted(books.pledges_abroad.items())
        if not figures.is_empty
    ]


def _by_location(session: Session, figures: Figures) -> list[schemas.LocationLine]:
    location_ids = sorted(
        loc
        for loc in set(figures.open_allocations) | set(figures.deliveries)
        if figures.open_allocations.get(loc, ZERO) + figures.deliveries.get(loc, ZERO) != 0
    )
    rows = session.execute(select(Location.id, Location.name).where(Location.id.in_(location_ids)))
    names = {location_id: name for location_id, name in rows}
    return [
        schemas.LocationLine(
            location_id=loc,
            location_name=names.get(loc, ""),
            allocated=canonical(
                figures.open_allocations.get(loc, ZERO) + figures.deliveries.get(loc, ZERO)
            ),
            delivered=canonical(figures.deliveries.get(loc, ZERO)),
        )
        for loc in location_ids
    ]


def _header(session: Session, campaign: Campaign, seq: int) -> schemas.CampaignHeader:
    """The campaign as its chain recorded it at entry `seq`."""
    # One lookup per kind, each a seek on (campaign_id, kind, seq): with `kind IN (...)`
    # SQLite walked the (campaign_id, seq) index back over every later entry instead.
    candidates = [
        session.scalars(
            select(LedgerEntry)
            .where(
                LedgerEntry.campaign_id == campaign.id,
                LedgerEntry.kind == kind,
                LedgerEntry.seq <= seq,
            )
            .order_by(LedgerEntry.seq.desc())
            .limit(1)
        ).one_or_none()
        for kind in ("campaign_created", "campaign_updated")
    ]
    entry = max((e for e in candidates if e is not None), key=lambda e: e.seq)
    return schemas.CampaignHeader(**json.loads(entry.detail)["campaign"])


def _goods_lines(session: Session, books: Books) -> list[schemas.GoodsLine]:
    codes = {
        asset.removeprefix(ASSET_PREFIX): figures
        for asset, figures in books.goods.items()
        if not figures.is_empty
    }
    items = item_service.of_assets(session, books.goods)
    return [
        schemas.GoodsLine(
            item_code=code,
            item_name=items[code].name,
            unit=items[code].unit,
            pledged=canonical(figures.pledged),
            received=canonical(figures.received),
            allocated=canonical(figures.allocated),
            delivered=canonical(figures.delivered),
            on_hand=canonical(figures.received - figures.allocated),
            estimated_value=canonical(books.in_kind_values.get(code, ZERO)),
        )
        for code, figures in sorted(codes.items())
    ]


@dataclass
class _Part:
    """One campaign's share of a (possibly rolled-up) reconciliation: its kept books (what
    the checks read) and the books its figures come from (the same, unless `until`)."""

    campaign: Campaign
    balances: ledger.Balances
    books: Books
    figures: Books
    pledges_count: int
    contributions_count: int


def _part(
    session: Session,
    campaign: Campaign,
    balances: ledger.Balances,
    currency: str,
    until: date | None,
    as_of: datetime | None,
) -> _Part:
    books = read_books(balances.accounts, currency)
    if until is None:
        return _Part(
            campaign,
            balances,
            books,
            books,
            balances.pledges_count,
            balances.contributions_count,
        )
    dated = books_until(session, campaign, currency, until=until, as_of=as_of)
    return _Part(
        campaign,
        balances,
        books,
        dated.books,
        dated.pledges_count,
        dated.contributions_count,
    )


def reconcile(
    session: Session,
    campaign: Campaign,
    *,
    as_of: datetime | None,
    verify_full: bool,
    include_children: bool = False,
    until: date | None = None,
) -> schemas.Reconciliation:
    """The campaign's reconciliation as recorded at `as_of` (now when omitted); with
    `until`, its figures count only what the records date on or before that day (the
    checks still read the books as recorded at `as_of`); with `include_children`, its
    sub-campaigns' figures are added in and each is checked too."""
    as_of = checked_as_of(as_of)
    if until is not None:
        not_in_future(until, "until")
    balances = ledger.balances(session, campaign.id, as_of=as_of)
    if balances.seq == 0:
        raise Invalid.field(
            "as_of",
            "as_of_before_campaign",
            f"campaign {campaign.code!r} was not yet recorded at {as_of}",
        )
    header = _header(session, campaign, balances.seq)
    parts = [_part(session, campaign, balances, header.currency, until, as_of)]
    if include_children:
        for child in campaigns.descendants(session, campaign):
            child_balances = ledger.balances(session, child.id, as_of=as_of)
            if child_balances.seq:  # a sub-campaign recorded after as_of counts nowhere yet
                parts.append(_part(session, child, child_balances, header.currency, until, as_of))
    per_part = []
    for part in parts:
        checks = kept_checks(part.balances, part.books)
        if verify_full:
            checks += full_checks(session, part.campaign, part.balances, part.books, as_of)
        per_part.append(checks)
    if verify_full and not all(check.ok for checks in per_part for check in checks):
        metrics.verify_failed(session, "reconciliation")
    books = merge_books([p.figures for p in parts]) if len(parts) > 1 else parts[0].figures
    money = books.money
    moment = as_of or max(
        (p.balances.recorded_at for p in parts if p.balances.recorded_at), default=None
    )
    assert moment is not None  # a chain with entries has a recording time
    return schemas.Reconciliation(
        campaign=header,
        as_of=rfc3339(moment),
        until=until.isoformat() if until else None,
        money=schemas.Money(
            pledged=canonical(money.pledged),
            outstanding_pledges=canonical(money.receivable),
            received=canonical(money.received),
            unpledged_received=canonical(money.unpledged_received),
            allocated=canonical(money.allocated),
            delivered=canonical(money.delivered),
            available=canonical(money.received - money.allocated),
            pledges_count=sum(p.pledges_count for p in parts),
            contributions_count=sum(p.contributions_count for p in parts),
            received_by_currency=_by_currency(books),
            pledges_by_currency=_pledges_by_currency(books),
            by_location=_by_location(session, money),
        ),
        goods=_goods_lines(session, books),
        checks=[
            *rolled_up_checks([(p.campaign.code, c) for p, c in zip(parts, per_part, strict=True)]),
            bank_lines_counted_once(session, [p.campaign for p in parts], as_of),
        ]
        if len(parts) > 1
        else per_part[0],
        ledger=schemas.LedgerState(entries=balances.seq, head_hash=balances.head_hash),
        children=[
            schemas.ChildLedger(
                code=p.campaign.code, entries=p.balances.seq, head_hash=p.balances.head_hash
            )
            for p in parts[1:]
        ]
        if include_children
        else None,
    )
