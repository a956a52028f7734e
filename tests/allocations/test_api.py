from datetime import date, timedelta

from sqlalchemy import text

from tests.support import factories as f


def _funded(client, amount=1_000_000_000):
    c = f.campaign(client)
    f.contribution(client, c["code"], amount)
    return c, f.location(client, "Xã Mường Típ", "commune")


def test_allocate_deliver_and_reconcile(client):
    c, place = _funded(client)
    a = f.allocation(client, c["code"], place["id"], 600_000_000, beneficiary="Hộ ông Lầu Bá Chống")
    assert (a["status"], a["amount"], a["currency"]) == ("allocated", "600000000", "VND")
    delivered = f.ok(
        client.post(
            f"/v1/allocations/{a['id']}/deliver",
            json={
                "delivered_on": "2022-10-20",
                "evidence_url": "https://example.org/bien-ban.pdf",
                "delivery_note": "Đã bàn giao",
            },
        ),
        200,
    )
    assert (delivered["status"], delivered["delivered_on"], delivered["evidence_url"]) == (
        "delivered",
        "2022-10-20",
        "https://example.org/bien-ban.pdf",
    )
    money = f.money(f.reconciliation(client, c["code"]))
    assert (money["allocated"], money["delivered"], money["available"]) == (
        "600000000",
        "600000000",
        "400000000",
    )
    assert money["by_location"] == [
        {
            "location_id": place["id"],
            "location_name": "Xã Mường Típ",
            "allocated": "600000000",
            "delivered": "600000000",
        }
    ]


def test_allocation_beyond_available_is_409_and_writes_nothing(client):
    c, place = _funded(client, 100)
    f.allocation(client, c["code"], place["id"], 60)
    before = f.reconciliation(client, c["code"])
    response = client.post(
        f"/v1/campaigns/{c['code']}/allocations",
        json={"location_id": place["id"], "amount": "41", "purpose": "x"},
    )
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "allocation_exceeds_available"
    assert f.reconciliation(client, c["code"]) == before
    assert len(client.get(f"/v1/campaigns/{c['code']}/allocations").json()["items"]) == 1
    f.allocation(client, c["code"], place["id"], 40)


def test_cancel_returns_money_and_only_before_delivery(client):
    c, place = _funded(client, 1000)
    a = f.allocation(client, c["code"], place["id"], 700)
    cancelled = f.ok(
        client.post(f"/v1/allocations/{a['id']}/cancel", json={"reason": "Trùng danh sách"}), 200
    )
    assert (cancelled["status"], cancelled["cancel_reason"]) == ("cancelled", "Trùng danh sách")
    for action, body in (("cancel", None), ("deliver", {"delivered_on": "2022-10-20"})):
        response = client.post(f"/v1/allocations/{a['id']}/{action}", json=body)
        assert (response.status_code, response.json()["code"]) == (409, "allocation_cancelled")
    b = f.allocation(client, c["code"], place["id"], 1000)
    f.ok(
        client.post(f"/v1/allocations/{b['id']}/deliver", json={"delivered_on": "2022-10-21"}), 200
    )
    for action, body in (("cancel", {}), ("deliver", {"delivered_on": "2022-10-22"})):
        response = client.post(f"/v1/allocations/{b['id']}/{action}", json=body)
        assert (response.status_code, response.json()["code"]) == (
            409,
            "allocation_already_delivered",
        )
    money = f.money(f.reconciliation(client, c["code"]))
    # The cancelled allocation counts nowhere, not even in by_location's history.
    assert (money["allocated"], money["delivered"], money["available"]) == ("1000", "1000", "0")


def test_allocation_validation(client):
    c, place = _funded(client, 1000)
    path = f"/v1/campaigns/{c['code']}/allocations"
    cases = [
        (
            {"location_id": place["id"], "amount": "10.5", "purpose": "x"},
            "amount_precision_exceeds_currency",
        ),
        (
            {"location_id": place["id"], "amount": "10", "purpose": "x", "currency": "USD"},
            "allocation_currency_mismatch",
        ),
        ({"location_id": 999, "amount": "10", "purpose": "x"}, "location_not_found"),
        ({"location_id": place["id"], "amount": "10"}, "validation_failed"),
        ({"location_id": place["id"], "amount": "0", "purpose": "x"}, "validation_failed"),
        (
            {"location_id": place["id"], "amount": "10", "purpose": "x", "status": "delivered"},
            "validation_failed",
        ),
    ]
    for body, code in cases:
        response = client.post(path, json=body)
        assert (response.status_code, response.json()["code"]) == (422, code), body
    a = f.allocation(client, c["code"], place["id"], 10)
    future = (date.today() + timedelta(days=3)).isoformat()
    for body in (
        {"delivered_on": future},
        {"delivered_on": "2022-10-01", "evidence_url": "not a url"},
        {},
    ):
        assert client.post(f"/v1/allocations/{a['id']}/deliver", json=body).status_code == 422, body
    assert client.get(f"/v1/allocations/{a['id']}").json()["status"] == "allocated"
    assert (
        client.post("/v1/allocations/999/deliver", json={"delivered_on": "2022-10-01"}).status_code
        == 404
    )


def test_allocations_need_open_or_closed_campaign(client):
    c, place = _funded(client, 1000)
    f.ok(client.patch(f"/v1/campaigns/{c['code']}", json={"status": "closed"}), 200)
    f.allocation(client, c["code"], place["id"], 500)
    draft = f.campaign(client, status="draft")
    response = client.post(
        f"/v1/campaigns/{draft['code']}/allocations",
        json={"location_id": place["id"], "amount": "1", "purpose": "x"},
    )
    assert (response.status_code, response.json()["code"]) == (409, "campaign_not_accepting")


def test_list_filters_by_status_and_location(client):
    c, place = _funded(client, 1000)
    other = f.location(client, "Xã Bảo Nam", "commune")
    a = f.allocation(client, c["code"], place["id"], 100)
    b = f.allocation(client, c["code"], other["id"], 100)
    client.post(f"/v1/allocations/{a['id']}/cancel")
    path = f"/v1/campaigns/{c['code']}/allocations"
    assert [x["id"] for x in client.get(path, params={"status": "allocated"}).json()["items"]] == [
        b["id"]
    ]
    assert [
        x["id"] for x in client.get(path, params={"location_id": place["id"]}).json()["items"]
    ] == [a["id"]]


def test_a_delivery_is_not_dated_before_its_allocation_or_the_campaign(client):
    c = f.campaign(client, starts_on="2022-10-01")
    f.contribution(client, c["code"], 1_000_000)
    place = f.location(client, "Xã Mường Típ", "commune")
    path = f"/v1/campaigns/{c['code']}/allocations"
    body = {"location_id": place["id"], "amount": "100", "purpose": "Hỗ trợ"}
    for allocated_on, code in (
        ("2022-09-30", "allocated_before_campaign_start"),
        ((date.today() + timedelta(days=2)).isoformat(), "date_in_future"),
    ):
        refused = client.post(path, json=body | {"allocated_on": allocated_on})
        assert refused.status_code == 422, refused.text
        assert (refused.json()["code"], refused.json()["errors"][0]["field"]) == (
            code,
            "allocated_on",
        )
    a = f.ok(client.post(path, json=body | {"allocated_on": "2022-10-12"}))
    assert a["allocated_on"] == "2022-10-12"
    refused = client.post(f"/v1/allocations/{a['id']}/deliver", json={"delivered_on": "2022-10-11"})
    assert refused.status_code == 422
    assert refused.json()["code"] == "delivered_before_allocated"
    assert f.ok(client.get(f"/v1/allocations/{a['id']}"), 200)["status"] == "allocated"
    delivered = f.ok(
        client.post(f"/v1/allocations/{a['id']}/deliver", json={"delivered_on": "2022-10-12"}), 200
    )
    assert (delivered["status"], delivered["delivered_on"]) == ("delivered", "2022-10-12")
    today = f.ok(client.post(path, json=body))  # allocated_on defaults to today in Vietnam
    assert today["allocated_on"] in {(date.today() + timedelta(days=d)).isoformat() for d in (0, 1)}


def test_delivery_before_a_campaigns_start_is_refused(client, db):
    """An allocation recorded before the campaign's start moved (or before dates were
    checked) still cannot be delivered before the start."""
    c = f.campaign(client)
    f.contribution(client, c["code"], 1_000_000)
    a = f.allocation(client, c["code"], f.location(client)["id"], 100, allocated_on="2022-10-01")
    with db.engine.begin() as conn:  # a start set after the allocation was recorded
        conn.execute(
            text("UPDATE campaigns SET starts_on = '2022-10-10' WHERE code = :c"), {"c": c["code"]}
        )
    refused = client.post(f"/v1/allocations/{a['id']}/deliver", json={"delivered_on": "2022-10-05"})
    assert refused.status_code == 422
    assert refused.json()["code"] == "delivered_before_campaign_start"


def test_delivery_note_has_one_name_in_and_out(client):
    c, place = _funded(client)
    first, second, third = (f.allocation(client, c["code"], place["id"], 100) for _ in range(3))
    answered = f.ok(
        client.post(
            f"/v1/allocations/{first['id']}/deliver",
            json={"delivered_on": "2022-10-20", "delivery_note": "Đã bàn giao"},
        ),
        200,
    )
    assert answered["delivery_note"] == "Đã bàn giao"
    old_name = f.ok(
        client.post(
            f"/v1/allocations/{second['id']}/deliver",
            json={"delivered_on": "2022-10-20", "note": "Tên cũ"},
        ),
        200,
    )
    assert old_name["delivery_note"] == "Tên cũ"  # the deprecated name is still read
    both = client.post(
        f"/v1/allocations/{third['id']}/deliver",
        json={"delivered_on": "2022-10-20", "note": "a", "delivery_note": "b"},
    )
    assert both.status_code == 422 and both.json()["code"] == "delivery_note_twice"
