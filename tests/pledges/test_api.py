from datetime import date, timedelta

from tests.support import factories as f


def test_pledge_gets_a_reference_and_open_status(client):
    c = f.campaign(client, code="ky-son-flood-2022")
    donor = f.donor(client, name="Công ty CP Sữa Việt Nam", kind="business")
    pledge = f.pledge(client, c["code"], donor["id"], 1_000_000_000)
    assert pledge["reference"].startswith("KS-") and len(pledge["reference"]) == 7
    assert (pledge["status"], pledge["outstanding_amount"], pledge["fulfilled_amount"]) == (
        "open",
        "1000000000",
        "0",
    )
    assert f.ok(client.get(f"/v1/pledges/{pledge['id']}"), 200) == pledge


def test_given_reference_is_upper_cased_and_unique_per_campaign(client):
    c = f.campaign(client)
    donor = f.donor(client)
    assert (
        f.pledge(client, c["code"], donor["id"], 5_000_000, reference="ks-9pld")["reference"]
        == "KS-9PLD"
    )
    again = client.post(
        f"/v1/campaigns/{c['code']}/pledges",
        json={"donor_id": donor["id"], "amount": "1", "reference": "KS-9PLD"},
    )
    assert again.status_code == 409
    assert again.json()["code"] == "pledge_reference_taken"


def test_pledges_need_an_open_campaign(client):
    donor = f.donor(client)
    for status in ("draft", "closed"):
        c = f.campaign(client, status=status)
        response = client.post(
            f"/v1/campaigns/{c['code']}/pledges", json={"donor_id": donor["id"], "amount": "1000"}
        )
        assert response.status_code == 409
        assert response.json()["code"] == "campaign_not_accepting"


def test_pledge_validation(client):
    c = f.campaign(client)
    donor = f.donor(client)
    path = f"/v1/campaigns/{c['code']}/pledges"
    cases = [
        ({"donor_id": donor["id"], "amount": "1000.5"}, "amount_precision_exceeds_currency"),
        ({"donor_id": donor["id"], "amount": "0"}, "validation_failed"),
        ({"donor_id": donor["id"], "amount": "-100"}, "validation_failed"),
        ({"donor_id": donor["id"], "amount": "abc"}, "validation_failed"),
        ({"donor_id": donor["id"], "amount": "100", "currency": "ZZZ"}, "unknown_currency"),
        (
            {"donor_id": donor["id"], "amount": "12.505", "currency": "USD"},
            "amount_precision_exceeds_currency",
        ),
        ({"donor_id": 999, "amount": "100"}, "donor_not_found"),
        ({"donor_id": donor["id"], "amount": "100", "due_on": "2022-13-01"}, "validation_failed"),
        ({"donor_id": donor["id"], "amount": "100", "status": "fulfilled"}, "validation_failed"),
        ({"donor_id": donor["id"], "item_code": "rice", "quantity": "5"}, "item_not_found"),
    ]
    for body, code in cases:
        response = client.post(path, json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["code"] == code, body
    assert client.get(path).json()["items"] == []
    assert f.reconciliation(client, c["code"])["ledger"]["entries"] == 2  # created, opened


def test_derived_status_through_fulfilment(client):
    c = f.campaign(client)
    donor = f.donor(client)
    pledge = f.pledge(client, c["code"], donor["id"], 1_000_000)
    f.contribution(client, c["code"], 400_000, pledge_id=pledge["id"])
    partial = client.get(f"/v1/pledges/{pledge['id']}").json()
    assert (partial["status"], partial["fulfilled_amount"], partial["outstanding_amount"]) == (
        "partially_fulfilled",
        "400000",
        "600000",
    )
    f.contribution(client, c["code"], 700_000, pledge_id=pledge["id"])
    over = client.get(f"/v1/pledges/{pledge['id']}").json()
    assert (
        over["status"],
        over["fulfilled_amount"],
        over["outstanding_amount"],
        over["over_fulfilled_amount"],
    ) == (
        "fulfilled",
        "1100000",
        "0",
        "100000",
    )


def test_overdue_when_past_due(client):
    c = f.campaign(client)
    donor = f.donor(client)
    yesterday = (date.today() - timedelta(days=2)).isoformat()
    pledge = f.pledge(client, c["code"], donor["id"], 1_000_000, due_on=yesterday)
    assert pledge["status"] == "overdue"


def test_cancel_rules(client):
    c = f.campaign(client)
    donor = f.donor(client)
    pledge = f.pledge(client, c["code"], donor["id"], 1_000_000)
    f.contribution(client, c["code"], 250_000, pledge_id=pledge["id"])
    cancelled = f.ok(
        client.post(f"/v1/pledges/{pledge['id']}/cancel", json={"reason": "Nhà tài trợ rút lại"}),
        200,
    )
    assert (cancelled["status"], cancelled["cancel_reason"], cancelled["outstanding_amount"]) == (
        "cancelled",
        "Nhà tài trợ rút lại",
        "0",
    )
    again = client.post(f"/v1/pledges/{pledge['id']}/cancel")
    assert (again.status_code, again.json()["code"]) == (409, "pledge_already_cancelled")
    refused = client.post(
        f"/v1/campaigns/{c['code']}/contributions",
        json={
            "pledge_id": pledge["id"],
            "amount": "1",
            "received_on": "2022-10-05",
            "method": "cash",
        },
    )
    assert (refused.status_code, refused.json()["code"]) == (409, "pledge_cancelled")

    fulfilled = f.pledge(client, c["code"], donor["id"], 100_000)
    f.contribution(client, c["code"], 100_000, pledge_id=fulfilled["id"])
    response = client.post(f"/v1/pledges/{fulfilled['id']}/cancel", json={})
    assert (response.status_code, response.json()["code"]) == (409, "pledge_already_fulfilled")
    assert client.post("/v1/pledges/999/cancel").status_code == 404

    money = f.money(f.reconciliation(client, c["code"]))
    # The cancelled pledge counts nowhere; the 250,000 it brought stays received.
    assert (
        money["pledged"],
        money["outstanding_pledges"],
        money["received"],
        money["pledges_count"],
    ) == (
        "100000",
        "0",
        "350000",
        1,
    )


def test_list_pledges_filters_by_donor(client):
    c = f.campaign(client)
    first, second = f.donor(client), f.donor(client, name="Lê Văn Bình")
    f.pledge(client, c["code"], first["id"], 1000)
    mine = f.pledge(client, c["code"], second["id"], 2000)
    listed = client.get(
        f"/v1/campaigns/{c['code']}/pledges", params={"donor_id": second["id"]}
    ).json()
    assert [p["id"] for p in listed["items"]] == [mine["id"]]


def test_a_pledge_in_another_currency_is_fulfilled_in_it(client):
    """10,000 USD pledged by a kiều bào to a VND campaign: USD gifts fulfil it by their
    original amount; a VND gift cannot; the reconciliation keeps the currencies apart."""
    c = f.campaign(client)
    code = c["code"]
    donor = f.donor(client, name="Trần Văn Minh", kind="overseas_vietnamese", country="US")
    usd = f.pledge(client, code, donor["id"], "10000", currency="USD")
    vnd = f.pledge(client, code, donor["id"], "5000000")
    assert (usd["currency"], usd["amount"], usd["status"]) == ("USD", "10000", "open")
    f.contribution(
        client, code, "4000", currency="USD", settled_amount="101000000", pledge_id=usd["id"]
    )
    f.contribution(client, code, "6500.50", currency="USD", fx_rate="25300", pledge_id=usd["id"])
    refused = client.post(
        f"/v1/campaigns/{code}/contributions",
        json={
            "amount": "1000000",
            "received_on": "2022-10-05",
            "method": "bank_transfer",
            "pledge_id": usd["id"],
        },
    )
    assert refused.status_code == 422
    assert refused.json()["code"] == "contribution_currency_mismatch"
    refused = client.post(
        f"/v1/campaigns/{code}/contributions",
        json={
            "amount": "100",
            "currency": "USD",
            "settled_amount": "2530000",
            "received_on": "2022-10-05",
            "method": "bank_transfer",
            "pledge_id": vnd["id"],
        },
    )
    assert refused.json()["code"] == "contribution_currency_mismatch"
    pledge = f.ok(client.get(f"/v1/pledges/{usd['id']}"), 200)
    # 4000 + 6500.50 USD: over-fulfilled by 500.50, never outstanding after conversion.
    assert (pledge["fulfilled_amount"], pledge["outstanding_amount"], pledge["status"]) == (
        "10500.5",
        "0",
        "fulfilled",
    )
    assert pledge["over_fulfilled_amount"] == "500.5"
    body = f.reconciliation(client, code, verify="full")
    money = body["money"]
    assert (money["pledged"], money["outstanding_pledges"]) == ("5000000", "5000000")
    assert money["pledges_by_currency"] == [
        {
            "currency": "VND",
            "pledged": "5000000",
            "fulfilled": "0",
            "outstanding": "5000000",
            "over_fulfilled": "0",
        },
        {
            "currency": "USD",
            "pledged": "10000",
            "fulfilled": "10500.5",
            "outstanding": "0",
            "over_fulfilled": "500.5",
        },
    ]
    # Received is settled VND only: 101,000,000 + 6,500.50 × 25,300 (= 164,462,650).
    assert money["received"] == str(101000000 + 164462650)
    assert f.checks_ok(body), body["checks"]
