"""Reconcile by value date: `?until=` cuts by received_on, allocated_on and delivered_on,
alone or with `as_of` (recording time). Issue 10, item 3: 2022 data entered today."""

from datetime import date, timedelta

from tests.support import factories as f


def _story(client):
    """Gifts of October and November 2022, all recorded today."""
    c = f.campaign(client, code="ky-son-flood-2022")
    code = c["code"]
    donor = f.donor(client, name="Gia đình Trần Minh", kind="overseas_vietnamese", country="DE")
    pledge = f.pledge(client, code, donor["id"], 5_000_000)
    usd = f.pledge(client, code, donor["id"], "300", currency="USD")
    f.contribution(client, code, 1_000_000, received_on="2022-10-05")
    f.contribution(
        client, code, "80", currency="USD", settled_amount="2000000", received_on="2022-10-20"
    )
    f.contribution(client, code, 3_000_000, pledge_id=pledge["id"], received_on="2022-10-25")
    f.contribution(
        client,
        code,
        "100",
        currency="USD",
        settled_amount="2500000",
        pledge_id=usd["id"],
        received_on="2022-11-02",
    )
    f.contribution(client, code, 500_000, received_on="2022-11-02")
    wrong = f.contribution(client, code, 9_000_000, received_on="2022-10-06")
    f.ok(client.post(f"/v1/contributions/{wrong['id']}/reverse", json={"reason": "Nhầm"}), 200)
    place = f.location(client, "Huyện Kỳ Sơn", "district")
    houses = f.allocation(client, code, place["id"], 800_000, allocated_on="2022-10-10")
    f.ok(
        client.post(f"/v1/allocations/{houses['id']}/deliver", json={"delivered_on": "2022-11-05"}),
        200,
    )
    f.allocation(client, code, place["id"], 600_000, allocated_on="2022-11-01")
    f.item(client)
    f.goods_contribution(client, code, "breeding-goat", 10, received_on="2022-10-15")
    goats = f.goods_allocation(
        client, code, place["id"], "breeding-goat", 4, allocated_on="2022-10-16"
    )
    f.ok(
        client.post(f"/v1/allocations/{goats['id']}/deliver", json={"delivered_on": "2022-10-18"}),
        200,
    )
    return code, place


def _figures(body):
    money = body["money"]
    keys = ("pledged", "outstanding_pledges", "received", "allocated", "delivered", "available")
    return tuple(money[k] for k in keys)


def test_until_cuts_by_business_date(client):
    code, place = _story(client)
    october = f.reconciliation(client, code, until="2022-10-31")
    assert october["until"] == "2022-10-31"
    received = 1_000_000 + 2_000_000 + 3_000_000
    assert _figures(october) == (
        "5000000",
        "2000000",
        str(received),
        "800000",
        "0",
        str(received - 800_000),
    )
    money = october["money"]
    assert (money["contributions_count"], money["pledges_count"]) == (3, 2)
    assert money["unpledged_received"] == "3000000"
    assert money["received_by_currency"] == [
        {"currency": "USD", "amount": "80", "settled_amount": "2000000"},
        {"currency": "VND", "amount": "4000000", "settled_amount": "4000000"},
    ]
    # The USD pledge's gift came on 2 November: outstanding in full on 31 October.
    assert money["pledges_by_currency"][1] == {
        "currency": "USD",
        "pledged": "300",
        "fulfilled": "0",
        "outstanding": "300",
        "over_fulfilled": "0",
    }
    assert money["by_location"] == [
        {
            "location_id": place["id"],
            "location_name": "Huyện Kỳ Sơn",
            "allocated": "800000",
            "delivered": "0",
        }
    ]
    goats = f.goods_line(october, "breeding-goat")
    assert (goats["received"], goats["allocated"], goats["delivered"], goats["on_hand"]) == (
        "10",
        "4",
        "4",
        "6",
    )
    assert f.checks_ok(october)

    early = f.reconciliation(client, code, until="2022-10-09")
    assert _figures(early) == ("5000000", "5000000", "1000000", "0", "0", "1000000")
    assert early["goods"] == []

    everything = f.reconciliation(client, code)
    assert "until" not in everything
    total = received + 2_500_000 + 500_000
    assert _figures(everything) == (
        "5000000",
        "2000000",
        str(total),
        "1400000",
        "800000",
        str(total - 1_400_000),
    )
    # A day after every business date gives the same figures as the kept balances.
    latest = f.reconciliation(client, code, until="2022-12-31")
    assert latest["money"] == everything["money"] and latest["goods"] == everything["goods"]


def test_a_2022_cut_off_works_for_data_entered_today(client):
    """The README's example: the books as they stood on 31 October 2022, asked today."""
    code, _ = _story(client)
    before = f.reconciliation(client, code, until="2022-01-01")
    assert _figures(before) == ("5000000", "5000000", "0", "0", "0", "0")
    refused = client.get(
        f"/v1/campaigns/{code}/reconciliation", params={"as_of": "2022-10-31T17:00:00Z"}
    )
    assert refused.json()["code"] == "as_of_before_campaign"  # recording time stays what it was


def test_until_with_as_of_counts_only_what_was_recorded_by_then(client):
    code, _ = _story(client)
    recorded = f.reconciliation(client, code)["as_of"]
    f.contribution(client, code, 7_000_000, received_on="2022-10-07")  # entered later
    both = f.reconciliation(client, code, until="2022-10-31", as_of=recorded)
    assert both["money"]["received"] == "6000000"
    assert f.reconciliation(client, code, until="2022-10-31")["money"]["received"] == "13000000"


def test_until_in_the_future_is_refused(client):
    code, _ = _story(client)
    response = client.get(
        f"/v1/campaigns/{code}/reconciliation",
        params={"until": (date.today() + timedelta(days=2)).isoformat()},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "date_in_future"
    bad = client.get(f"/v1/campaigns/{code}/reconciliation", params={"until": "31/10/2022"})
    assert bad.status_code == 422


def test_distribution_until(client):
    code, place = _story(client)
    body = f.ok(
        client.get(f"/v1/campaigns/{code}/distribution", params={"until": "2022-10-31"}), 200
    )
    assert body["until"] == "2022-10-31"
    (line,) = body["places"]
    assert (line["location_id"], line["money"]) == (
        place["id"],
        {"allocated": "800000", "delivered": "0"},
    )
    assert [(g["item_code"], g["allocated"], g["delivered"]) for g in line["goods"]] == [
        ("breeding-goat", "4", "4")
    ]


def test_include_children_with_until(client):
    parent = f.campaign(client, code="nghe-an-2022")
    child = f.campaign(client, code="ky-son-2022", parent_code="nghe-an-2022")
    f.contribution(client, parent["code"], 1_000_000, received_on="2022-10-05")
    f.contribution(client, child["code"], 2_000_000, received_on="2022-10-06")
    f.contribution(client, child["code"], 4_000_000, received_on="2022-11-06")
    body = f.reconciliation(client, parent["code"], until="2022-10-31", include_children="true")
    assert body["money"]["received"] == "3000000"
    assert [c["code"] for c in body["children"]] == ["ky-son-2022"]
