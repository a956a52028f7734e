"""Distribution by place: allocations rolled up the location tree to a level."""

from __future__ import annotations

import pytest

from tests.support import factories as f


@pytest.fixture
def nghe_an(client):
    """Tỉnh Nghệ An › Huyện Kỳ Sơn › Thị trấn Mường Xén › Bản Huồi Giảng, and Huyện Tân Kỳ."""
    province = f.location(client, "Tỉnh Nghệ An", "province")
    ky_son = f.location(client, "Huyện Kỳ Sơn", "district", parent_id=province["id"])
    muong_xen = f.location(client, "Thị trấn Mường Xén", "commune", parent_id=ky_son["id"])
    muong_long = f.location(client, "Xã Mường Lống", "commune", parent_id=ky_son["id"])
    ban = f.location(client, "Bản Huồi Giảng", "village", parent_id=muong_xen["id"])
    tan_ky = f.location(client, "Huyện Tân Kỳ", "district", parent_id=province["id"])
    tan_hop = f.location(client, "Xã Tân Hợp", "commune", parent_id=tan_ky["id"])
    return {
        "province": province["id"],
        "ky_son": ky_son["id"],
        "muong_xen": muong_xen["id"],
        "muong_long": muong_long["id"],
        "ban": ban["id"],
        "tan_ky": tan_ky["id"],
        "tan_hop": tan_hop["id"],
    }


@pytest.fixture
def allocated(client, nghe_an):
    code = f.campaign(client, code="ky-son-flood-2022")["code"]
    f.item(client)
    f.contribution(client, code, 1_000_000_000)
    f.goods_contribution(client, code, "breeding-goat", 60)
    deliver = {"delivered_on": "2022-10-20"}
    village = f.allocation(client, code, nghe_an["ban"], 300_000_000)
    f.ok(client.post(f"/v1/allocations/{village['id']}/deliver", json=deliver), 200)
    f.allocation(client, code, nghe_an["muong_long"], 200_000_000)
    f.allocation(client, code, nghe_an["ky_son"], 100_000_000)
    f.allocation(client, code, nghe_an["province"], 50_000_000)
    cancelled = f.allocation(client, code, nghe_an["tan_ky"], 10_000_000)
    f.ok(client.post(f"/v1/allocations/{cancelled['id']}/cancel"), 200)
    goats = f.goods_allocation(client, code, nghe_an["tan_hop"], "breeding-goat", 40)
    f.ok(client.post(f"/v1/allocations/{goats['id']}/deliver", json=deliver), 200)
    f.goods_allocation(client, code, nghe_an["tan_ky"], "breeding-goat", 20)
    return code


def _places(client, code, **params):
    body = f.ok(client.get(f"/v1/campaigns/{code}/distribution", params=params), 200)
    return {
        place["location_name"]: (
            place["level"],
            place["money"]["allocated"],
            place["money"]["delivered"],
            [(g["item_code"], g["allocated"], g["delivered"]) for g in place["goods"]],
        )
        for place in body["places"]
    }


def test_rolled_up_to_districts(client, allocated):
    assert _places(client, allocated, level="district") == {
        "Tỉnh Nghệ An": ("province", "50000000", "0", []),
        "Huyện Kỳ Sơn": ("district", "600000000", "300000000", []),
        "Huyện Tân Kỳ": ("district", "0", "0", [("breeding-goat", "60", "40")]),
    }


def test_places_carry_their_path(client, allocated):
    body = f.ok(client.get(f"/v1/campaigns/{allocated}/distribution"), 200)
    paths = {p["location_name"]: p["path"] for p in body["places"]}
    assert paths["Bản Huồi Giảng"] == (
        "Tỉnh Nghệ An › Huyện Kỳ Sơn › Thị trấn Mường Xén › Bản Huồi Giảng"
    )
    assert paths["Tỉnh Nghệ An"] == "Tỉnh Nghệ An"


def test_rolled_up_to_the_province(client, allocated):
    assert _places(client, allocated, level="province") == {
        "Tỉnh Nghệ An": ("province", "650000000", "300000000", [("breeding-goat", "60", "40")]),
    }


def test_rolled_up_to_communes_keeps_places_above_them(client, allocated):
    assert _places(client, allocated, level="commune") == {
        "Tỉnh Nghệ An": ("province", "50000000", "0", []),
        "Huyện Kỳ Sơn": ("district", "100000000", "0", []),
        "Thị trấn Mường Xén": ("commune", "300000000", "300000000", []),
        "Xã Mường Lống": ("commune", "200000000", "0", []),
        "Huyện Tân Kỳ": ("district", "0", "0", [("breeding-goat", "20", "0")]),
        "Xã Tân Hợp": ("commune", "0", "0", [("breeding-goat", "40", "40")]),
    }


def test_without_a_level_every_place_as_allocated(client, allocated):
    places = _places(client, allocated)
    assert places["Bản Huồi Giảng"] == ("village", "300000000", "300000000", [])
    assert len(places) == 7 - 1  # Mường Xén itself received nothing directly
    body = f.ok(client.get(f"/v1/campaigns/{allocated}/distribution"), 200)
    assert body["level"] is None and body["currency"] == "VND"
    # The totals agree with the reconciliation.
    money = f.money(f.reconciliation(client, allocated))
    assert sum(int(p["money"]["allocated"]) for p in body["places"]) == int(money["allocated"])
    assert sum(int(p["money"]["delivered"]) for p in body["places"]) == int(money["delivered"])


def test_distribution_as_of_and_bad_input(client, allocated):
    then = f.ok(client.get(f"/v1/campaigns/{allocated}/distribution"), 200)
    f.allocation(client, allocated, then["places"][0]["location_id"], 1)
    again = client.get(f"/v1/campaigns/{allocated}/distribution", params={"as_of": then["as_of"]})
    assert f.ok(again, 200) == then
    for params, code in (
        ({"level": "hamlet"}, "validation_failed"),
        ({"as_of": "2022-10-01T00:00:00"}, "as_of_needs_timezone"),
        ({"as_of": "2999-01-01T00:00:00Z"}, "as_of_in_future"),
    ):
        response = client.get(f"/v1/campaigns/{allocated}/distribution", params=params)
        assert response.status_code == 422 and response.json()["code"] == code
    assert client.get("/v1/campaigns/nope/distribution").status_code == 404


def test_a_campaign_with_no_allocations_has_no_places(client):
    code = f.campaign(client)["code"]
    body = f.ok(client.get(f"/v1/campaigns/{code}/distribution", params={"level": "district"}), 200)
    assert body["places"] == [] and body["level"] == "district"
