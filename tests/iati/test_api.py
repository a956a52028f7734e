"""`GET /v1/campaigns/{code}/iati.xml`: every export validates against the IATI 2.03
schemas (copied into tests/iati/schemas/), and its transactions are the records this test
posted, counted and summed here by type and currency."""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import xmlschema

from app.config import get_settings
from tests.support.factories import (
    allocation,
    campaign,
    contribution,
    donor,
    goods_allocation,
    goods_contribution,
    item,
    location,
    ok,
    pledge,
    unit_tree,
)

SCHEMA = Path(__file__).parent / "schemas" / "iati-activities-schema.xsd"
LANG = "{http://www.w3.org/XML/1998/namespace}lang"
HIDDEN = "Lê Văn Kín"
MASK = "Nhà hảo tâm ẩn danh"


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMA))


def export(client, code: str, schema: xmlschema.XMLSchema, **headers: str) -> ET.Element:
    response = client.get(f"/v1/campaigns/{code}/iati.xml", headers=headers or None)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/xml"
    assert response.headers["content-disposition"] == f'attachment; filename="{code}-iati.xml"'
    assert response.content.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    schema.validate(response.content.decode("utf-8"))
    return ET.fromstring(response.content)


def activity(root: ET.Element, identifier: str) -> ET.Element:
    found = [
        a for a in root.findall("iati-activity") if a.findtext("iati-identifier") == identifier
    ]
    assert len(found) == 1, [a.findtext("iati-identifier") for a in root]
    return found[0]


def transactions(element: ET.Element) -> dict[tuple[str, str], list[Decimal]]:
    """(type, currency) → values, in document order."""
    found: dict[tuple[str, str], list[Decimal]] = defaultdict(list)
    for transaction in element.findall("transaction"):
        kind = transaction.find("transaction-type").get("code")
        value = transaction.find("value")
        found[(kind, value.get("currency"))].append(Decimal(value.text))
    return found


@pytest.fixture
def story(client):
    """Nghệ An's appeal with a Kỳ Sơn sub-appeal: pledges (one cancelled, one of goods),
    money in two currencies, an anonymous gift, a reversal, goats, allocations (one
    delivered, one cancelled) to a commune and a village."""
    province = location(client, "Tỉnh Nghệ An", "province", code="40")
    district = location(client, "Huyện Kỳ Sơn", "district", parent_id=province["id"], code="412")
    commune = location(client, "Xã Tà Cạ", "commune", parent_id=district["id"], code="16813")
    village = location(client, "Bản Xiêng Thù", "village", parent_id=commune["id"])
    parent = campaign(
        client,
        code="nghe-an-2022",
        description="Vận động ủng hộ đồng bào miền Tây Nghệ An bị lũ quét.",
        starts_on="2022-10-01",
        ends_on="2022-12-31",
    )["code"]
    child = campaign(client, code="ky-son-2022", parent_code=parent)["code"]
    named = donor(client, name="Công ty CP Sữa Việt Nam", kind="business")
    hidden = donor(client, name=HIDDEN, anonymous=True)
    item(client)
    promised = pledge(client, parent, named["id"], "50000000")
    pledge(client, parent, named["id"], "1000", currency="USD")
    dropped = pledge(client, parent, hidden["id"], "10000000")
    ok(client.post(f"/v1/pledges/{dropped['id']}/cancel", json={"reason": "Đổi ý"}), 200)
    ok(
        client.post(
            f"/v1/campaigns/{parent}/pledges",
            json={"donor_id": named["id"], "item_code": "breeding-goat", "quantity": "60"},
        )
    )
    contribution(client, parent, "5000000", donor_id=named["id"], pledge_id=promised["id"])
    contribution(
        client,
        parent,
        "200",
        currency="USD",
        settled_amount="5000000",
        received_on="2022-10-07",
        donor_id=named["id"],
    )
    contribution(client, parent, "3000000", donor_id=hidden["id"], received_on="2022-10-08")
    mistaken = contribution(client, parent, "700000")
    ok(client.post(f"/v1/contributions/{mistaken['id']}/reverse", json={"reason": "Sai"}), 200)
    goods_contribution(client, parent, "breeding-goat", 60, donor_id=named["id"])
    sent = allocation(client, parent, commune["id"], "4000000")
    ok(
        client.post(f"/v1/allocations/{sent['id']}/deliver", json={"delivered_on": "2022-10-12"}),
        200,
    )
    allocation(client, parent, village["id"], "2500000", allocated_on="2022-10-09")
    cancelled = allocation(client, parent, commune["id"], "1000000")
    ok(client.post(f"/v1/allocations/{cancelled['id']}/cancel"), 200)
    goats = goods_allocation(client, parent, village["id"], "breeding-goat", 25)
    ok(
        client.post(f"/v1/allocations/{goats['id']}/deliver", json={"delivered_on": "2022-10-11"}),
        200,
    )
    contribution(client, child, "1000000", received_on="2022-10-06")
    allocation(client, child, commune["id"], "600000")
    return {"parent": parent, "child": child, "commune": commune, "village": village}


def test_a_campaign_and_its_sub_appeal_validate_and_link(client, story, schema):
    ref = get_settings().iati_reporting_org_ref
    root = export(client, story["parent"], schema)
    assert root.get("version") == "2.03"
    assert [a.findtext("iati-identifier") for a in root] == [
        f"{ref}-nghe-an-2022",
        f"{ref}-ky-son-2022",
    ]
    parent = activity(root, f"{ref}-nghe-an-2022")
    child = activity(root, f"{ref}-ky-son-2022")
    assert [(r.get("type"), r.get("ref")) for r in parent.findall("related-activity")] == [
        ("2", f"{ref}-ky-son-2022")
    ]
    assert [(r.get("type"), r.get("ref")) for r in child.findall("related-activity")] == [
        ("1", f"{ref}-nghe-an-2022")
    ]
    assert (parent.get("hierarchy"), child.get("hierarchy")) == ("1", "2")
    assert parent.get("default-currency") == "VND"
    assert parent.get("humanitarian") == "1"
    assert parent.find("reporting-org").get("ref") == ref
    assert parent.find("activity-status").get("code") == "2"
    assert [(d.get("type"), d.get("iso-date")) for d in parent.findall("activity-date")] == [
        ("2", "2022-10-01"),
        ("3", "2022-12-31"),
    ]
    assert parent.find("recipient-country").get("code") == "VN"
    title = parent.find("title/narrative")
    assert (title.get(LANG), title.text) == ("vi", "Ủng hộ đồng bào Kỳ Sơn bị lũ quét")
    general = parent.find("description[@type='1']")
    assert [n.get(LANG) for n in general.findall("narrative")] == ["vi", "en"]
    assert general.find("narrative").text.startswith("Vận động ủng hộ đồng bào miền Tây")
    # The sub-appeal alone: one activity, pointing at its parent.
    alone = export(client, story["child"], schema)
    assert [a.findtext("iati-identifier") for a in alone] == [f"{ref}-ky-son-2022"]
    assert transactions(activity(alone, f"{ref}-ky-son-2022")) == {
        ("1", "VND"): [Decimal("1000000")],
        ("2", "VND"): [Decimal("600000")],
    }


def test_transactions_are_the_records_by_type_and_currency(client, story, schema):
    ref = get_settings().iati_reporting_org_ref
    parent = activity(export(client, story["parent"], schema), f"{ref}-nghe-an-2022")
    assert transactions(parent) == {
        # Pledges of money not cancelled, each in its own currency.
        ("13", "VND"): [Decimal("50000000")],
        ("13", "USD"): [Decimal("1000")],
        # Contributions not reversed, original amounts.
        ("1", "VND"): [Decimal("5000000"), Decimal("3000000")],
        ("1", "USD"): [Decimal("200")],
        # Allocations not cancelled (the delivered one too), then its delivery.
        ("2", "VND"): [Decimal("4000000"), Decimal("2500000")],
        ("3", "VND"): [Decimal("4000000")],
    }
    counts = Counter(t.find("transaction-type").get("code") for t in parent.iter("transaction"))
    assert counts == {"13": 2, "1": 3, "2": 2, "3": 1}
    dates = {
        t.get("ref").rsplit("-", 2)[-2]: [] for t in parent.iter("transaction")
    }  # kinds of ref
    assert set(dates) == {"pledge", "contribution", "allocation", "delivery"}
    value_dates = [
        (t.find("transaction-type").get("code"), t.find("value").get("value-date"))
        for t in parent.iter("transaction")
        if t.find("transaction-type").get("code") != "13"
    ]
    assert value_dates == [
        ("1", "2022-10-05"),
        ("1", "2022-10-07"),
        ("1", "2022-10-08"),
        ("2", "2022-10-06"),
        ("2", "2022-10-09"),
        ("3", "2022-10-12"),
    ]
    for t in parent.iter("transaction"):
        assert t.find("transaction-date").get("iso-date") == t.find("value").get("value-date")


def test_donors_appear_by_public_name_only(client, story, schema):
    response = client.get(f"/v1/campaigns/{story['parent']}/iati.xml")
    assert HIDDEN not in response.content.decode("utf-8")
    root = ET.fromstring(response.content)
    providers = [
        t.findtext("provider-org/narrative")
        for t in root.find("iati-activity").iter("transaction")
        if t.find("transaction-type").get("code") == "1"
    ]
    assert providers == ["Công ty CP Sữa Việt Nam", "Công ty CP Sữa Việt Nam", MASK]


def test_places_carry_their_official_codes(client, story, schema):
    ref = get_settings().iati_reporting_org_ref
    parent = activity(export(client, story["parent"], schema), f"{ref}-nghe-an-2022")
    places = {
        loc.get("ref"): [
            (a.get("vocabulary"), a.get("level"), a.get("code"))
            for a in loc.findall("administrative")
        ]
        for loc in parent.findall("location")
    }
    commune, village = story["commune"]["id"], story["village"]["id"]
    official = [("A4", "0", "VN"), ("99", "1", "40"), ("99", "2", "412"), ("99", "3", "16813")]
    assert places == {f"{ref}-loc-{commune}": official, f"{ref}-loc-{village}": official}
    by_ref = {loc.get("ref"): loc for loc in parent.findall("location")}
    village_location = by_ref[f"{ref}-loc-{village}"]
    assert village_location.findtext("name/narrative") == "Bản Xiêng Thù"
    assert village_location.findtext("description/narrative") == (
        "Tỉnh Nghệ An › Huyện Kỳ Sơn › Xã Tà Cạ › Bản Xiêng Thù"
    )
    assert village_location.find("location-class").get("code") == "2"
    assert by_ref[f"{ref}-loc-{commune}"].find("location-class").get("code") == "1"


def test_goods_are_described_not_counted_as_money(client, story, schema):
    ref = get_settings().iati_reporting_org_ref
    parent = activity(export(client, story["parent"], schema), f"{ref}-nghe-an-2022")
    goods = {n.get(LANG): n.text for n in parent.findall("description[@type='4']/narrative")}
    assert goods == {
        "vi": "Hàng hoá (không tính trong các giao dịch tiền): Dê giống: đã nhận 60 con, "
        "đã phân bổ 25 con, đã trao 25 con.",
        "en": "Goods (not in the money transactions): Dê giống (breeding-goat): received 60 "
        "con, allocated 25, delivered 25.",
    }
    child = activity(export(client, story["child"], schema), f"{ref}-ky-son-2022")
    assert child.find("description[@type='4']") is None


def test_the_reporting_organisation_is_a_setting(client, story, schema, monkeypatch):
    settings = get_settings()
    monkeypatch.setattr(settings, "iati_reporting_org_ref", "XM-DAC-99-1")
    monkeypatch.setattr(settings, "iati_reporting_org_type", "22")
    root = export(client, story["child"], schema)
    only = root.find("iati-activity")
    assert only.findtext("iati-identifier") == "XM-DAC-99-1-ky-son-2022"
    assert (only.find("reporting-org").get("ref"), only.find("reporting-org").get("type")) == (
        "XM-DAC-99-1",
        "22",
    )
    assert only.find("related-activity").get("ref") == "XM-DAC-99-1-nghe-an-2022"


def test_a_draft_and_an_empty_campaign_still_validate(client, schema):
    code = campaign(client, status="draft")["code"]
    root = export(client, code, schema)
    only = root.find("iati-activity")
    assert only.find("activity-status").get("code") == "1"
    assert [d.get("type") for d in only.findall("activity-date")] == ["1"]
    assert only.findall("transaction") == []
    assert only.findall("location") == []


def test_who_may_export(client, headers_for, schema):
    unit_tree(client)
    officer = headers_for("officer", "ky-son")
    body = {"code": "ky-son-2022", "title": "Lũ Kỳ Sơn", "kind": "flood"}
    ok(client.post("/v1/campaigns", json=body, headers=officer))
    export(client, "ky-son-2022", schema, **officer)
    export(client, "ky-son-2022", schema, **headers_for("auditor"))
    export(client, "ky-son-2022", schema, **headers_for("officer", "nghe-an"))
    refused = client.get(
        "/v1/campaigns/ky-son-2022/iati.xml", headers=headers_for("officer", "tan-ky")
    )
    assert refused.status_code == 404
    assert refused.headers["content-type"] == "application/problem+json"
    anonymous = client.get("/v1/campaigns/ky-son-2022/iati.xml", headers={"Authorization": ""})
    assert anonymous.status_code == 401
    unknown = client.get("/v1/campaigns/ky-son-2022/iati.xml", params={"lang": "en"})
    assert unknown.status_code == 422
