"""An auditor outside the service recomputes the chain from GET /v1/campaigns/{code}/ledger."""

import hashlib
import json
from collections import defaultdict
from decimal import Decimal

from tests.support import factories as f


def _all_entries(client, code):
    entries, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = f.ok(client.get(f"/v1/campaigns/{code}/ledger", params=params), 200)
        entries += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return entries


def _recompute_hash(entry):
    """The recipe of docs/auditors.md ("Verifying the chain yourself"), written independently of app code."""
    content = {
        "campaign_id": entry["campaign_id"],
        "seq": entry["seq"],
        "kind": entry["kind"],
        "recorded_at": entry["recorded_at"],
        "detail": entry["detail_json"],
        "postings": sorted([p["account"], p["asset"], p["amount"]] for p in entry["postings"]),
        "counters": {
            "pledges": entry["pledges_count"],
            "contributions": entry["contributions_count"],
        },
        "prev_hash": entry["prev_hash"],
    }
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def test_chain_recomputes_outside_the_service(client):
    c = f.campaign(client)
    donor = f.donor(client)
    pledge = f.pledge(client, c["code"], donor["id"], 3_000_000)
    f.contribution(client, c["code"], 1_000_000, pledge_id=pledge["id"])
    f.contribution(client, c["code"], "12.5", currency="USD", settled_amount="306250")
    place = f.location(client, "Xã Tà Cạ", "commune")
    a = f.allocation(client, c["code"], place["id"], 800_000)
    client.post(f"/v1/allocations/{a['id']}/deliver", json={"delivered_on": "2022-10-12"})

    entries = _all_entries(client, c["code"])
    assert [e["seq"] for e in entries] == list(range(1, 8))
    assert [e["kind"] for e in entries] == [
        "campaign_created",
        "campaign_updated",
        "pledge_recorded",
        "contribution_recorded",
        "contribution_recorded",
        "allocation_recorded",
        "allocation_delivered",
    ]
    prev = "0" * 64
    balances: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for entry in entries:
        assert entry["prev_hash"] == prev
        assert _recompute_hash(entry) == entry["hash"]
        per_asset: dict[str, Decimal] = defaultdict(Decimal)
        for p in entry["postings"]:
            per_asset[p["asset"]] += Decimal(p["amount"])
            balances[(p["account"], p["asset"])] += Decimal(p["amount"])
            assert Decimal(p["balance_after"]) == balances[(p["account"], p["asset"])]
        assert all(total == 0 for total in per_asset.values())
        prev = entry["hash"]
    assert f.reconciliation(client, c["code"])["ledger"] == {"entries": 7, "head_hash": prev}
    assert balances[("cash", "VND")] == Decimal(1_000_000 + 306_250 - 800_000)
    assert balances[("originals:USD", "USD")] == Decimal("12.5")
    assert entries[3]["detail"]["receipt_code"].startswith("RL-")
