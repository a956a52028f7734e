"""Edits behind the service's back that the hash chain alone cannot see (issue 10, item 4).

Each edit leaves every entry, hash and kept balance intact (or rewinds them consistently),
so only the cross-check of records against entries, and of the chain's head against the
audit log, catches it: every other check of `verify=full` still passes.
"""

from typing import Any

import pytest
from sqlalchemy import select, text

from app.campaigns.models import Campaign
from app.ledger import service as ledger
from tests.support import factories as f
from tests.support.database import without_append_only_triggers


def _story(client) -> dict[str, Any]:
    c = f.campaign(client)
    code = c["code"]
    named = f.donor(client, name="Công ty CP Sữa Việt Nam", kind="business")
    pledge = f.pledge(client, code, named["id"], 2_000_000)
    pledged = f.contribution(client, code, 1_500_000, pledge_id=pledge["id"])
    anonymous = f.contribution(client, code, 700_000)  # no donor: an anonymous gift
    place = f.location(client)
    allocation = f.allocation(client, code, place["id"], 1_000_000)
    last = f.contribution(client, code, 300_000, bank_reference="FT2210050001")
    return {
        "code": code,
        "named": named,
        "pledge": pledge,
        "pledged": pledged,
        "anonymous": anonymous,
        "allocation": allocation,
        "last": last,
    }


def _caught(client, code: str, *, alone: bool = True) -> tuple[dict[str, Any], dict[str, Any]]:
    """The audit verification's first broken link, and the records check of verify=full,
    after asserting that it failed (`alone`: and that nothing else noticed)."""
    report = f.ok(client.get("/v1/audit/verify"), 200)
    assert report["ok"] is False
    body = f.reconciliation(client, code, verify="full")
    failed = {c["name"]: c for c in body["checks"] if not c["ok"]}
    assert "records_match_entries" in failed
    if alone:
        assert set(failed) == {"records_match_entries"}, failed
    return report["first_broken"], failed["records_match_entries"]


def _named_in(broken: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(broken[k] for k in ("log", "table", "record_id", "field", "expected", "found"))


def test_an_untouched_story_verifies(client):
    story = _story(client)
    assert f.ok(client.get("/v1/audit/verify"), 200)["ok"] is True
    assert f.checks_ok(f.reconciliation(client, story["code"], verify="full"))


def test_an_updated_amount_is_caught(client, db):
    story = _story(client)
    row = story["anonymous"]["id"]
    with db.engine.begin() as conn:
        conn.execute(
            text("UPDATE contributions SET amount = '7000000' WHERE id = :id"), {"id": row}
        )
    broken, check = _caught(client, story["code"])
    assert _named_in(broken) == ("records", "contributions", row, "amount", "700000", "7000000")
    assert broken["campaign_code"] == story["code"]
    assert check["detail"] == (
        f"first mismatch: contributions {row}: amount is '7000000' in the row, "
        "'700000' in the chain"
    )


def test_an_amount_against_a_pledge_is_caught_by_both_checks(client, db):
    """A pledged gift's amount is also its pledge's fulfilment: recomputing sees it too."""
    story = _story(client)
    row = story["pledged"]["id"]
    with db.engine.begin() as conn:
        conn.execute(
            text("UPDATE contributions SET amount = '1600000' WHERE id = :id"), {"id": row}
        )
    broken, _ = _caught(client, story["code"], alone=False)
    assert _named_in(broken) == ("records", "contributions", row, "amount", "1500000", "1600000")


def test_a_gift_moved_to_a_named_donor_is_caught(client, db):
    story = _story(client)
    row, named = story["anonymous"]["id"], story["named"]["id"]
    with db.engine.begin() as conn:
        conn.execute(
            text("UPDATE contributions SET donor_id = :donor WHERE id = :id"),
            {"donor": named, "id": row},
        )
    broken, _ = _caught(client, story["code"])
    assert _named_in(broken) == ("records", "contributions", row, "donor_id", None, str(named))


@pytest.mark.parametrize(
    ("table", "column", "value", "expected"),
    [
        ("pledges", "amount", "'1000000'", "2000000"),
        ("pledges", "currency", "'USD'", "VND"),
        ("allocations", "amount", "'2000000'", "1000000"),
        ("allocations", "status", "'delivered'", "allocated"),
    ],
)
def test_other_record_edits_are_caught(client, db, table, column, value, expected):
    story = _story(client)
    row = story["pledge" if table == "pledges" else "allocation"]["id"]
    with db.engine.begin() as conn:
        conn.execute(text(f"UPDATE {table} SET {column} = {value} WHERE id = :id"), {"id": row})
    # A pledge's size also shows in the recomputed pledge figures; an allocation's does not.
    broken, _ = _caught(client, story["code"], alone=table == "allocations")
    assert _named_in(broken) == ("records", table, row, column, expected, value.strip("'"))


def _cut_last_entry(db, conn) -> int:
    """With the triggers off: delete the chain's last entry and rewind the kept balances,
    counters and head to the entry before it, so the chain verifies on its own."""
    without_append_only_triggers(db, conn)
    last = conn.execute(
        text("SELECT id, campaign_id, seq FROM ledger_entries ORDER BY id DESC LIMIT 1")
    ).one()
    for account_id, amount in conn.execute(
        text("SELECT account_id, amount FROM ledger_postings WHERE entry_id = :e"), {"e": last.id}
    ).all():
        balance = conn.execute(
            text("SELECT balance FROM ledger_accounts WHERE id = :a"), {"a": account_id}
        ).scalar_one()
        conn.execute(
            text("UPDATE ledger_accounts SET balance = :b WHERE id = :a"),
            {"b": str(f.d(str(balance)) - f.d(str(amount))), "a": account_id},
        )
    conn.execute(text("DELETE FROM ledger_postings WHERE entry_id = :e"), {"e": last.id})
    conn.execute(text("DELETE FROM ledger_entries WHERE id = :e"), {"e": last.id})
    before = conn.execute(
        text(
            "SELECT seq, hash, recorded_at, pledges_count, contributions_count "
            "FROM ledger_entries WHERE campaign_id = :c AND seq = :s"
        ),
        {"c": last.campaign_id, "s": last.seq - 1},
    ).one()
    conn.execute(
        text(
            "UPDATE ledger_heads SET seq = :seq, head_hash = :hash, recorded_at = :at, "
            "pledges_count = :p, contributions_count = :n WHERE campaign_id = :c"
        ),
        {
            "seq": before.seq,
            "hash": before.hash,
            "at": before.recorded_at,
            "p": before.pledges_count,
            "n": before.contributions_count,
            "c": last.campaign_id,
        },
    )
    return int(last.seq)


def test_a_chain_cut_short_with_its_record_kept_is_caught(client, db):
    story = _story(client)
    with db.engine.begin() as conn:
        _cut_last_entry(db, conn)
    row = story["last"]["id"]
    # Received recomputed from the rows (which still count it) disagrees as well.
    broken, _ = _caught(client, story["code"], alone=False)
    assert _named_in(broken) == ("records", "contributions", row, "entry", "no entry", "a row")


def test_a_chain_cut_short_with_its_record_deleted_is_caught(client, db):
    """The record goes too: only the audit log, which still holds its creation, tells."""
    story = _story(client)
    row = story["last"]["id"]
    with db.engine.begin() as conn:
        seq = _cut_last_entry(db, conn)
        conn.execute(text("DELETE FROM contributions WHERE id = :id"), {"id": row})
    broken, check = _caught(client, story["code"])
    assert broken["rule"] == "head_matches_audit_log"
    assert (broken["table"], broken["field"], broken["found"]) == (
        "ledger_heads",
        "last_entry",
        "no such entry in the chain",
    )
    assert broken["expected"].startswith(f"contribution_recorded of contributions {row} ")
    assert broken["seq"] == seq - 1  # the chain as it now stands
    assert "contribution_recorded of contributions" in check["detail"]


def test_an_entry_that_names_no_record_is_a_mismatch_not_a_crash(client, db):
    """A `contribution_recorded` entry whose detail names no contribution (posted straight
    through the ledger, not by the contributions service) is reported, never a 500."""
    story = _story(client)
    with db.session() as session:
        campaign_id = session.scalars(
            select(Campaign.id).where(Campaign.code == story["code"])
        ).one()
        head = ledger.lock(session, campaign_id)
        ledger.post_entry(session, head, kind="contribution_recorded", detail={"amount": "1"})
        session.commit()
    broken, check = _caught(client, story["code"])
    assert _named_in(broken) == (
        "records",
        "ledger_entries",
        0,
        "contribution_id",
        "a record id",
        "none",
    )
    assert "contribution_id" in check["detail"]
