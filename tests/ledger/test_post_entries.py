"""The ledger's bulk path: `post_entries` (what a statement import uses) writes exactly
the chain, postings and balances that `post_entry` writes one by one, and refuses the
whole lot when one entry would overdraw."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from app.campaigns.models import Campaign
from app.errors import Conflict
from app.ledger import accounts as chart
from app.ledger import service as ledger
from app.ledger.models import LedgerAccount, LedgerEntry, LedgerHead, LedgerPosting
from app.ledger.service import EntryDraft
from tests.support import factories as f


def _chain_state(session, campaign_id: int) -> dict[str, Any]:
    """Everything the ledger keeps for a campaign, without row ids (sequences differ)."""
    entries = session.execute(
        select(
            LedgerEntry.seq,
            LedgerEntry.kind,
            LedgerEntry.recorded_at,
            LedgerEntry.detail,
            LedgerEntry.pledges_count,
            LedgerEntry.contributions_count,
            LedgerEntry.prev_hash,
            LedgerEntry.hash,
        )
        .where(LedgerEntry.campaign_id == campaign_id)
        .order_by(LedgerEntry.seq)
    ).all()
    postings = session.execute(
        select(
            LedgerPosting.seq,
            LedgerAccount.code,
            LedgerAccount.asset,
            LedgerPosting.amount,
            LedgerPosting.balance_after,
        )
        .join(LedgerAccount, LedgerAccount.id == LedgerPosting.account_id)
        .join(LedgerEntry, LedgerEntry.id == LedgerPosting.entry_id)
        .where(LedgerAccount.campaign_id == campaign_id, LedgerEntry.seq == LedgerPosting.seq)
        .order_by(LedgerPosting.seq, LedgerAccount.code)
    ).all()
    balances = session.execute(
        select(LedgerAccount.code, LedgerAccount.asset, LedgerAccount.balance)
        .where(LedgerAccount.campaign_id == campaign_id)
        .order_by(LedgerAccount.code)
    ).all()
    head = session.get_one(LedgerHead, campaign_id, populate_existing=True)
    return {
        "entries": [tuple(e) for e in entries],
        "postings": [tuple(p) for p in postings],
        "balances": [tuple(b) for b in balances],
        "head": (head.seq, head.head_hash, head.pledges_count, head.contributions_count),
    }


def _drafts(pledge_amount: Decimal, copies: int = 3) -> list[EntryDraft]:
    drafts = []
    fulfilled = Decimal(0)
    for i, amount in enumerate([Decimal(100_000), Decimal(250_000), Decimal(75_000)] * copies):
        postings = [
            chart.debit(chart.cash("VND"), amount),
            chart.credit(
                chart.donations("VND", pledged=i % 2 == 0, original_currency="VND"), amount
            ),
        ]
        if i % 2 == 0:  # the pledge side, capped like pledges.apply_fulfilment caps it
            capped = min(pledge_amount, fulfilled + amount) - min(pledge_amount, fulfilled)
            fulfilled += amount
            postings += [
                chart.debit(chart.pledge_account(chart.PLEDGE_FULFILLED, "VND"), amount),
                chart.credit(chart.pledge_account(chart.PLEDGE_RECEIVABLE, "VND"), capped),
                chart.credit(chart.pledge_account(chart.PLEDGE_EXCESS, "VND"), amount - capped),
            ]
        drafts.append(
            EntryDraft(
                # Not `contribution_recorded`: no contribution row stands behind these
                # entries, and verify compares every such entry with its row.
                kind="test_credit_recorded",
                detail={"row": i, "amount": str(amount), "text": "ủng hộ đồng bào lũ lụt"},
                postings=postings,
                counters=ledger.Counters(contributions=1),
            )
        )
    return drafts


# 9 drafts take the multi-row INSERT … RETURNING path; 108 (≥ ledger._BULK_ENTRIES) the
# bulk path of a statement import (reserved ids, then COPY or multi-row INSERTs).
@pytest.mark.parametrize("copies", [3, 36])
def test_post_entries_writes_exactly_the_chain_post_entry_writes(client, db, copies):
    assert (copies * 3 >= ledger._BULK_ENTRIES) == (copies == 36)
    c = f.campaign(client)
    f.pledge(client, c["code"], f.donor(client)["id"], 300_000)
    f.contribution(client, c["code"], 50_000)  # the chain and balances do not start empty
    drafts = _drafts(Decimal(300_000), copies)
    with db.session() as session:
        campaign_id = session.scalars(select(Campaign.id).where(Campaign.code == c["code"])).one()
        head = ledger.lock(session, campaign_id)
        stamp = ledger.clock(head)
        for draft in drafts:
            ledger.post_entry(
                session,
                head,
                kind=draft.kind,
                detail=draft.detail,
                postings=draft.postings,
                counters=draft.counters,
                recorded_at=stamp,
            )
        one_by_one = _chain_state(session, campaign_id)
        session.rollback()

        head = ledger.lock(session, campaign_id)
        ids = ledger.post_entries(session, head, drafts, recorded_at=stamp)
        bulk = _chain_state(session, campaign_id)
        assert len(ids) == len(drafts) == len(set(ids))
        # The ids returned are the entries' own, in the drafts' order.
        assert ids == list(
            session.scalars(
                select(LedgerEntry.id)
                .where(LedgerEntry.campaign_id == campaign_id, LedgerEntry.seq > 4)
                .order_by(LedgerEntry.seq)
            )
        )
        session.commit()
    assert bulk == one_by_one
    assert len(bulk["entries"]) == 3 + 1 + len(drafts)  # created, opened, pledge, 1 + drafts
    # The drafts have no contribution records behind them, so only the ledger's own checks apply.
    checks = {
        c["name"]: c["ok"] for c in f.reconciliation(client, c["code"], verify="full")["checks"]
    }
    assert checks["hash_chain_verifies"] and checks["kept_balances_match_entries"]
    assert checks["entries_balance"]
    assert f.ok(client.get("/v1/audit/verify"), 200)["ok"] is True


def test_post_entries_refuses_the_lot_when_one_entry_overdraws(client, db):
    c = f.campaign(client)
    f.contribution(client, c["code"], 100_000)
    before = client.get(f"/v1/campaigns/{c['code']}/reconciliation").content
    location_id = f.location(client)["id"]
    fine = EntryDraft(
        kind="test",
        detail={},
        postings=[
            chart.debit(chart.allocated("VND", location_id), Decimal(60_000)),
            chart.credit(chart.cash("VND"), Decimal(60_000)),
        ],
    )
    with db.session() as session, pytest.raises(Conflict) as refused:
        campaign_id = session.scalars(select(Campaign.id).where(Campaign.code == c["code"])).one()
        head = ledger.lock(session, campaign_id)
        ledger.post_entries(session, head, [fine, fine])  # 120,000 > 100,000
    assert refused.value.code == "balance_must_not_go_negative"
    assert client.get(f"/v1/campaigns/{c['code']}/reconciliation").content == before
