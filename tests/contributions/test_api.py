from datetime import date, timedelta

from tests.support import factories as f


def test_vnd_contribution_gets_receipt_code(client):
    c = f.campaign(client)
    donor = f.donor(client)
    body = f.contribution(
        client, c["code"], 500_000, donor_id=donor["id"], bank_reference="5000.66543"
    )
    assert body["receipt_code"].startswith("RL-") and len(body["receipt_code"]) == 14
    assert (body["amount"], body["currency"], body["settled_amount"], body["status"]) == (
        "500000",
        "VND",
        "500000",
        "recorded",
    )
    assert f.ok(client.get(f"/v1/contributions/{body['id']}"), 200) == body


def test_json_numbers_are_exact(client):
    c = f.campaign(client, code="usd-appeal", currency="USD")
    raw = b'{"amount": 1234567890123.45, "received_on": "2022-10-05", "method": "cash"}'
    response = client.post(
        f"/v1/campaigns/{c['code']}/contributions",
        content=raw,
        headers={"content-type": "application/json"},
    )
    assert f.ok(response)["amount"] == "1234567890123.45"


def test_amounts_up_to_10_to_the_15_are_exact(client):
    c = f.campaign(client)
    f.contribution(client, c["code"], "1000000000000000")
    f.contribution(client, c["code"], "1")
    assert f.money(f.reconciliation(client, c["code"]))["received"] == "1000000000000001"


def test_foreign_currency_needs_settled_amount(client):
    c = f.campaign(client)
    path = f"/v1/campaigns/{c['code']}/contributions"
    base = {"received_on": "2022-10-06", "method": "bank_transfer"}
    missing = client.post(path, json={**base, "amount": "100", "currency": "USD"})
    assert (missing.status_code, missing.json()["code"]) == (422, "settled_amount_required")
    usd = f.contribution(client, c["code"], "100.25", currency="USD", settled_amount="2456125")
    assert (usd["amount"], usd["currency"], usd["settled_amount"]) == ("100.25", "USD", "2456125")
    jpy = f.contribution(client, c["code"], "10000", currency="JPY", fx_rate="165.5")
    assert jpy["settled_amount"] == "1655000"
    money = f.money(f.reconciliation(client, c["code"]))
    assert money["received"] == "4111125"
    assert money["received_by_currency"] == [
        {"currency": "JPY", "amount": "10000", "settled_amount": "1655000"},
        {"currency": "USD", "amount": "100.25", "settled_amount": "2456125"},
        {"currency": "VND", "amount": "0", "settled_amount": "0"},
    ]


def test_contribution_validation_writes_nothing(client):
    c = f.campaign(client)
    donor = f.donor(client)
    path = f"/v1/campaigns/{c['code']}/contributions"
    base = {"received_on": "2022-10-06", "method": "bank_transfer"}
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    cases = [
        ({**base, "amount": "1000.5"}, "amount_precision_exceeds_currency"),
        (
            {**base, "amount": "10.123", "currency": "USD", "settled_amount": "250000"},
            "amount_precision_exceeds_currency",
        ),
        (
            {**base, "amount": "10.5", "currency": "JPY", "settled_amount": "1700"},
            "amount_precision_exceeds_currency",
        ),
        (
            {**base, "amount": "10", "currency": "USD", "settled_amount": "250000.5"},
            "amount_precision_exceeds_currency",
        ),
        (
            {**base, "amount": "10", "currency": "ABC", "settled_amount": "250000"},
            "unknown_currency",
        ),
        ({**base, "amount": "10", "settled_amount": "11"}, "settled_amount_mismatch"),
        ({**base, "amount": "10", "fx_rate": "2"}, "fx_rate_not_applicable"),
        (
            {**base, "amount": "10", "currency": "USD", "fx_rate": "25000", "settled_amount": "1"},
            "settled_amount_mismatch",
        ),
        ({**base, "amount": "0"}, "validation_failed"),
        ({**base, "amount": "-1"}, "validation_failed"),
        ({**base, "amount": True}, "validation_failed"),
        ({**base, "amount": "1e5"}, "validation_failed"),
        ({**base, "amount": "NaN"}, "validation_failed"),
        ({**base, "amount": "١٠٠٠"}, "validation_failed"),  # Arabic-Indic digits are not an amount
        ({**base, "amount": "10", "received_on": "2022-02-30"}, "validation_failed"),
        ({**base, "amount": "10", "received_on": tomorrow}, "date_in_future"),
        ({**base, "amount": "10", "method": "pigeon"}, "validation_failed"),
        ({**base, "amount": "10", "donor_id": 999}, "donor_not_found"),
        ({**base, "amount": "10", "pledge_id": 999}, "pledge_not_found"),
        ({**base, "amount": "10", "receipt_code": "RL-AAAAA-AAAAA"}, "validation_failed"),
        ({"amount": "10", "method": "cash"}, "validation_failed"),
    ]
    for body, code in cases:
        response = client.post(path, json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["code"] == code, (body, response.json())
    response = client.post(
        path, content=b'{"amount": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert client.get(path).json()["items"] == []
    reconciliation = f.reconciliation(client, c["code"])
    assert reconciliation["ledger"]["entries"] == 2
    assert donor["id"]


def test_pledge_and_donor_must_agree(client):
    c = f.campaign(client)
    a, b = f.donor(client), f.donor(client, name="Lê Văn Bình")
    pledge = f.pledge(client, c["code"], a["id"], 1000)
    response = client.post(
        f"/v1/campaigns/{c['code']}/contributions",
        json={
            "pledge_id": pledge["id"],
            "donor_id": b["id"],
            "amount": "10",
            "received_on": "2022-10-05",
            "method": "cash",
        },
    )
    assert (response.status_code, response.json()["code"]) == (422, "donor_mismatch")
    body = f.contribution(client, c["code"], 1000, pledge_id=pledge["id"])
    assert body["donor_id"] == a["id"]


def test_pledge_of_another_campaign_is_refused(client):
    one, two = f.campaign(client), f.campaign(client)
    pledge = f.pledge(client, one["code"], f.donor(client)["id"], 1000)
    response = client.post(
        f"/v1/campaigns/{two['code']}/contributions",
        json={
            "pledge_id": pledge["id"],
            "amount": "10",
            "received_on": "2022-10-05",
            "method": "cash",
        },
    )
    assert (response.status_code, response.json()["code"]) == (422, "pledge_not_found")


def test_bank_reference_once_per_campaign(client):
    one, two = f.campaign(client), f.campaign(client)
    first = f.contribution(client, one["code"], 200_000, bank_reference="AGR500017482")
    again = client.post(
        f"/v1/campaigns/{one['code']}/contributions",
        json={
            "amount": "200000",
            "received_on": "2022-10-01",
            "method": "bank_transfer",
            "bank_reference": "AGR500017482",
        },
    )
    assert (again.status_code, again.json()["code"]) == (409, "bank_reference_already_recorded")
    f.contribution(client, two["code"], 200_000, bank_reference="AGR500017482")
    # Once reversed, the same bank line may be recorded again with the right amount.
    f.ok(
        client.post(f"/v1/contributions/{first['id']}/reverse", json={"reason": "Sai số tiền"}), 200
    )
    f.contribution(client, one["code"], 2_000_000, bank_reference="AGR500017482")
    assert f.money(f.reconciliation(client, one["code"]))["received"] == "2000000"


def test_contributions_need_open_or_closed_campaign(client):
    draft = f.campaign(client, status="draft")
    response = client.post(
        f"/v1/campaigns/{draft['code']}/contributions",
        json={"amount": "10", "received_on": "2022-10-05", "method": "cash"},
    )
    assert (response.status_code, response.json()["code"]) == (409, "campaign_not_accepting")
    closed = f.campaign(client, status="closed")
    assert f.contribution(client, closed["code"], 10)["status"] == "recorded"


def test_reversal_keeps_both_records_visible(client):
    c = f.campaign(client)
    donor = f.donor(client)
    pledge = f.pledge(client, c["code"], donor["id"], 1_000_000)
    kept = f.contribution(client, c["code"], 300_000, pledge_id=pledge["id"])
    wrong = f.contribution(client, c["code"], 900_000, pledge_id=pledge["id"])
    reversed_ = f.ok(
        client.post(f"/v1/contributions/{wrong['id']}/reverse", json={"reason": "Nhập sai"}), 200
    )
    assert reversed_["status"] == "reversed"
    assert reversed_["reversal"]["reason"] == "Nhập sai"
    again = client.post(f"/v1/contributions/{wrong['id']}/reverse", json={"reason": "again"})
    assert (again.status_code, again.json()["code"]) == (409, "contribution_already_reversed")
    listed = client.get(f"/v1/campaigns/{c['code']}/contributions").json()["items"]
    assert [(x["id"], x["status"]) for x in listed] == [
        (kept["id"], "recorded"),
        (wrong["id"], "reversed"),
    ]
    assert client.get(f"/v1/pledges/{pledge['id']}").json()["fulfilled_amount"] == "300000"
    money = f.money(f.reconciliation(client, c["code"]))
    assert (money["received"], money["outstanding_pledges"], money["contributions_count"]) == (
        "300000",
        "700000",
        1,
    )


def test_reversal_needs_a_reason(client):
    c = f.campaign(client)
    x = f.contribution(client, c["code"], 1000)
    for body in ({}, {"reason": ""}, {"reason": "ok", "extra": 1}):
        assert client.post(f"/v1/contributions/{x['id']}/reverse", json=body).status_code == 422
    assert client.post("/v1/contributions/999/reverse", json={"reason": "x"}).status_code == 404


def test_reversal_refused_when_money_is_allocated(client):
    c = f.campaign(client)
    place = f.location(client)
    x = f.contribution(client, c["code"], 1_000_000)
    f.contribution(client, c["code"], 200_000)
    f.allocation(client, c["code"], place["id"], 500_000)
    response = client.post(f"/v1/contributions/{x['id']}/reverse", json={"reason": "Sai"})
    assert (response.status_code, response.json()["code"]) == (409, "reversal_exceeds_available")
    assert client.get(f"/v1/contributions/{x['id']}").json()["status"] == "recorded"
    money = f.money(f.reconciliation(client, c["code"]))
    assert (money["received"], money["allocated"], money["available"]) == (
        "1200000",
        "500000",
        "700000",
    )


def test_list_filters(client):
    c = f.campaign(client)
    donor = f.donor(client)
    mine = f.contribution(client, c["code"], 10, donor_id=donor["id"])
    f.contribution(client, c["code"], 20)
    items = client.get(
        f"/v1/campaigns/{c['code']}/contributions", params={"donor_id": donor["id"]}
    ).json()["items"]
    assert [x["id"] for x in items] == [mine["id"]]


def test_a_bank_line_is_booked_once_across_every_linked_campaign(client):
    # tree: a → b → c; accounts: c and d share one number, d and e another; g → h apart.
    # The line's scope from a is reached only through two kinds of link, several hops away.
    code = {name: f.campaign(client)["code"] for name in "a"}
    code["b"] = f.campaign(client, parent_code=code["a"])["code"]
    code["c"] = f.campaign(client, parent_code=code["b"])["code"]
    code["d"], code["e"], code["g"] = (f.campaign(client)["code"] for _ in range(3))
    code["h"] = f.campaign(client, parent_code=code["g"])["code"]
    vcb = {"bank": "Vietcombank", "holder": "Ủy ban MTTQ tỉnh Nghệ An"}
    for name, number in (("c", "0011004012345"), ("d", "0011004012345"), ("d", "1234500001")):
        f.ok(client.post(f"/v1/campaigns/{code[name]}/accounts", json={**vcb, "number": number}))
    f.ok(client.post(f"/v1/campaigns/{code['e']}/accounts", json={**vcb, "number": "1234500001"}))
    f.contribution(client, code["a"], 200_000, bank_reference="FT22278000001")
    outcome = {}
    for name in "bcdegh":
        response = client.post(
            f"/v1/campaigns/{code[name]}/contributions",
            json={
                "amount": "200000",
                "received_on": "2022-10-05",
                "method": "bank_transfer",
                "bank_reference": "FT22278000001",
            },
        )
        outcome[name] = (response.status_code, response.json().get("code"))
    refused = (409, "bank_reference_already_recorded")
    assert outcome == {
        "b": refused,
        "c": refused,
        "d": refused,
        "e": refused,
        "g": (201, None),
        # h is in g's tree, where the line was just booked.
        "h": refused,
    }
