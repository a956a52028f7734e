"""Invariant 3 under truly concurrent requests, against a real server.

A uvicorn process (several workers, each with its own thread pool) serves the test's
database; requests race over real sockets. Whatever the interleaving, allocations and
reversals never take a campaign's available money below zero, every loser gets a clean
409 (never a 500 or a 503), and the books still verify in full afterwards.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.support.live_server import LiveServer, race

PROBLEM_JSON = "application/problem+json"

pytestmark = pytest.mark.slow


def _ok(response: httpx.Response, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    body: dict[str, Any] = response.json()
    return body


def _open_campaign(client: httpx.Client, code: str) -> None:
    _ok(
        client.post(
            "/v1/campaigns",
            json={"code": code, "title": "Ủng hộ đồng bào Kỳ Sơn bị lũ quét", "kind": "flood"},
        )
    )
    _ok(client.patch(f"/v1/campaigns/{code}", json={"status": "open"}), 200)


def _contribute(client: httpx.Client, code: str, amount: int, reference: str) -> dict[str, Any]:
    return _ok(
        client.post(
            f"/v1/campaigns/{code}/contributions",
            json={
                "amount": str(amount),
                "received_on": "2024-09-10",
                "method": "bank_transfer",
                "bank_reference": reference,
            },
        )
    )


def _location(client: httpx.Client, name: str) -> int:
    body = _ok(client.post("/v1/locations", json={"name": name, "level": "commune"}))
    location_id: int = body["id"]
    return location_id


def _verified_reconciliation(client: httpx.Client, code: str) -> dict[str, Any]:
    body = _ok(
        client.get(f"/v1/campaigns/{code}/reconciliation", params={"verify": "full"}, timeout=60),
        200,
    )
    failed = [check for check in body["checks"] if not check["ok"]]
    assert not failed, failed
    names = {check["name"] for check in body["checks"]}
    assert {"kept_balances_match_entries", "hash_chain_verifies"} <= names
    audit = _ok(client.get("/v1/audit/verify", timeout=60), 200)
    assert audit["ok"] is True, audit
    return body


def _assert_conflict(response: httpx.Response, code: str) -> None:
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
    problem = response.json()
    assert problem["status"] == 409
    assert problem["code"] == code, problem
    assert problem["type"].endswith(code), problem


def _describe(responses: list[httpx.Response]) -> str:
    return "\n".join(
        f"{r.request.method} {r.request.url.path} -> {r.status_code} {r.text[:200]}"
        for r in responses
        if r.status_code not in (200, 201, 409)
    )


def test_fifty_concurrent_allocations_never_exceed_what_was_received(
    live_server: LiveServer,
) -> None:
    code = "yagi-2024-concurrency"
    tranche = 100_000_000
    with httpx.Client(
        base_url=live_server.base_url, timeout=60, headers=live_server.headers
    ) as client:
        _open_campaign(client, code)
        # 1,000,000,000 VND received in uneven pieces.
        for i, amount in enumerate((400_000_000, 250_000_000, 200_000_000, 99_999_999, 50_000_001)):
            _contribute(client, code, amount, f"FT2409{i:04d}")
        location_id = _location(client, "Xã Mường Lống")

    body = {"location_id": location_id, "amount": str(tranche), "purpose": "Hỗ trợ làm nhà"}
    responses = asyncio.run(race(live_server, [(f"/v1/campaigns/{code}/allocations", body)] * 50))

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 10, 409: 40}, (
        f"{statuses}\n{_describe(responses)}\n{live_server.log()}"
    )
    for response in responses:
        if response.status_code == 409:
            _assert_conflict(response, "allocation_exceeds_available")
        else:
            assert Decimal(response.json()["amount"]) == tranche

    with httpx.Client(
        base_url=live_server.base_url, timeout=60, headers=live_server.headers
    ) as client:
        reconciliation = _verified_reconciliation(client, code)
        allocations = _ok(
            client.get(f"/v1/campaigns/{code}/allocations", params={"limit": 100}), 200
        )
    money = reconciliation["money"]
    assert money["received"] == "1000000000"
    assert money["allocated"] == "1000000000"
    assert money["available"] == "0"
    assert money["by_location"] == [
        {
            "location_id": location_id,
            "location_name": "Xã Mường Lống",
            "allocated": "1000000000",
            "delivered": "0",
        }
    ]
    # 1 campaign_created + 1 opened + 5 contributions + 10 allocations.
    assert reconciliation["ledger"]["entries"] == 17
    assert len(allocations["items"]) == 10


def test_concurrent_reversals_and_allocations_keep_allocated_within_received(
    live_server: LiveServer,
) -> None:
    code = "yagi-2024-reversal-race"
    tranche = 100_000_000
    with httpx.Client(
        base_url=live_server.base_url, timeout=60, headers=live_server.headers
    ) as client:
        _open_campaign(client, code)
        contributions = [_contribute(client, code, tranche, f"FT2409R{i:03d}") for i in range(10)]
        locations = [_location(client, f"Bản Huồi {i}") for i in range(2)]

    allocation_requests = [
        (
            f"/v1/campaigns/{code}/allocations",
            {"location_id": locations[i % 2], "amount": str(tranche), "purpose": "Gạo cứu đói"},
        )
        for i in range(10)
    ]
    reversal_requests = [
        (f"/v1/contributions/{c['id']}/reverse", {"reason": "Nhập trùng sao kê"})
        for c in contributions
    ]
    # Interleave them, so neither kind systematically gets a head start.
    requests = [
        r for pair in zip(allocation_requests, reversal_requests, strict=True) for r in pair
    ]
    responses = asyncio.run(race(live_server, requests))

    allocations = responses[0::2]
    reversals = responses[1::2]
    assert {r.status_code for r in allocations} <= {201, 409}, _describe(allocations)
    assert {r.status_code for r in reversals} <= {200, 409}, _describe(reversals)
    for response in allocations:
        if response.status_code == 409:
            _assert_conflict(response, "allocation_exceeds_available")
    for response in reversals:
        if response.status_code == 409:
            _assert_conflict(response, "reversal_exceeds_available")
        else:
            assert response.json()["status"] == "reversed"
    allocated = sum(r.status_code == 201 for r in allocations)
    reversed_ = sum(r.status_code == 200 for r in reversals)
    # Every winner takes exactly one tranche out of the 10 that were available, and a
    # request is refused only once none is left: exactly 10 winners, whatever the order.
    assert allocated + reversed_ == 10, f"{allocated} allocations, {reversed_} reversals"

    with httpx.Client(
        base_url=live_server.base_url, timeout=60, headers=live_server.headers
    ) as client:
        reconciliation = _verified_reconciliation(client, code)
    money = reconciliation["money"]
    received = Decimal(money["received"])
    assert Decimal(money["allocated"]) <= received
    assert received == (10 - reversed_) * tranche
    assert Decimal(money["allocated"]) == allocated * tranche
    assert money["available"] == "0"
    assert money["contributions_count"] == 10 - reversed_
    assert reconciliation["ledger"]["entries"] == 2 + 10 + allocated + reversed_


def test_concurrent_goods_allocations_never_take_stock_below_zero(
    live_server: LiveServer,
) -> None:
    """60 breeding goats on hand, 40 requests for 7 each, and goat reversals racing them:
    stock never goes below zero, whoever wins."""
    code = "de-giong-tan-ky-race"
    with httpx.Client(
        base_url=live_server.base_url, timeout=60, headers=live_server.headers
    ) as client:
        _open_campaign(client, code)
        _ok(
            client.post(
                "/v1/items", json={"code": "breeding-goat", "name": "Dê giống", "unit": "con"}
            )
        )
        gifts = [
            _ok(
                client.post(
                    f"/v1/campaigns/{code}/contributions",
                    json={
                        "item_code": "breeding-goat",
                        "quantity": str(q),
                        "received_on": "2024-09-10",
                    },
                )
            )
            for q in (30, 20, 10)
        ]
        location_id = _location(client, "Xã Tân Hợp")

    allocation = {
        "location_id": location_id,
        "item_code": "breeding-goat",
        "quantity": "7",
        "purpose": "Hỗ trợ sinh kế",
    }
    reversals = [
        (f"/v1/contributions/{gift['id']}/reverse", {"reason": "Nhập trùng"}) for gift in gifts
    ]
    requests = [(f"/v1/campaigns/{code}/allocations", allocation)] * 40
    requests[5:5] = reversals[:1]
    requests[20:20] = reversals[1:2]
    requests[35:35] = reversals[2:]
    responses = asyncio.run(race(live_server, requests))

    allocations = [r for r in responses if r.request.url.path.endswith("/allocations")]
    reversed_ = [r for r in responses if r.request.url.path.endswith("/reverse")]
    assert {r.status_code for r in allocations} <= {201, 409}, _describe(allocations)
    assert {r.status_code for r in reversed_} <= {200, 409}, _describe(reversed_)
    for response in allocations:
        if response.status_code == 409:
            _assert_conflict(response, "allocation_exceeds_available")
    for response in reversed_:
        if response.status_code == 409:
            _assert_conflict(response, "reversal_exceeds_available")
    granted = sum(r.status_code == 201 for r in allocations)
    received = 60 - sum(
        Decimal(gift["quantity"])
        for gift, r in zip(gifts, reversed_, strict=True)
        if r.status_code == 200
    )
    assert 7 * granted <= received
    # Nobody was refused while 7 goats were still there: what is left is less than 7.
    assert received - 7 * granted < 7

    with httpx.Client(
        base_url=live_server.base_url, timeout=60, headers=live_server.headers
    ) as client:
        reconciliation = _verified_reconciliation(client, code)
    (goats,) = reconciliation["goods"]
    assert Decimal(goats["received"]) == received
    assert Decimal(goats["allocated"]) == 7 * granted
    assert Decimal(goats["on_hand"]) == received - 7 * granted >= 0
    assert reconciliation["money"]["received"] == "0"
