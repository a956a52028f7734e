"""Goods: items, in-kind pledges and contributions, goods allocations, and the
reconciliation's `goods` section, with the seed story's 60 breeding goats for Tân Kỳ."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from tests.support import factories as f


@pytest.fixture
def goats_campaign(client):
    """A donor pledges 60 goats; 60 arrive; Tân Kỳ gets 40 of them, delivered."""
    c = f.campaign(client, code="de-giong-tan-ky")
    f.item(client)
    donor = f.donor(client, name="Mạnh thường quân Nghệ An", kind="business")
    return c["code"], donor


def test_items_are_created_listed_and_searched(client):
    goat = f.item(client)
    assert goat["code"] == "breeding-goat" and goat["unit"] == "con" and goat["name"] == "Dê giống"
    f.item(client, code="rice", name="Gạo tẻ", unit="kg")
    f.item(client, code="school-kit", name="Bộ đồ dùng học tập", unit="bộ")
    listed = f.ok(client.get("/v1/items", params={"limit": 2}), 200)
    assert [i["code"] for i in listed["items"]] == ["breeding-goat", "rice"]
    rest = f.ok(client.get("/v1/items", params={"cursor": listed["next_cursor"]}), 200)
    assert [i["code"] for i in rest["items"]] == ["school-kit"] and rest["next_cursor"] is None
    found = f.ok(client.get("/v1/items", params={"q": "GAO"}), 200)["items"]
    assert [i["code"] for i in found] == ["rice"]
    assert f.ok(client.get("/v1/items/rice"), 200)["unit"] == "kg"
    assert client.get("/v1/items/flour").json()["code"] == "item_not_found"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"code": "Breeding Goat", "name": "Dê", "unit": "con"}, 422, "validation_failed"),
        ({"code": "goat", "name": "", "unit": "con"}, 422, "validation_failed"),
        ({"code": "goat", "name": "Dê", "unit": "con", "id": 7}, 422, "validation_failed"),
        ({"code": "goat", "name": "Dê\x00", "unit": "con"}, 422, "validation_failed"),
        ({"code": "breeding-goat", "name": "Dê", "unit": "con"}, 409, "item_code_taken"),
        ({"code": "goat", "name": "Dê", "unit": "đàn"}, 422, "unit_unknown"),
    ],
)
def test_item_validation(client, body, status, code):
    f.item(client)
    response = client.post("/v1/items", json=body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert len(f.ok(client.get("/v1/items"), 200)["items"]) == 1


def test_goods_pledge_contribution_allocation_and_delivery(client, goats_campaign):
    code, donor = goats_campaign
    tan_ky = f.location(client, "Huyện Tân Kỳ")
    pledge = f.goods_pledge(client, code, donor["id"], "breeding-goat", 60)
    assert (pledge["kind"], pledge["item_code"], pledge["quantity"]) == (
        "goods",
        "breeding-goat",
        "60",
    )
    assert pledge["amount"] is None and pledge["currency"] is None
    assert pledge["status"] == "open" and pledge["outstanding_amount"] == "60"

    received = f.goods_contribution(
        client, code, "breeding-goat", 60, pledge_id=pledge["id"], estimated_value="180000000"
    )
    assert received["kind"] == "goods" and received["quantity"] == "60"
    assert received["estimated_value"] == "180000000"
    assert received["amount"] is None and received["settled_amount"] is None
    assert received["donor_id"] == donor["id"] and received["receipt_code"].startswith("RL-")
    assert f.ok(client.get(f"/v1/pledges/{pledge['id']}"), 200)["status"] == "fulfilled"

    allocation = f.goods_allocation(client, code, tan_ky["id"], "breeding-goat", 40)
    assert (allocation["kind"], allocation["quantity"], allocation["amount"]) == (
        "goods",
        "40",
        None,
    )
    delivered = f.ok(
        client.post(
            f"/v1/allocations/{allocation['id']}/deliver",
            json={"delivered_on": "2022-10-20", "evidence_url": "https://mattran.nghean.vn/de"},
        ),
        200,
    )
    assert delivered["status"] == "delivered"

    body = f.reconciliation(client, code)
    assert body["goods"] == [
        {
            "item_code": "breeding-goat",
            "item_name": "Dê giống",
            "unit": "con",
            "pledged": "60",
            "received": "60",
            "allocated": "40",
            "delivered": "40",
            "on_hand": "20",
            "estimated_value": "180000000",
        }
    ]
    # Goods never leak into the money figures.
    money = f.money(body)
    assert money["received"] == money["pledged"] == money["allocated"] == "0"
    assert money["contributions_count"] == 0 and money["pledges_count"] == 0
    assert money["by_location"] == []
    assert f.checks_ok(body)
    assert f.checks_ok(f.reconciliation(client, code, verify="full"))


@pytest.mark.parametrize(
    ("unit", "decimals", "accepted", "refused", "code"),
    [
        ("con", 0, "2", "1.5", "quantity_not_whole"),
        ("Thùng", 0, "12.000", "0.5", "quantity_not_whole"),
        ("chiếc", 0, "3", "2.25", "quantity_not_whole"),
        ("kg", 3, "2.125", "0.0005", "quantity_precision_exceeded"),
        ("lít", 3, "0.5", "1.2345", "quantity_precision_exceeded"),
    ],
)
def test_an_items_unit_says_whole_or_measured(client, unit, decimals, accepted, refused, code):
    """1.5 breeding goats is a typing mistake; 2.125 kg of rice is not (issue 10, item 7)."""
    c = f.campaign(client)
    made = f.item(client, code="thing", unit=unit)
    assert made["quantity_decimals"] == decimals
    donor = f.donor(client)
    for path, body in (
        ("contributions", {"received_on": "2022-10-06"}),
        ("pledges", {"donor_id": donor["id"]}),
        ("allocations", {"location_id": f.location(client)["id"], "purpose": "x"}),
    ):
        response = client.post(
            f"/v1/campaigns/{c['code']}/{path}",
            json={"item_code": "thing", "quantity": refused, **body},
        )
        assert response.status_code == 422, response.text
        assert (response.json()["code"], response.json()["errors"][0]["field"]) == (
            code,
            "quantity",
        )
    f.goods_contribution(client, c["code"], "thing", accepted)
    assert f.goods_line(f.reconciliation(client, c["code"]), "thing")["received"] == str(
        Decimal(accepted).normalize()
    )


def test_fractional_quantities_are_exact(client):
    c = f.campaign(client)
    f.item(client, code="rice", name="Gạo", unit="kg")
    ky_son = f.location(client)
    f.goods_contribution(client, c["code"], "rice", "2500.125")
    f.goods_contribution(client, c["code"], "rice", "0.375")
    f.goods_allocation(client, c["code"], ky_son["id"], "rice", "2500.5")
    line = f.goods_line(f.reconciliation(client, c["code"]), "rice")
    assert (line["received"], line["allocated"], line["on_hand"]) == ("2500.5", "2500.5", "0")
    refused = client.post(
        f"/v1/campaigns/{c['code']}/allocations",
        json={
            "location_id": ky_son["id"],
            "item_code": "rice",
            "quantity": "0.001",
            "purpose": "x",
        },
    )
    assert refused.status_code == 409 and refused.json()["code"] == "allocation_exceeds_available"


def test_goods_stock_never_goes_negative(client, goats_campaign, db):
    code, _ = goats_campaign
    tan_ky = f.location(client, "Huyện Tân Kỳ")
    contribution = f.goods_contribution(client, code, "breeding-goat", 60)
    f.goods_allocation(client, code, tan_ky["id"], "breeding-goat", 45)
    before = f.reconciliation(client, code)

    over = client.post(
        f"/v1/campaigns/{code}/allocations",
        json={
            "location_id": tan_ky["id"],
            "item_code": "breeding-goat",
            "quantity": 16,
            "purpose": "x",
        },
    )
    assert over.status_code == 409, over.text
    assert over.json()["code"] == "allocation_exceeds_available"
    assert "Only 15 con" in over.json()["detail"]
    # Reversing the 60 goats would leave 45 allocated against nothing received.
    reversal = client.post(
        f"/v1/contributions/{contribution['id']}/reverse", json={"reason": "Nhập sai"}
    )
    assert reversal.status_code == 409 and reversal.json()["code"] == "reversal_exceeds_available"
    assert f.reconciliation(client, code) == before
    with db.session() as session:
        assert session.scalar(text("SELECT count(*) FROM contribution_reversals")) == 0
        assert session.scalar(text("SELECT count(*) FROM allocations")) == 1


def test_goods_reversal_and_cancellation_count_nowhere(client, goats_campaign):
    code, donor = goats_campaign
    tan_ky = f.location(client, "Huyện Tân Kỳ")
    pledge = f.goods_pledge(client, code, donor["id"], "breeding-goat", "60")
    first = f.goods_contribution(
        client, code, "breeding-goat", 25, pledge_id=pledge["id"], estimated_value="75000000"
    )
    f.goods_contribution(client, code, "breeding-goat", 50, pledge_id=pledge["id"])
    pledge_now = f.ok(client.get(f"/v1/pledges/{pledge['id']}"), 200)
    assert pledge_now["fulfilled_amount"] == "75" and pledge_now["over_fulfilled_amount"] == "15"
    cancelled = f.goods_allocation(client, code, tan_ky["id"], "breeding-goat", 30)
    f.ok(client.post(f"/v1/allocations/{cancelled['id']}/cancel", json={"reason": "Trùng"}), 200)
    reversed_ = f.ok(
        client.post(f"/v1/contributions/{first['id']}/reverse", json={"reason": "Nhập trùng"}), 200
    )
    assert reversed_["status"] == "reversed"
    pledge_now = f.ok(client.get(f"/v1/pledges/{pledge['id']}"), 200)
    assert pledge_now["fulfilled_amount"] == "50" and pledge_now["status"] == "partially_fulfilled"

    body = f.reconciliation(client, code, verify="full")
    assert f.goods_line(body, "breeding-goat") == {
        "item_code": "breeding-goat",
        "item_name": "Dê giống",
        "unit": "con",
        "pledged": "60",
        "received": "50",
        "allocated": "0",
        "delivered": "0",
        "on_hand": "50",
        "estimated_value": "0",
    }
    assert f.checks_ok(body), body["checks"]


def test_several_items_are_reported_one_line_each(client):
    c = f.campaign(client)
    f.item(client)
    f.item(client, code="rice", name="Gạo", unit="kg")
    f.goods_contribution(client, c["code"], "rice", 2500)
    f.goods_contribution(client, c["code"], "breeding-goat", 60)
    f.contribution(client, c["code"], 1_000_000)
    body = f.reconciliation(client, c["code"])
    assert [(g["item_code"], g["received"]) for g in body["goods"]] == [
        ("breeding-goat", "60"),
        ("rice", "2500"),
    ]
    assert f.money(body)["received"] == "1000000"
    assert f.money(body)["contributions_count"] == 1


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"item_code": "breeding-goat"}, "quantity", "quantity_required"),
        ({"quantity": "5"}, "item_code", "item_code_required"),
        (
            {"item_code": "breeding-goat", "quantity": "5", "amount": "100"},
            "amount",
            "money_and_goods",
        ),
        (
            {"item_code": "breeding-goat", "quantity": "5", "currency": "VND"},
            "currency",
            "not_for_goods",
        ),
        (
            {"item_code": "breeding-goat", "quantity": "5", "method": "cash"},
            "method",
            "not_for_goods",
        ),
        (
            {"item_code": "breeding-goat", "quantity": "5", "bank_reference": "FT1"},
            "bank_reference",
            "not_for_goods",
        ),
        ({"item_code": "flour", "quantity": "5"}, "item_code", "item_not_found"),
        (
            {"item_code": "breeding-goat", "quantity": "0.0000001"},
            "quantity",
            "quantity_not_whole",
        ),
        (
            {"item_code": "breeding-goat", "quantity": "5", "estimated_value": "100.5"},
            "estimated_value",
            "amount_precision_exceeds_currency",
        ),
        (
            {"amount": "100", "method": "cash", "estimated_value": "100"},
            "estimated_value",
            "not_for_money",
        ),
        ({"amount": "100"}, "method", "method_required"),
        ({}, "amount", "amount_required"),
    ],
)
def test_goods_contribution_validation(client, goats_campaign, body, field, code):
    campaign_code, _ = goats_campaign
    response = client.post(
        f"/v1/campaigns/{campaign_code}/contributions", json={"received_on": "2022-10-06", **body}
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == code
    assert problem["errors"][0]["field"] == field
    assert f.reconciliation(client, campaign_code)["goods"] == []


def test_pledge_and_contribution_kinds_must_match(client, goats_campaign):
    code, donor = goats_campaign
    f.item(client, code="rice", name="Gạo", unit="kg")
    goats = f.goods_pledge(client, code, donor["id"], "breeding-goat", "60")
    money = f.pledge(client, code, donor["id"], 1_000_000)
    for body in (
        {"amount": "1000000", "method": "cash", "pledge_id": goats["id"]},
        {"item_code": "rice", "quantity": "10", "pledge_id": goats["id"]},
        {"item_code": "breeding-goat", "quantity": "10", "pledge_id": money["id"]},
    ):
        response = client.post(
            f"/v1/campaigns/{code}/contributions", json={"received_on": "2022-10-06", **body}
        )
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "pledge_kind_mismatch"
    for body, field in (
        ({"item_code": "breeding-goat", "quantity": "5", "amount": "5"}, "amount"),
        ({"item_code": "breeding-goat", "quantity": "5", "currency": "VND"}, "currency"),
        ({"item_code": "breeding-goat"}, "quantity"),
    ):
        response = client.post(
            f"/v1/campaigns/{code}/pledges", json={"donor_id": donor["id"], **body}
        )
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == field


def test_goods_pledge_cancel_and_outstanding(client, goats_campaign):
    code, donor = goats_campaign
    pledge = f.goods_pledge(client, code, donor["id"], "breeding-goat", "60")
    f.goods_contribution(client, code, "breeding-goat", 20, pledge_id=pledge["id"])
    f.ok(client.post(f"/v1/pledges/{pledge['id']}/cancel", json={"reason": "Đổi ý"}), 200)
    line = f.goods_line(f.reconciliation(client, code, verify="full"), "breeding-goat")
    # A cancelled pledge counts nowhere; the goats that came stay received.
    assert (line["pledged"], line["received"], line["on_hand"]) == ("0", "20", "20")


def test_database_refuses_a_row_that_is_both_money_and_goods(client, goats_campaign, db):
    code, _ = goats_campaign
    contribution = f.goods_contribution(client, code, "breeding-goat", 60)
    place = f.location(client, "Huyện Tân Kỳ")
    insert = text(
        "INSERT INTO allocations (campaign_id, location_id, amount, currency, item_id, "
        "quantity, purpose, status, allocated_on, created_at) SELECT campaign_id, :place, "
        ":amount, :currency, item_id, '5', 'x', 'allocated', received_on, recorded_at "
        "FROM contributions WHERE id = :id"
    )
    row = {"id": contribution["id"], "place": place["id"]}
    for money in ({"amount": "5", "currency": "VND"}, {"amount": "5", "currency": None}):
        with pytest.raises(IntegrityError, match="money_or_goods"), db.transaction() as session:
            session.execute(insert, row | money)
    with db.transaction() as session:  # the same row as goods only is fine
        session.execute(insert, row | {"amount": None, "currency": None})


def test_reconciliation_as_of_shows_goods_as_they_were(client, goats_campaign):
    code, _ = goats_campaign
    tan_ky = f.location(client, "Huyện Tân Kỳ")
    f.goods_contribution(client, code, "breeding-goat", 60)
    then = f.reconciliation(client, code)
    f.goods_allocation(client, code, tan_ky["id"], "breeding-goat", 60)
    assert f.reconciliation(client, code, as_of=then["as_of"]) == then
    assert f.goods_line(f.reconciliation(client, code), "breeding-goat")["on_hand"] == "0"


def test_sub_campaigns_roll_up_with_include_children(client):
    parent = f.campaign(client, code="ky-son-flood-2022")
    ky_son = f.campaign(client, code="ky-son-district-2022", parent_code=parent["code"])
    tuong_duong = f.campaign(client, code="tuong-duong-district-2022", parent_code=parent["code"])
    village = f.campaign(client, code="muong-xen-2022", parent_code=ky_son["code"])
    f.item(client, code="rice", name="Gạo", unit="kg")
    place = f.location(client)
    amounts = {
        parent["code"]: 5_000_000_000,
        ky_son["code"]: 1_200_000_000,
        tuong_duong["code"]: 300_000_000,
        village["code"]: 45_000_000,
    }
    for code, amount in amounts.items():
        f.contribution(client, code, amount)
    f.allocation(client, ky_son["code"], place["id"], 200_000_000)
    f.goods_contribution(client, village["code"], "rice", 2500)
    f.goods_allocation(client, village["code"], place["id"], "rice", 1000)

    alone = f.reconciliation(client, parent["code"])
    assert f.money(alone)["received"] == "5000000000" and "children" not in alone
    rolled = f.reconciliation(client, parent["code"], include_children="true", verify="full")
    money = f.money(rolled)
    assert money["received"] == str(sum(amounts.values()))
    assert money["allocated"] == "200000000"
    assert money["available"] == str(sum(amounts.values()) - 200_000_000)
    assert money["contributions_count"] == 4
    assert money["by_location"][0]["allocated"] == "200000000"
    assert f.goods_line(rolled, "rice")["on_hand"] == "1500"
    assert [child["code"] for child in rolled["children"]] == [
        ky_son["code"],
        tuong_duong["code"],
        village["code"],
    ]
    assert rolled["ledger"] == alone["ledger"]
    assert f.checks_ok(rolled)
    assert rolled["checks"][1]["detail"].count("|") == 3  # every campaign checked
    # A sub-campaign's own roll-up includes only what is below it.
    district = f.reconciliation(client, ky_son["code"], include_children="true")
    assert f.money(district)["received"] == str(1_200_000_000 + 45_000_000)
    assert Decimal(f.goods_line(district, "rice")["received"]) == 2500
