"""Builds the reconciliation from kept ledger balances.

The figures and checks 1–4 read only account balances (one row per account, or one
index lookup per account for `as_of`), so their cost does not grow with the number of
contributions. `verify_full` adds checks 5–6 and recomputes 2 and 4 from the records.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.campaigns.models import Campaign
from app.contributions.models import Contribution, ContributionReversal
from app.db import utcnow
from app.errors import Invalid
from app.items import service as item_service
from app.items.models import ASSET_PREFIX, Item
from app.ledger import accounts as chart
from app.ledger import service as ledger
from app.ledger.chain import rfc3339
from app.ledger.models import LedgerAccount, LedgerEntry
from app.ledger.verify import verify_campaign
from app.locations.models import Location
from app.money import canonical
from app.pledges.models import Pledge
from app.reconciliation import schemas

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


def _asset_checks(figures: Figures, unit: str) -> list[tuple[bool, str]]:
    """Invariants 2–4 of one asset, from kept balances: (ok, detail) each."""
    over_fulfilled = -figures.excess
    return [
        (
            figures.received == figures.available + figures.allocated,
            f"received {canonical(figures.received)} {unit} = available "
            f"{canonical(figures.available)} + allocated {canonical(figures.allocated)}",
        ),
        (
            figures.allocated <= figures.received and figures.available >= 0,
            f"allocated {canonical(figures.allocated)} ≤ received {canonical(figures.received)} {unit}",
        ),
        (
            figures.pledged == figures.receivable + figures.fulfilled + figures.excess,
            f"pledged {canonical(figures.pledged)} = outstanding {canonical(figures.receivable)} "
            f"+ fulfilled {canonical(figures.fulfilled)} − over-fulfilled {canonical(over_fulfilled)}",
        ),
    ]


_INVARIANTS = ("received_equals_contributions", "allocated_within_received", "pledges_fulfilment")


def _kept_checks(balances: ledger.Balances, books: Books) -> list[schemas.Check]:
    """Invariants 1–4 from kept balances only: for money, then for goods (all items in one
    check per invariant, each item named in its detail)."""
    off = ledger.unbalanced_assets((account.asset, amount) for account, amount in balances.accounts)
    checks = [
        schemas.Check(
            name="entries_balance",
            ok=not off,
            detail=(
                f"{balances.seq} entries; every asset sums to zero over {len(balances.accounts)} accounts"
                if not off
                else "assets out of balance: "
                + ", ".join(f"{a} {canonical(v)}" for a, v in sorted(off.items()))
            ),
        )
    ]
    money = _asset_checks(books.money, books.currency)
    checks += [
        schemas.Check(name=name, ok=ok, detail=detail)
        for name, (ok, detail) in zip(_INVARIANTS, money, strict=True)
    ]
    per_item = {asset: _asset_checks(books.goods[asset], asset) for asset in sorted(books.goods)}
    for index, name in enumerate(_INVARIANTS):
        results = [(asset, checks_of[index]) for asset, checks_of in per_item.items()]
        checks.append(
            schemas.Check(
                name=f"goods_{name}",
                ok=all(ok for _, (ok, _) in results),
                detail="; ".join(detail for _, (_, detail) in results) or "no goods recorded",
            )
        )
    return checks


@dataclass
class _Recomputed:
    """Figures of one asset recomputed from the campaign's records, not from the ledger."""

    received: Decimal = ZERO
    pledged: Decimal = ZERO
    outstanding: Decimal = ZERO


def _recompute(
    session: Session, campaign: Campaign, as_of: datetime | None
) -> tuple[dict[str, _Recomputed], list[int]]:
    """Received and pledge figures per asset from contributions and pledges, and the pledges
    whose kept fulfilled amount disagrees with their contributions."""
    reversed_by_then = select(ContributionReversal.contribution_id)
    pledge_stmt = select(Pledge).where(Pledge.campaign_id == campaign.id)
    if as_of is not None:
        reversed_by_then = reversed_by_then.where(ContributionReversal.recorded_at <= as_of)
        pledge_stmt = pledge_stmt.where(Pledge.created_at <= as_of)
    contribution_stmt = (
        select(
            Contribution.pledge_id, Contribution.settled_amount, Item.code, Contribution.quantity
        )
        .outerjoin(Item, Item.id == Contribution.item_id)
        .where(
            Contribution.campaign_id == campaign.id,
            Contribution.id.not_in(reversed_by_then),
        )
    )
    if as_of is not None:
        contribution_stmt = contribution_stmt.where(Contribution.recorded_at <= as_of)
    figures: dict[str, _Recomputed] = defaultdict(_Recomputed)
    figures[campaign.currency] = _Recomputed()
    per_pledge: dict[int, Decimal] = defaultdict(Decimal)
    for pledge_id, settled, item_code, quantity in session.execute(contribution_stmt):
        asset, received = (
            (campaign.currency, settled) if item_code is None else (_asset(item_code), quantity)
        )
        assert received is not None  # the money_or_goods check constraint
        figures[asset].received += received
        if pledge_id is not None:
            per_pledge[pledge_id] += received

    kept_mismatch: list[int] = []
    for pledge in session.scalars(pledge_stmt):
        fulfilled = per_pledge.get(pledge.id, ZERO)
        if as_of is None and pledge.fulfilled_amount != fulfilled:
            kept_mismatch.append(pledge.id)
        if pledge.cancelled_at is not None and (as_of is None or pledge.cancelled_at <= as_of):
            continue
        figures[pledge.asset].pledged += pledge.size
        figures[pledge.asset].outstanding += max(ZERO, pledge.size - fulfilled)
    return figures, kept_mismatch


def _asset(item_code: str) -> str:
    return f"{ASSET_PREFIX}{item_code}"


def _full_checks(
    session: Session,
    campaign: Campaign,
    balances: ledger.Balances,
    books: Books,
    as_of: datetime | None,
) -> list[schemas.Check]:
    """Invariants 2 and 4 recomputed from the records, and 5–6 by replaying the chain."""
    recomputed, kept_mismatch = _recompute(session, campaign, as_of)
    money = recomputed.pop(campaign.currency)
    goods_assets = sorted(set(recomputed) | set(books.goods))
    goods_received_ok = all(recomputed[a].received == books.goods[a].received for a in goods_assets)
    goods_pledges_ok = all(
        recomputed[a].pledged == books.goods[a].pledged
        and recomputed[a].outstanding == books.goods[a].receivable
        for a in goods_assets
    )
    mismatch_note = (
        f"; kept fulfilled amounts differ for pledges {kept_mismatch}" if kept_mismatch else ""
    )

    verification = verify_campaign(session, campaign.id, up_to_seq=balances.seq if as_of else None)
    kept = {account.id: amount for account, amount in balances.accounts}
    recomputed_ok = all(
        verification.recomputed.get(acc, ZERO) == amount for acc, amount in kept.items()
    )
    first = verification.first_broken
    return [
        schemas.Check(
            name="received_equals_contributions_recomputed",
            ok=money.received == books.money.received,
            detail=f"non-reversed contributions sum to {canonical(money.received)} {campaign.currency}",
        ),
        schemas.Check(
            name="pledges_fulfilment_recomputed",
            ok=not kept_mismatch
            and money.pledged == books.money.pledged
            and money.outstanding == books.money.receivable,
            detail=f"pledges give pledged {canonical(money.pledged)}, outstanding "
            f"{canonical(money.outstanding)}{mismatch_note}",
        ),
        schemas.Check(
            name="goods_received_equals_contributions_recomputed",
            ok=goods_received_ok,
            detail="; ".join(
                f"non-reversed contributions give {canonical(recomputed[a].received)} {a}"
                for a in goods_assets
            )
            or "no goods recorded",
        ),
        schemas.Check(
            name="goods_pledges_fulfilment_recomputed",
            ok=goods_pledges_ok and not kept_mismatch,
            detail="; ".join(
                f"pledges give pledged {canonical(recomputed[a].pledged)}, outstanding "
                f"{canonical(recomputed[a].outstanding)} {a}"
                for a in goods_assets
            )
            or "no goods recorded",
        ),
        schemas.Check(
            name="kept_balances_match_entries",
            ok=verification.balances_ok and recomputed_ok,
            detail=f"replayed {verification.entries} entries"
            + (
                ""
                if verification.balances_ok and recomputed_ok
                else f"; first problem: {first.detail if first else 'balances differ'}"
            ),
        ),
        schemas.Check(
            name="hash_chain_verifies",
            ok=verification.chain_ok,
            detail=f"{verification.entries} entries chained to {balances.head_hash[:16]}…"
            if verification.chain_ok
            else f"broken at entry {first.seq if first else '?'}: {first.detail if first else ''}",
        ),
    ]


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


@dataclass
class _Part:
    """One campaign's share of a (possibly rolled-up) reconciliation."""

    campaign: Campaign
    balances: ledger.Balances
    books: Books


def _descendants(session: Session, campaign: Campaign) -> list[Campaign]:
    """Every sub-campaign below `campaign`, breadth first, in id order per level."""
    found: list[Campaign] = []
    level = [campaign.id]
    while level:
        children = list(
            session.scalars(
                select(Campaign).where(Campaign.parent_id.in_(level)).order_by(Campaign.id)
            )
        )
        found += children
        level = [child.id for child in children]
    return found


def _merged(parts: list[_Part]) -> Books:
    """The books of several campaigns of one currency, added up account by account."""
    total = Books(parts[0].books.currency)
    for part in parts:
        books = part.books
        for asset, figures in [(total.currency, books.money), *books.goods.items()]:
            into = total.money if asset == total.currency else total.goods[asset]
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


def _rolled_up_checks(
    parts: list[_Part], per_part: list[list[schemas.Check]]
) -> list[schemas.Check]:
    """One check per name: ok when every campaign's is, each campaign named in the detail."""
    combined: dict[str, schemas.Check] = {}
    for part, checks in zip(parts, per_part, strict=True):
        for check in checks:
            detail = f"{part.campaign.code}: {check.detail}"
            if check.name in combined:
                previous = combined[check.name]
                combined[check.name] = schemas.Check(
                    name=check.name,
                    ok=previous.ok and check.ok,
                    detail=f"{previous.detail} | {detail}",
                )
            else:
                combined[check.name] = schemas.Check(name=check.name, ok=check.ok, detail=detail)
    return list(combined.values())


def reconcile(
    session: Session,
    campaign: Campaign,
    *,
    as_of: datetime | None,
    verify_full: bool,
    include_children: bool = False,
) -> schemas.Reconciliation:
    """The campaign's reconciliation as recorded at `as_of` (now when omitted); with
    `include_children`, its sub-campaigns' figures are added in and each is checked too."""
    as_of = checked_as_of(as_of)
    balances = ledger.balances(session, campaign.id, as_of=as_of)
    if balances.seq == 0:
        raise Invalid.field(
            "as_of",
            "as_of_before_campaign",
            f"campaign {campaign.code!r} was not yet recorded at {as_of}",
        )
    header = _header(session, campaign, balances.seq)
    parts = [_Part(campaign, balances, read_books(balances.accounts, header.currency))]
    if include_children:
        for child in _descendants(session, campaign):
            child_balances = ledger.balances(session, child.id, as_of=as_of)
            if child_balances.seq:  # a sub-campaign recorded after as_of counts nowhere yet
                parts.append(
                    _Part(
                        child, child_balances, read_books(child_balances.accounts, header.currency)
                    )
                )
    per_part = []
    for part in parts:
        checks = _kept_checks(part.balances, part.books)
        if verify_full:
            checks += _full_checks(session, part.campaign, part.balances, part.books, as_of)
        per_part.append(checks)
    books = _merged(parts) if len(parts) > 1 else parts[0].books
    money = books.money
    moment = as_of or max(
        (p.balances.recorded_at for p in parts if p.balances.recorded_at), default=None
    )
    assert moment is not None  # a chain with entries has a recording time
    return schemas.Reconciliation(
        campaign=header,
        as_of=rfc3339(moment),
        money=schemas.Money(
            pledged=canonical(money.pledged),
            outstanding_pledges=canonical(money.receivable),
            received=canonical(money.received),
            unpledged_received=canonical(money.unpledged_received),
            allocated=canonical(money.allocated),
            delivered=canonical(money.delivered),
            available=canonical(money.received - money.allocated),
            pledges_count=sum(p.balances.pledges_count for p in parts),
            contributions_count=sum(p.balances.contributions_count for p in parts),
            received_by_currency=_by_currency(books),
            by_location=_by_location(session, money),
        ),
        goods=_goods_lines(session, books),
        checks=_rolled_up_checks(parts, per_part) if len(parts) > 1 else per_part[0],
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
