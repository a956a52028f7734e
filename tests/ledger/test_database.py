"""Ledger invariants checked in the database itself, and tampering behind the service's back."""

from collections import defaultdict
from decimal import Decimal
from itertools import pairwise

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from app.ledger.models import LedgerAccount, LedgerEntry, LedgerPosting
from tests.support import factories as f
from tests.support.database import without_append_only_triggers


def _story(client):
    c = f.campaign(client)
    donor = f.donor(client)
    pledge = f.pledge(client, c["code"], donor["id"], 2_000_000)
    x = f.contribution(client, c["code"], 1_500_000, pledge_id=pledge["id"])
    f.contribution(client, c["code"], "250", currency="USD", settled_amount="6125000")
    place = f.location(client)
    a = f.allocation(client, c["code"], place["id"], 1_000_000)
    f.ok(
        client.post(f"/v1/allocations/{a['id']}/deliver", json={"delivered_on": "2022-10-10"}), 200
    )
    return c["code"], x


def test_every_entry_balances_and_running_balances_agree(client, db):
    _story(client)
    with db.session() as session:
        accounts = {a.id: a for a in session.scalars(select(LedgerAccount))}
        per_entry: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
        running: dict[int, Decimal] = defaultdict(Decimal)
        for p in session.scalars(
            select(LedgerPosting).order_by(LedgerPosting.seq, LedgerPosting.id)
        ):
            per_entry[(p.entry_id, accounts[p.account_id].asset)] += p.amount
            running[p.account_id] += p.amount
            assert p.balance_after == running[p.account_id]
        assert per_entry and all(total == 0 for total in per_entry.values())
        assert all(a.balance == running[a.id] for a in accounts.values())
        cash = [a for a in accounts.values() if a.code == "cash"]
        assert [a.balance for a in cash] == [Decimal("6625000")]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_entries SET detail = '{}'",
        "DELETE FROM ledger_entries",
        "UPDATE ledger_postings SET amount = 0",
        "DELETE FROM ledger_postings",
    ],
)
def test_database_refuses_to_edit_history(client, db, statement):
    _story(client)
    with db.engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
        conn.execute(text(statement))
    assert f.ok(client.get("/v1/audit/verify"), 200)["ok"] is True


def test_verify_names_a_tampered_kept_balance(client, db):
    code, _ = _story(client)
    with db.transaction() as session:
        account = session.scalars(select(LedgerAccount).where(LedgerAccount.code == "cash")).one()
        account.balance += 1_000_000
    report = f.ok(client.get("/v1/audit/verify"), 200)
    assert report["ok"] is False
    assert report["first_broken"]["rule"] == "kept_balance"
    assert report["first_broken"]["campaign_code"] == code
    body = f.reconciliation(client, code, verify="full")
    failed = {c["name"] for c in body["checks"] if not c["ok"]}
    assert "kept_balances_match_entries" in failed
    assert "received_equals_contributions" in failed  # cash no longer equals received − allocated


def test_verify_names_an_entry_edited_with_triggers_off(client, db):
    code, _ = _story(client)
    with db.engine.begin() as conn:
        without_append_only_triggers(db, conn)
        conn.execute(text("UPDATE ledger_postings SET amount = amount * 2 WHERE seq = 4"))
    report = f.ok(client.get("/v1/audit/verify"), 200)
    assert report["ok"] is False
    assert (report["first_broken"]["seq"], report["first_broken"]["rule"]) == (4, "entry_hash")
    checks = {c["name"]: c["ok"] for c in f.reconciliation(client, code, verify="full")["checks"]}
    assert checks["hash_chain_verifies"] is False
    assert checks["kept_balances_match_entries"] is False


def test_verify_names_a_deleted_entry(client, db):
    _story(client)
    with db.engine.begin() as conn:
        without_append_only_triggers(db, conn)
        entry_id = conn.execute(text("SELECT id FROM ledger_entries WHERE seq = 3")).scalar_one()
        conn.execute(text("DELETE FROM ledger_postings WHERE entry_id = :e"), {"e": entry_id})
        conn.execute(text("DELETE FROM ledger_entries WHERE id = :e"), {"e": entry_id})
    report = f.ok(client.get("/v1/audit/verify"), 200)
    assert report["ok"] is False
    assert report["first_broken"]["seq"] == 4
    assert report["first_broken"]["rule"] in {"chain_sequence", "chain_link"}


def test_chain_links_every_entry_to_the_previous(client, db):
    code, _ = _story(client)
    with db.session() as session:
        entries = session.scalars(
            select(LedgerEntry).order_by(LedgerEntry.campaign_id, LedgerEntry.seq)
        ).all()
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert entries[0].prev_hash == "0" * 64
    assert all(later.prev_hash == earlier.hash for earlier, later in pairwise(entries))
    assert f.reconciliation(client, code)["ledger"]["head_hash"] == entries[-1].hash
