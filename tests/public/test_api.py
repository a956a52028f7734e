"""Public views: what anyone sees without a key, and what they must never see."""

from __future__ import annotations

import csv
import io

import pytest

from tests.support import factories as f

SECRET_EMAIL = "bi.mat.2022@example.vn"
SECRET_PHONE = "+84 912 345 678"
SECRET_NAME = "Trần Thị Bí Mật"
SECRET_BENEFICIARY = "Hộ ông Lò Văn Kín, bản Huồi Giảng, CCCD 040123456789"


@pytest.fixture
def story(client):
    """The Kỳ Sơn appeal: a named business, an anonymous donor, an overseas family, goats."""
    code = f.campaign(client, code="ky-son-flood-2022", target_amount="100000000000")["code"]
    draft = f.campaign(client, code="draft-appeal", status="draft")["code"]
    vinamilk = f.donor(
        client, name="Công ty CP Sữa Việt Nam", kind="business", email="csr@vinamilk.example"
    )
    hidden = f.donor(
        client,
        name=SECRET_NAME,
        kind="individual",
        anonymous=True,
        email=SECRET_EMAIL,
        phone=SECRET_PHONE,
    )
    family = f.donor(
        client,
        name="Gia đình Nguyễn Đức",
        kind="overseas_vietnamese",
        country="DE",
        display_name="Gia đình anh Đức (Berlin)",
        phone="+49 30 1234567",
    )
    ky_son = f.location(client)
    f.item(client)
    business = f.contribution(
        client, code, 1_000_000_000, donor_id=vinamilk["id"], received_on="2022-10-03"
    )
    anonymous = f.contribution(
        client,
        code,
        50_000_000,
        donor_id=hidden["id"],
        received_on="2022-10-04",
        description=f"MBVCB.8324224601.{SECRET_NAME}.ung ho dong bao lu lut",
    )
    euros = f.contribution(
        client,
        code,
        500,
        currency="EUR",
        settled_amount="12150000",
        donor_id=family["id"],
        received_on="2022-10-05",
    )
    f.contribution(
        client,
        code,
        200_000,
        received_on="2022-10-06",
        description="QR - PHẠM THỊ LONG gia đình ủng hộ",
    )
    f.ok(
        client.post(
            f"/v1/campaigns/{code}/accounts",
            json={
                "bank": "Vietcombank",
                "number": "0101 0000 12345",
                "holder": "UBMTTQ tỉnh Nghệ An",
            },
        )
    )
    goats = f.goods_contribution(client, code, "breeding-goat", 60, donor_id=vinamilk["id"])
    allocation = f.allocation(
        client, code, ky_son["id"], 800_000_000, beneficiary=SECRET_BENEFICIARY
    )
    f.ok(
        client.post(
            f"/v1/allocations/{allocation['id']}/deliver",
            json={"delivered_on": "2022-10-20", "note": SECRET_BENEFICIARY},
        ),
        200,
    )
    f.goods_allocation(
        client, code, ky_son["id"], "breeding-goat", 60, beneficiary=SECRET_BENEFICIARY
    )
    return {
        "code": code,
        "draft": draft,
        "business": business,
        "anonymous": anonymous,
        "euros": euros,
        "goats": goats,
        "ky_son": ky_son,
    }


def test_public_campaign_list_and_detail(client, story):
    listed = f.ok(client.get("/v1/public/campaigns"), 200)
    assert [c["code"] for c in listed["items"]] == [story["code"]]  # the draft is not listed
    detail = f.ok(client.get(f"/v1/public/campaigns/{story['code']}"), 200)
    received = 1_000_000_000 + 50_000_000 + 12_150_000 + 200_000
    assert detail["received"] == str(received)
    assert detail["allocated"] == detail["delivered"] == "800000000"
    assert detail["available"] == str(received - 800_000_000)
    assert detail["progress"] == "0.0106"  # 1,062,350,000 of 100 billion, rounded down
    assert detail["contributions_count"] == 4
    assert detail["goods"] == [
        {
            "item_code": "breeding-goat",
            "item_name": "Dê giống",
            "unit": "con",
            "received": "60",
            "delivered": "0",
        }
    ]
    (place,) = detail["distribution"]
    assert (place["location_name"], place["path"]) == ("Huyện Kỳ Sơn", "Huyện Kỳ Sơn")
    assert place["money"] == {"allocated": "800000000", "delivered": "800000000"}
    assert place["goods"][0]["allocated"] == "60"
    assert listed["items"][0]["received"] == detail["received"]
    assert detail["accounts"] == [
        {"bank": "Vietcombank", "number": "0101000012345", "holder": "UBMTTQ tỉnh Nghệ An"}
    ]


def test_drafts_and_unknown_codes_are_404(client, story):
    for path in (
        f"/v1/public/campaigns/{story['draft']}",
        f"/v1/public/campaigns/{story['draft']}/contributions",
        "/v1/public/campaigns/no-such-appeal",
        "/v1/public/receipts/RL-AAAAA-AAAAA",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/problem+json"


def test_public_statement_masks_anonymous_donors(client, story):
    rows = f.ok(client.get(f"/v1/public/campaigns/{story['code']}/contributions"), 200)["items"]
    names = [row["donor_name"] for row in rows]
    assert names == [
        "Công ty CP Sữa Việt Nam",
        "Nhà hảo tâm ẩn danh",
        "Gia đình anh Đức (Berlin)",
        None,
        "Công ty CP Sữa Việt Nam",
    ]
    euros = rows[2]
    assert (euros["amount"], euros["currency"], euros["settled_amount"]) == (
        "500",
        "EUR",
        "12150000",
    )
    assert rows[4]["kind"] == "goods" and rows[4]["quantity"] == "60"


def test_statement_search_filters_and_pages(client, story):
    path = f"/v1/public/campaigns/{story['code']}/contributions"

    def ids(**params):
        return [row["id"] for row in f.ok(client.get(path, params=params), 200)["items"]]

    business, anonymous, euros = (
        story["business"]["id"],
        story["anonymous"]["id"],
        story["euros"]["id"],
    )
    assert ids(q="cty sua viet nam") == [] and ids(q="sua viet nam") == [
        business,
        story["goats"]["id"],
    ]
    assert ids(q="SỮA VIỆT") == [business, story["goats"]["id"]]
    # Transfer messages are searched too, ignoring diacritics — but never an anonymous
    # donor's, which may name them.
    unknown_sender = ids()[3]
    assert ids(q="pham thi long") == [unknown_sender]
    assert ids(q="PHẠM THỊ") == [unknown_sender]
    assert ids(q="8324224601") == [] and ids(q="ung ho dong bao") == []
    assert ids(q="anh duc") == [euros]  # the display name the public is shown
    assert ids(q="nguyen duc") == []  # never the real name behind it
    # An anonymous donor cannot be found by the real name behind the mask.
    assert ids(q="bi mat") == [] and ids(q=SECRET_NAME) == []
    assert ids(min_amount="12150000", max_amount="60000000") == [anonymous, euros]
    assert ids(received_from="2022-10-04", received_to="2022-10-05") == [anonymous, euros]
    first = f.ok(client.get(path, params={"limit": 2}), 200)
    second = f.ok(client.get(path, params={"limit": 2, "cursor": first["next_cursor"]}), 200)
    assert [r["id"] for r in first["items"] + second["items"]] == ids()[:4]
    for params in (
        {"min_amount": "-5"},
        {"received_from": "2022-13-01"},
        {"limit": 100000},
        {"format": "pdf"},
    ):
        assert client.get(path, params=params).status_code == 422, params


def test_statement_as_csv_has_the_same_rows(client, story):
    path = f"/v1/public/campaigns/{story['code']}/contributions"
    response = client.get(path, params={"format": "csv", "q": "viet nam"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")  # a UTF-8 BOM, for Excel
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    json_rows = f.ok(client.get(path, params={"q": "viet nam"}), 200)["items"]
    assert [int(r["id"]) for r in rows] == [r["id"] for r in json_rows]
    assert rows[0]["donor_name"] == "Công ty CP Sữa Việt Nam" and rows[0]["amount"] == "1000000000"


def test_receipt_lookup(client, story):
    code = story["anonymous"]["receipt_code"]
    receipt = f.ok(client.get(f"/v1/public/receipts/{code.lower()}"), 200)
    assert receipt["receipt_code"] == code
    assert receipt["contribution"]["amount"] == "50000000"
    assert receipt["contribution"]["donor_name"] == "Nhà hảo tâm ẩn danh"
    assert receipt["campaign"]["code"] == story["code"]
    assert receipt["campaign"]["distribution"][0]["location_name"] == "Huyện Kỳ Sơn"
    f.ok(
        client.post(f"/v1/contributions/{story['euros']['id']}/reverse", json={"reason": "Trùng"}),
        200,
    )
    reversed_ = f.ok(client.get(f"/v1/public/receipts/{story['euros']['receipt_code']}"), 200)
    assert reversed_["contribution"]["status"] == "reversed"
    assert client.get("/v1/public/receipts/RL-'%3B--").status_code == 422


def test_no_public_response_carries_private_data(client, story):
    code = story["code"]
    paths = [
        "/v1/public/campaigns",
        f"/v1/public/campaigns/{code}",
        f"/v1/public/campaigns/{code}/contributions",
        f"/v1/public/campaigns/{code}/contributions?format=csv",
        f"/v1/public/campaigns/{code}/contributions?format=hxl",
        f"/v1/public/campaigns/{code}/contributions?q=an",
    ] + [
        f"/v1/public/receipts/{story[key]['receipt_code']}"
        for key in ("business", "anonymous", "euros", "goats")
    ]
    statement = client.get(f"/v1/public/campaigns/{code}/contributions").json()["items"]
    assert [row["description"] for row in statement][1:4] == [
        None,  # the anonymous donor's transfer message is withheld
        None,
        "QR - PHẠM THỊ LONG gia đình ủng hộ",
    ]
    planted = [
        SECRET_EMAIL,
        SECRET_PHONE,
        SECRET_NAME,
        SECRET_BENEFICIARY,
        "csr@vinamilk",
        "+49 30",
        "CCCD",
        "Bí Mật",
        "8324224601",
        "Kín",
    ]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        for secret in planted:
            assert secret not in response.text, (path, secret)
        for key in ("email", "phone", "beneficiary", "delivery_note", "evidence_url"):
            assert f'"{key}"' not in response.text, (path, key)
