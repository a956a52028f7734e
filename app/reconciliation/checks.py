"""The reconciliation's checks: DESIGN.md's invariants, each a named `Check`.

Checks 1–4 read only kept balances (`kept_checks`); `full_checks` recomputes 2 and 4
from the records and replays the chain for 5–6, so its cost grows with the campaign.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, distinct, func, select
from sqlalchemy.orm import Session, selectinload

from app.campaigns.models import Campaign
from app.contributions.models import Contribution, ContributionReversal
from app.items.models import ASSET_PREFIX, Item
from app.ledger import service as ledger
from app.ledger.accounts import is_goods
from app.ledger.books import Books, Figures
from app.ledger.verify import verify_campaign
from app.money import canonical
from app.pledges.models import Pledge
from app.reconciliation import schemas
from app.reconciliation.records import first_mismatch

ZERO = Decimal(0)


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


def kept_checks(balances: ledger.Balances, books: Books) -> list[schemas.Check]:
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
    for cur, figures in sorted(books.pledges_abroad.items()):
        ok, detail = _asset_checks(figures, cur)[2]
        checks[3] = schemas.Check(
            name=checks[3].name, ok=checks[3].ok and ok, detail=f"{checks[3].detail}; {detail}"
        )
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
    pledge_stmt = (
        select(Pledge).where(Pledge.campaign_id == campaign.id).options(selectinload(Pledge.item))
    )
    if as_of is not None:
        reversed_by_then = reversed_by_then.where(ContributionReversal.recorded_at <= as_of)
        pledge_stmt = pledge_stmt.where(Pledge.created_at <= as_of)
    contribution_stmt = (
        select(
            Contribution.pledge_id,
            Contribution.settled_amount,
            Item.code,
            Contribution.quantity,
            Contribution.amount,
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
    # Core rows on the session's connection: the ORM result layer costs more than the sums.
    rows = session.connection().execute(contribution_stmt.execution_options(yield_per=10_000))
    for pledge_id, settled, item_code, quantity, original in rows:
        asset, received = (
            (campaign.currency, settled) if item_code is None else (_asset(item_code), quantity)
        )
        assert received is not None  # the money_or_goods check constraint
        figures[asset].received += received
        if pledge_id is not None:
            # Money fulfils its pledge by its original amount, in the pledge's currency.
            per_pledge[pledge_id] += original if item_code is None else received

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


def full_checks(
    session: Session,
    campaign: Campaign,
    balances: ledger.Balances,
    books: Books,
    as_of: datetime | None,
) -> list[schemas.Check]:
    """Invariants 2 and 4 recomputed from the records, and 5–6 by replaying the chain."""
    recomputed, kept_mismatch = _recompute(session, campaign, as_of)
    money = recomputed.pop(campaign.currency)
    abroad = {a: recomputed.pop(a) for a in sorted(recomputed) if not is_goods(a)}
    abroad_ok = all(
        abroad.get(cur, _Recomputed()).pledged == books.pledges_abroad[cur].pledged
        and abroad.get(cur, _Recomputed()).outstanding == books.pledges_abroad[cur].receivable
        for cur in set(abroad) | set(books.pledges_abroad)
    )
    abroad_note = "".join(
        f"; pledged {canonical(r.pledged)}, outstanding {canonical(r.outstanding)} {cur}"
        for cur, r in abroad.items()
    )
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

    verification = verify_campaign(
        session, campaign.id, up_to_seq=balances.seq if as_of else None, keep_details=as_of is None
    )
    kept = {account.id: amount for account, amount in balances.accounts}
    recomputed_ok = all(
        verification.recomputed.get(acc, ZERO) == amount for acc, amount in kept.items()
    )
    first = verification.first_broken
    checks = [
        schemas.Check(
            name="received_equals_contributions_recomputed",
            ok=money.received == books.money.received,
            detail=f"non-reversed contributions sum to {canonical(money.received)} {campaign.currency}",
        ),
        schemas.Check(
            name="pledges_fulfilment_recomputed",
            ok=not kept_mismatch
            and abroad_ok
            and money.pledged == books.money.pledged
            and money.outstanding == books.money.receivable,
            detail=f"pledges give pledged {canonical(money.pledged)}, outstanding "
            f"{canonical(money.outstanding)} {campaign.currency}{abroad_note}{mismatch_note}",
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
    if as_of is None:  # rows hold their present state: compared with the whole chain only
        mismatch = first_mismatch(session, campaign, verification)
        checks.append(
            schemas.Check(
                name="records_match_entries",
                ok=mismatch is None,
                detail="every contribution, pledge and allocation says what its entries say, "
                "and the audit log's last event has its entry"
                if mismatch is None
                else f"first mismatch: {mismatch.detail}",
            )
        )
    return checks


def rolled_up_checks(per_campaign: list[tuple[str, list[schemas.Check]]]) -> list[schemas.Check]:
    """One check per name over (campaign code, its checks) pairs: ok when every campaign's
    is, each campaign named in the detail."""
    combined: dict[str, schemas.Check] = {}
    for code, checks in per_campaign:
        for check in checks:
            detail = f"{code}: {check.detail}"
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


def bank_lines_counted_once(
    session: Session, campaigns: list[Campaign], as_of: datetime | None
) -> schemas.Check:
    """With `include_children`: no bank line is booked in two of the campaigns rolled up.

    Imported lines compare by fingerprint (`app.contributions.bank_lines`); lines without one
    (typed in, or imported before revision 0006) by bank reference, date and settled amount.
    One campaign may hold a line twice (its statement listed it twice); two may not.
    """
    codes = {c.id: c.code for c in campaigns}
    reversed_by_then = select(ContributionReversal.contribution_id)
    booked: list[ColumnElement[bool]] = [Contribution.campaign_id.in_(codes)]
    if as_of is not None:
        reversed_by_then = reversed_by_then.where(ContributionReversal.recorded_at <= as_of)
        booked.append(Contribution.recorded_at <= as_of)
    booked.append(Contribution.id.not_in(reversed_by_then))
    keys = {
        "fingerprint": (Contribution.line_fingerprint,),
        "bank reference, date and amount": (
            Contribution.bank_reference,
            Contribution.received_on,
            Contribution.settled_amount,
        ),
    }
    present = {
        "fingerprint": Contribution.line_fingerprint.is_not(None),
        "bank reference, date and amount": Contribution.line_fingerprint.is_(None)
        & Contribution.bank_reference.is_not(None),
    }
    for name, key in keys.items():
        twice = session.execute(
            select(func.min(Contribution.campaign_id), func.max(Contribution.campaign_id), *key)
            .where(*booked, present[name])
            .group_by(*key)
            .having(func.count(distinct(Contribution.campaign_id)) > 1)
            .limit(1)
        ).first()
        if twice is not None:
            first, last, *line = twice
            return schemas.Check(
                name="bank_lines_counted_once",
                ok=False,
                detail=f"the bank line with {name} {', '.join(map(str, line))} is booked in "
                f"both {codes[first]} and {codes[last]}",
            )
    return schemas.Check(
        name="bank_lines_counted_once",
        ok=True,
        detail=f"no bank line is booked in two of the {len(codes)} campaigns",
    )
