"""The auditor's contract: DESIGN.md's shape, exact totals, as_of, byte-identical repeats."""

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from tests.support import factories as f


def _seed_story(client):
    """The Kỳ Sơn flood appeal: domestic, business and overseas money, pledges, places."""
    c = f.campaign(client, code="ky-son-flood-2022", target_amount="100000000000")
    code = c["code"]
    vinamilk = f.donor(client, name="Công ty CP Sữa Việt Nam", kind="business")
    family = f.donor(client, name="Gia đình Trần Minh", kind="overseas_vietnamese", country="DE")
    tokyo = f.donor(
        client, name="Hội người Việt tại Tokyo", kind="overseas_vietnamese", country="JP"
    )
    anonymous = f.donor(client, name="Nguyễn Thị Hoa", kind="individual", anonymous=True)
    big = f.pledge(client, code, vinamilk["id"], "100000000000")
    small = f.pledge(client, code, anonymous["id"], "5000000")
    dropped = f.pledge(client, code, tokyo["id"], "800000", currency="JPY")
    received = [
        f.contribution(
            client, code, "60000000000", pledge_id=big["id"], bank_reference="5000.66543"
        ),
        f.contribution(client, code, "7000000", pledge_id=small["id"]),  # over-fulfils by 2,000,000
        f.contribution(
            client, code, "500", currency="EUR", settled_amount="12150000", donor_id=family["id"]
        ),
        f.contribution(
            client,
            code,
            "300000",
            currency="JPY",
            settled_amount="49650000",
            pledge_id=dropped["id"],
        ),
        f.contribution(client, code, "200000", method="cash"),
        f.contribution(client, code, "999", currency="USD", settled_amount="24500000"),
    ]
    f.ok(
        client.post(f"/v1/pledges/{dropped['id']}/cancel", json={"reason": "Chuyển sang quỹ khác"}),
        200,
    )
    f.ok(
        client.post(
            f"/v1/contributions/{received[5]['id']}/reverse", json={"reason": "Trùng giao dịch"}
        ),
        200,
    )
    ky_son = f.location(client, "Huyện Kỳ Sơn", "district")
    tan_ky = f.location(client, "Huyện Tân Kỳ", "district")
    houses = f.allocation(client, code, ky_son["id"], "30000000000", purpose="Di dời bản Xốp Tụ")
    f.ok(
        client.post(f"/v1/allocations/{houses['id']}/deliver", json={"delivered_on": "2022-11-15"}),
        200,
    )
    f.allocation(client, code, ky_son["id"], "5000000000", purpose="Sửa đường")
    cancelled = f.allocation(client, code, tan_ky["id"], "1000000000", purpose="Trùng")
    f.ok(client.post(f"/v1/allocations/{cancelled['id']}/cancel"), 200)
    return code, ky_son, tan_ky


def test_seed_story_totals_are_exact(client):
    code, ky_son, _ = _seed_story(client)
    # Independent arithmetic: what the story says, added up here.
    received = Decimal("60000000000") + 7000000 + 12150000 + 49650000 + 200000  # USD reversed
    allocated = Decimal("30000000000") + Decimal("5000000000")
    body = f.reconciliation(client, code)
    assert body["campaign"] == {
        "code": "ky-son-flood-2022",
        "title": "Ủng hộ đồng bào Kỳ Sơn bị lũ quét",
        "currency": "VND",
        "status": "open",
        "target_amount": "100000000000",
    }
    assert body["money"] == {
        "pledged": str(Decimal("100000000000") + 5000000),
        "outstanding_pledges": "40000000000",
        "received": str(received),
        "unpledged_received": str(12150000 + 200000),
        "allocated": str(allocated),
        "delivered": "30000000000",
        "available": str(received - allocated),
        "pledges_count": 2,
        "contributions_count": 5,
        "received_by_currency": [
            {"currency": "EUR", "amount": "500", "settled_amount": "12150000"},
            {"currency": "JPY", "amount": "300000", "settled_amount": "49650000"},
            {"currency": "VND", "amount": "60007200000", "settled_amount": "60007200000"},
        ],
        # The cancelled JPY pledge counts nowhere, so JPY has no line.
        "pledges_by_currency": [
            {
                "currency": "VND",
                "pledged": "100005000000",
                "fulfilled": "60007000000",
                "outstanding": "40000000000",
                "over_fulfilled": "2000000",
            }
        ],
        "by_location": [
            {
                "location_id": ky_son["id"],
                "location_name": "Huyện Kỳ Sơn",
                "allocated": "35000000000",
                "delivered": "30000000000",
            }
        ],
    }
    assert body["goods"] == []
    assert [c["name"] for c in body["checks"]] == [
        "entries_balance",
        "received_equals_contributions",
        "allocated_within_received",
        "pledges_fulfilment",
        "goods_received_equals_contributions",
        "goods_allocated_within_received",
        "goods_pledges_fulfilment",
    ]
    assert {c["detail"] for c in body["checks"][4:]} == {"no goods recorded"}
    assert f.checks_ok(body)
    assert "over-fulfilled 2000000" in body["checks"][3]["detail"]
    assert body["ledger"]["entries"] == 2 + 3 + 6 + 1 + 1 + 2 + 1 + 2
    assert len(body["ledger"]["head_hash"]) == 64


def test_full_verification_agrees(client):
    code, _, _ = _seed_story(client)
    body = f.reconciliation(client, code, verify="full")
    names = [c["name"] for c in body["checks"]]
    assert names[-3:] == [
        "kept_balances_match_entries",
        "hash_chain_verifies",
        "records_match_entries",
    ]
    assert len(names) == 14
    assert f.checks_ok(body)
    audit_events = len(f.ok(client.get("/v1/audit", params={"limit": 500}), 200)["items"])
    assert f.ok(client.get("/v1/audit/verify"), 200) == {
        "ok": True,
        "checked": body["ledger"]["entries"] + audit_events,
        "campaigns": 1,
        "ledger_entries": body["ledger"]["entries"],
        "audit_events": audit_events,
        "first_broken": None,
    }


def test_repeat_is_byte_identical(client):
    code, _, _ = _seed_story(client)
    first = client.get(f"/v1/campaigns/{code}/reconciliation")
    second = client.get(f"/v1/campaigns/{code}/reconciliation")
    assert first.content == second.content
    as_of = first.json()["as_of"]
    assert (
        client.get(f"/v1/campaigns/{code}/reconciliation", params={"as_of": as_of}).content
        == first.content
    )


def test_as_of_is_what_the_books_said_then(client):
    c = f.campaign(client, target_amount="1000000")
    code = c["code"]
    first = f.contribution(client, code, 400_000)
    time.sleep(0.01)
    moment = datetime.now(UTC).isoformat()
    then = client.get(f"/v1/campaigns/{code}/reconciliation", params={"as_of": moment})
    time.sleep(0.01)
    f.contribution(client, code, 100_000)
    client.post(f"/v1/contributions/{first['id']}/reverse", json={"reason": "Sai"})
    f.ok(client.patch(f"/v1/campaigns/{code}", json={"title": "Tên mới", "status": "closed"}), 200)
    later = client.get(f"/v1/campaigns/{code}/reconciliation", params={"as_of": moment})
    assert later.content == then.content
    body = later.json()
    assert (body["money"]["received"], body["money"]["contributions_count"]) == ("400000", 1)
    assert (body["campaign"]["title"], body["campaign"]["status"]) == (c["title"], "open")
    assert f.checks_ok(f.reconciliation(client, code, as_of=moment, verify="full"))
    now = f.reconciliation(client, code)
    assert (now["money"]["received"], now["campaign"]["status"], now["campaign"]["title"]) == (
        "100000",
        "closed",
        "Tên mới",
    )


def test_as_of_validation(client):
    c = f.campaign(client)
    path = f"/v1/campaigns/{c['code']}/reconciliation"
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    for params, code in (
        ({"as_of": future}, "as_of_in_future"),
        ({"as_of": "2020-01-01T00:00:00Z"}, "as_of_before_campaign"),
        ({"as_of": "2022-10-05T10:00:00"}, "as_of_needs_timezone"),
        ({"as_of": "yesterday"}, "validation_failed"),
        ({"verify": "everything"}, "validation_failed"),
    ):
        response = client.get(path, params=params)
        assert (response.status_code, response.json()["code"]) == (422, code), params
    assert client.get("/v1/campaigns/nope/reconciliation").status_code == 404


def test_empty_campaign_reconciles_to_zero(client):
    c = f.campaign(client, status="draft")
    money = f.money(f.reconciliation(client, c["code"]))
    assert money["received"] == money["allocated"] == money["pledged"] == "0"
    assert money["received_by_currency"] == [
        {"currency": "VND", "amount": "0", "settled_amount": "0"}
    ]
