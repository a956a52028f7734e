"""Builds the reconciliation from kept ledger balances.

The figures and checks 1–4 read only account balances (one row per account, or one
index lookup per account for `as_of`), so their cost does not grow with the number of
contributions. `verify_full` adds checks 5–6 and recomputes 2 and 4 from the records.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.campaigns.models import Campaign
from app.contributions.models import Contribution, ContributionReversal
from app.db import utcnow
from app.errors import Invalid
from app.ledger import accounts as chart
from app.ledger import service as ledger
from app.ledger.models import LedgerEntry
from app.ledger.verify import verify_campaign
from app.locations.models import Location
from app.money import canonical
from app.pledges.models import Pledge
from app.reconciliation import schemas

ZERO = Decimal(0)


@dataclass
class Figures:
    """Money figures of one campaign currency, read from account balances."""

    commitments: Decimal = ZERO
    receivable: Decimal = ZERO
    fulfilled: Decimal = ZERO
    excess: Decimal = ZERO
    cash: Decimal = ZERO
    donations: dict[tuple[str, str], Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    originals: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
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


def read_figures(balances: ledger.Balances, currency: str) -> Figures:
    figures = Figures()
    pledge_fields = {
        chart.PLEDGE_COMMITMENTS: "commitments",
        chart.PLEDGE_RECEIVABLE: "receivable",
        chart.PLEDGE_FULFILLED: "fulfilled",
        chart.PLEDGE_EXCESS: "excess",
    }
    for account, amount in balances.accounts:
        code = account.code
        if code.startswith(chart.ORIGINALS_PREFIX):
            if not code.endswith(":offset"):
                figures.originals[account.asset] += amount
            continue
        if account.asset != currency:
            continue
        if code == chart.CASH:
            figures.cash += amount
        elif code in pledge_fields:
            setattr(figures, pledge_fields[code], amount)
        elif code.startswith(chart.DONATIONS_PREFIX):
            _, side, original_currency = code.split(":")
            figures.donations[(side, original_currency)] += amount
        elif code.startswith(chart.ALLOCATED_PREFIX) and account.location_id is not None:
            figures.open_allocations[account.location_id] += amount
        elif code.startswith(chart.DELIVERED_PREFIX) and account.location_id is not None:
            figures.deliveries[account.location_id] += amount
    return figures


def _by_currency(figures: Figures, currency: str) -> list[schemas.CurrencyLine]:
    settled: dict[str, Decimal] = defaultdict(Decimal)
    for (_, original), amount in figures.donations.items():
        settled[original] -= amount
    settled.setdefault(currency, ZERO)
    lines = []
    for code in sorted(settled):
        amount = settled[code] if code == currency else figures.originals.get(code, ZERO)
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


def _kept_checks(balances: ledger.Balances, figures: Figures, currency: str) -> list[schemas.Check]:
    """Invariants 1–4, from kept balances only."""
    off = ledger.unbalanced_assets((account.asset, amount) for account, amount in balances.accounts)
    over_fulfilled = -figures.excess
    return [
        schemas.Check(
            name="entries_balance",
            ok=not off,
            detail=(
                f"{balances.seq} entries; every asset sums to zero over {len(balances.accounts)} accounts"
                if not off
                else "assets out of balance: "
                + ", ".join(f"{a} {canonical(v)}" for a, v in sorted(off.items()))
            ),
        ),
        schemas.Check(
            name="received_equals_contributions",
            ok=figures.received == figures.cash + figures.allocated,
            detail=(
                f"received {canonical(figures.received)} {currency} = available {canonical(figures.cash)} "
                f"+ allocated {canonical(figures.allocated)}"
            ),
        ),
        schemas.Check(
            name="allocated_within_received",
            ok=figures.allocated <= figures.received and figures.cash >= 0,
            detail=f"allocated {canonical(figures.allocated)} ≤ received {canonical(figures.received)} {currency}",
        ),
        schemas.Check(
            name="pledges_fulfilment",
            ok=figures.pledged == figures.receivable + figures.fulfilled + figures.excess,
            detail=(
                f"pledged {canonical(figures.pledged)} = outstanding {canonical(figures.receivable)} "
                f"+ fulfilled {canonical(figures.fulfilled)} − over-fulfilled {canonical(over_fulfilled)}"
            ),
        ),
    ]


def _full_checks(
    session: Session,
    campaign: Campaign,
    balances: ledger.Balances,
    figures: Figures,
    as_of: datetime | None,
) -> list[schemas.Check]:
    """Invariants 2 and 4 recomputed from the records, and 5–6 by replaying the chain."""
    reversed_by_then = select(ContributionReversal.contribution_id)
    pledge_stmt = select(Pledge).where(Pledge.campaign_id == campaign.id)
    if as_of is not None:
        reversed_by_then = reversed_by_then.where(ContributionReversal.recorded_at <= as_of)
        pledge_stmt = pledge_stmt.where(Pledge.created_at <= as_of)
    contribution_stmt = select(Contribution.pledge_id, Contribution.settled_amount).where(
        Contribution.campaign_id == campaign.id,
        Contribution.id.not_in(reversed_by_then),
    )
    if as_of is not None:
        contribution_stmt = contribution_stmt.where(Contribution.recorded_at <= as_of)
    received = ZERO
    per_pledge: dict[int, Decimal] = defaultdict(Decimal)
    for pledge_id, settled in session.execute(contribution_stmt):
        received += settled
        if pledge_id is not None:
            per_pledge[pledge_id] += settled

    pledged = outstanding = ZERO
    kept_mismatch: list[int] = []
    for pledge in session.scalars(pledge_stmt):
        if as_of is None and pledge.fulfilled_amount != per_pledge.get(pledge.id, ZERO):
            kept_mismatch.append(pledge.id)
        cancelled = pledge.cancelled_at is not None and (
            as_of is None or pledge.cancelled_at <= as_of
        )
        if cancelled:
            continue
        pledged += pledge.amount
        outstanding += max(ZERO, pledge.amount - per_pledge.get(pledge.id, ZERO))

    verification = verify_campaign(session, campaign.id, up_to_seq=balances.seq if as_of else None)
    kept = {account.id: amount for account, amount in balances.accounts}
    recomputed_ok = all(
        verification.recomputed.get(acc, ZERO) == amount for acc, amount in kept.items()
    )
    first = verification.first_broken
    return [
        schemas.Check(
            name="received_equals_contributions_recomputed",
            ok=received == figures.received,
            detail=f"non-reversed contributions sum to {canonical(received)} {campaign.currency}",
        ),
        schemas.Check(
            name="pledges_fulfilment_recomputed",
            ok=not kept_mismatch
            and pledged == figures.pledged
            and outstanding == figures.receivable,
            detail=(
                f"pledges give pledged {canonical(pledged)}, outstanding {canonical(outstanding)}"
                + (
                    f"; kept fulfilled amounts differ for pledges {kept_mismatch}"
                    if kept_mismatch
                    else ""
                )
            ),
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


def reconcile(
    session: Session, campaign: Campaign, *, as_of: datetime | None, verify_full: bool
) -> schemas.Reconciliation:
    """The campaign's reconciliation as recorded at `as_of` (now when omitted)."""
    if as_of is not None:
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
    balances = ledger.balances(session, campaign.id, as_of=as_of)
    if balances.seq == 0:
        raise Invalid.field(
            "as_of",
            "as_of_before_campaign",
            f"campaign {campaign.code!r} was not yet recorded at {as_of}",
        )
    header = _header(session, campaign, balances.seq)
    currency = header.currency
    figures = read_figures(balances, currency)
    checks = _kept_checks(balances, figures, currency)
    if verify_full:
        checks += _full_checks(session, campaign, balances, figures, as_of)
    moment = as_of or balances.recorded_at
    assert moment is not None  # a chain with entries has a recording time
    return schemas.Reconciliation(
        campaign=header,
        as_of=ledger.rfc3339(moment),
        money=schemas.Money(
            pledged=canonical(figures.pledged),
            outstanding_pledges=canonical(figures.receivable),
            received=canonical(figures.received),
            unpledged_received=canonical(figures.unpledged_received),
            allocated=canonical(figures.allocated),
            delivered=canonical(figures.delivered),
            available=canonical(figures.received - figures.allocated),
            pledges_count=balances.pledges_count,
            contributions_count=balances.contributions_count,
            received_by_currency=_by_currency(figures, currency),
            by_location=_by_location(session, figures),
        ),
        goods=[],
        checks=checks,
        ledger=schemas.LedgerState(entries=balances.seq, head_hash=balances.head_hash),
    )
