"""HXL exports (`format=hxl`), parsed with HXL's own library: the columns' hashtags, the
sums (worked out here from what the test posted), the official units of each place, and
donors' names: public names only in the public view, real names only where a key may
see them."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import hxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
    unit_tree,
)

ANONYMOUS_REAL_NAME = "Lê Văn Kín"
HIDDEN_BEHIND_DISPLAY = "Trần Thị Bích"
ANONYMOUS_MASK = "Nhà hảo tâm ẩn danh"

MONEY_TAGS = ["#value+original", "#currency+original", "#value+settled", "#currency+settled"]
GOODS_TAGS = ["#item+code", "#item+name", "#item+unit", "#item+num"]
ADMIN_TAGS = [f"#adm{n}+{part}" for n in (1, 2, 3) for part in ("name", "code")]
PLACE_TAGS = ["#loc+name", "#loc+code", "#loc+type", *ADMIN_TAGS]


def parse(response):
    """The export as libhxl reads it (from the raw bytes, BOM and all)."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())
    return hxl.data(io.BytesIO(response.content), hxl.InputOptions(allow_local=True)).cache()


def tags(dataset) -> list[str]:
    return [column.get_display_tag(sort_attributes=False) for column in dataset.columns]


def values(dataset, pattern: str) -> list[str]:
    return [row.get(pattern, default="") or "" for row in dataset]


def total(dataset, pattern: str) -> Decimal:
    return sum((Decimal(v) for v in values(dataset, pattern) if v), Decimal(0))


def headers_of(response) -> list[str]:
    text = response.content.decode("utf-8-sig")
    return next(csv.reader(io.StringIO(text)))


@pytest.fixture
def places(client):
    province = location(client, "Tỉnh Nghệ An", "province", code="40")
    district = location(client, "Huyện Kỳ Sơn", "district", parent_id=province["id"], code="412")
    commune = location(client, "Xã Tà Cạ", "commune", parent_id=district["id"], code="16813")
    village = location(client, "Bản Xiêng Thù", "village", parent_id=commune["id"])
    # The 2025 structure: a commune straight under its province.
    ward = location(client, "Phường Vinh Hưng", "commune", parent_id=province["id"], code="16681")
    return {"province": province, "commune": commune, "village": village, "ward": ward}


@pytest.fixture
def story(client, places):
    """A campaign with named, display-named and anonymous donors, money in two
    currencies, goats, a reversal, and allocations to a commune, a village and a ward."""
    code = campaign(client)["code"]
    named = donor(client, name="Nguyễn Văn An")
    shown = donor(client, name=HIDDEN_BEHIND_DISPLAY, display_name="Cô giáo Bích")
    hidden = donor(client, name=ANONYMOUS_REAL_NAME, anonymous=True)
    item(client)
    gifts = [
        contribution(client, code, "5000000", donor_id=named["id"], bank_reference="FT1"),
        contribution(
            client,
            code,
            "200",
            currency="USD",
            settled_amount="5000000",
            donor_id=shown["id"],
            bank_reference="FT2",
        ),
        contribution(
            client,
            code,
            "3000000",
            donor_id=hidden["id"],
            description=f"{ANONYMOUS_REAL_NAME} ung ho",
            bank_reference="FT3",
        ),
        contribution(client, code, "700000", bank_reference="FT4"),
    ]
    ok(client.post(f"/v1/contributions/{gifts[3]['id']}/reverse", json={"reason": "Nhập sai"}), 200)
    goats = goods_contribution(client, code, "breeding-goat", 60, donor_id=named["id"])
    to_commune = allocation(client, code, places["commune"]["id"], "4000000")
    ok(
        client.post(
            f"/v1/allocations/{to_commune['id']}/deliver", json={"delivered_on": "2022-10-12"}
        ),
        200,
    )
    allocation(client, code, places["ward"]["id"], "2500000")
    cancelled = allocation(client, code, places["commune"]["id"], "1000000")
    ok(client.post(f"/v1/allocations/{cancelled['id']}/cancel"), 200)
    goods_allocation(client, code, places["village"]["id"], "breeding-goat", 25)
    return {"code": code, "gifts": gifts, "goats": goats}


def test_public_statement_as_hxl(client, story):
    code = story["code"]
    response = client.get(f"/v1/public/campaigns/{code}/contributions", params={"format": "hxl"})
    data = parse(response)
    assert response.headers["content-disposition"] == (
        f'attachment; filename="{code}-contributions-hxl.csv"'
    )
    assert headers_of(response)[:3] == ["id", "received_on", "donor"]
    assert tags(data) == [
        "#meta+id",
        "#date+received",
        "#org+donor",
        *MONEY_TAGS[:4],
        *GOODS_TAGS[:3],
        "#item+num",
        "#description",
        "#status",
    ]
    assert len(list(data)) == 5
    # Settled money, reversal included as a row: its status says it is reversed.
    assert total(data, "#value+settled") == Decimal("13700000")
    recorded = [r for r in data if r.get("#status") == "recorded"]
    assert sum(Decimal(r.get("#value+settled") or 0) for r in recorded) == Decimal("13000000")
    assert values(data, "#status").count("reversed") == 1
    assert values(data, "#currency+original") == ["VND", "USD", "VND", "VND", ""]
    assert values(data, "#currency+settled") == ["VND", "VND", "VND", "VND", ""]
    assert total(data, "#item+num") == Decimal("60")
    assert values(data, "#item+name")[-1] == "Dê giống"
    assert values(data, "#item+unit")[-1] == "con"
    assert values(data, "#org+donor") == [
        "Nguyễn Văn An",
        "Cô giáo Bích",
        ANONYMOUS_MASK,
        "",
        "Nguyễn Văn An",
    ]
    # The anonymous donor is never in the file, not even in a transfer message.
    text = response.content.decode("utf-8-sig")
    assert ANONYMOUS_REAL_NAME not in text
    assert HIDDEN_BEHIND_DISPLAY not in text


def test_public_hxl_keeps_the_statements_filters(client, story):
    code = story["code"]
    response = client.get(
        f"/v1/public/campaigns/{code}/contributions",
        params={"format": "hxl", "min_amount": "4000000"},
    )
    data = parse(response)
    assert total(data, "#value+settled") == Decimal("10000000")
    assert values(data, "#meta+id") == [str(g["id"]) for g in story["gifts"][:2]]


def test_private_contributions_as_hxl_show_real_names_to_an_admin(client, story):
    code = story["code"]
    response = client.get(f"/v1/campaigns/{code}/contributions", params={"format": "hxl"})
    data = parse(response)
    assert tags(data)[:4] == ["#meta+id", "#meta+receipt", "#date+received", "#org+donor"]
    assert tags(data)[-5:] == [
        "#value+estimated",
        "#modality",
        "#meta+ref",
        "#description",
        "#status",
    ]
    assert values(data, "#org+donor") == [
        "Nguyễn Văn An",
        HIDDEN_BEHIND_DISPLAY,
        ANONYMOUS_REAL_NAME,
        "",
        "Nguyễn Văn An",
    ]
    assert values(data, "#meta+receipt") == [
        *(g["receipt_code"] for g in story["gifts"]),
        story["goats"]["receipt_code"],
    ]
    assert total(data, "#value+settled") == Decimal("13700000")
    assert total(data, "#value+original") == Decimal("8700200")
    assert values(data, "#meta+ref") == ["FT1", "FT2", "FT3", "FT4", ""]
    assert values(data, "#modality")[:4] == ["bank_transfer"] * 4


def test_private_contributions_as_csv_match_the_json_list(client, story):
    code = story["code"]
    response = client.get(
        f"/v1/campaigns/{code}/contributions", params={"format": "csv", "donor_id": 1}
    )
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    listed = ok(client.get(f"/v1/campaigns/{code}/contributions", params={"donor_id": 1}), 200)
    assert [r["id"] for r in rows] == [str(c["id"]) for c in listed["items"]]
    assert [r["settled_amount"] for r in rows] == [
        c["settled_amount"] or "" for c in listed["items"]
    ]
    assert {r["donor_name"] for r in rows} == {"Nguyễn Văn An"}
    assert "reversal" not in rows[0]


def test_an_officer_sees_real_names_only_of_donors_their_unit_recorded(client, headers_for):
    unit_tree(client)
    officer = headers_for("officer", "ky-son")
    code = ok(
        client.post(
            "/v1/campaigns",
            json={"code": "ky-son-2022", "title": "Lũ Kỳ Sơn", "kind": "flood"},
            headers=officer,
        )
    )["code"]
    ok(client.patch(f"/v1/campaigns/{code}", json={"status": "open"}, headers=officer), 200)
    own = ok(
        client.post(
            "/v1/donors",
            json={"name": ANONYMOUS_REAL_NAME, "kind": "individual", "anonymous": True},
            headers=officer,
        )
    )
    # Recorded by an admin (the root unit): beyond the district officer's reach; an admin
    # books its gift to the district's campaign.
    other = donor(client, name=HIDDEN_BEHIND_DISPLAY, anonymous=True)
    for giver, amount, by in ((own, "100000", officer), (other, "200000", {})):
        ok(
            client.post(
                f"/v1/campaigns/{code}/contributions",
                json={
                    "donor_id": giver["id"],
                    "amount": amount,
                    "received_on": "2022-10-05",
                    "method": "cash",
                },
                headers=by,
            )
        )
    path = f"/v1/campaigns/{code}/contributions"
    seen = parse(client.get(path, params={"format": "hxl"}, headers=officer))
    assert values(seen, "#org+donor") == [ANONYMOUS_REAL_NAME, ANONYMOUS_MASK]
    assert HIDDEN_BEHIND_DISPLAY not in client.get(
        path, params={"format": "csv"}, headers=officer
    ).content.decode("utf-8-sig")
    auditor = parse(client.get(path, params={"format": "hxl"}, headers=headers_for("auditor")))
    assert values(auditor, "#org+donor") == [ANONYMOUS_REAL_NAME, HIDDEN_BEHIND_DISPLAY]
    # Another district's officer does not reach the campaign at all.
    refused = client.get(path, params={"format": "hxl"}, headers=headers_for("officer", "tan-ky"))
    assert refused.status_code == 404
    assert refused.headers["content-type"] == "application/problem+json"


def test_allocations_as_hxl_carry_the_official_units(client, story, places):
    code = story["code"]
    data = parse(client.get(f"/v1/campaigns/{code}/allocations", params={"format": "hxl"}))
    assert tags(data) == [
        "#meta+id",
        "#date+allocated",
        "#date+delivered",
        *PLACE_TAGS,
        "#value",
        "#currency",
        *GOODS_TAGS[:3],
        "#item+num",
        "#description+purpose",
        "#status",
    ]
    assert values(data, "#status") == ["delivered", "allocated", "cancelled", "allocated"]
    assert values(data, "#loc+name") == [
        "Xã Tà Cạ",
        "Phường Vinh Hưng",
        "Xã Tà Cạ",
        "Bản Xiêng Thù",
    ]
    assert values(data, "#loc+type") == ["commune", "commune", "commune", "village"]
    assert values(data, "#adm1+code") == ["40"] * 4
    assert values(data, "#adm1+name") == ["Tỉnh Nghệ An"] * 4
    # A ward under its province (2025) has no district.
    assert values(data, "#adm2+code") == ["412", "", "412", "412"]
    assert values(data, "#adm2+name") == ["Huyện Kỳ Sơn", "", "Huyện Kỳ Sơn", "Huyện Kỳ Sơn"]
    assert values(data, "#adm3+code") == ["16813", "16681", "16813", "16813"]
    assert values(data, "#loc+code") == ["16813", "16681", "16813", ""]
    assert values(data, "#date+delivered") == ["2022-10-12", "", "", ""]
    not_cancelled = [r for r in data if r.get("#status") != "cancelled"]
    assert sum(Decimal(r.get("#value") or 0) for r in not_cancelled) == Decimal("6500000")
    assert total(data, "#item+num") == Decimal("25")
    assert "Hộ" not in "".join(headers_of(client.get(f"/v1/campaigns/{code}/allocations")))


def test_allocations_as_csv_filter_like_the_list(client, story):
    code = story["code"]
    response = client.get(
        f"/v1/campaigns/{code}/allocations", params={"format": "csv", "status": "allocated"}
    )
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [(r["amount"], r["item_code"], r["quantity"]) for r in rows] == [
        ("2500000", "", ""),
        ("", "breeding-goat", "25"),
    ]


@pytest.mark.parametrize(
    ("level", "places_expected"),
    [
        (None, ["Xã Tà Cạ", "Bản Xiêng Thù", "Phường Vinh Hưng"]),
        ("province", ["Tỉnh Nghệ An"]),
    ],
)
def test_distribution_as_hxl(client, story, level, places_expected):
    code = story["code"]
    params = {"format": "hxl", **({"level": level} if level else {})}
    response = client.get(f"/v1/campaigns/{code}/distribution", params=params)
    data = parse(response)
    assert tags(data) == [
        "#date+reported",
        *PLACE_TAGS,
        "#currency",
        "#value+allocated",
        "#value+delivered",
        *GOODS_TAGS[:3],
        "#item+num+allocated",
        "#item+num+delivered",
    ]
    names = list(dict.fromkeys(values(data, "#loc+name")))
    assert sorted(names) == sorted(places_expected)
    assert total(data, "#value+allocated") == Decimal("6500000")
    assert total(data, "#value+delivered") == Decimal("4000000")
    assert total(data, "#item+num+allocated") == Decimal("25")
    assert total(data, "#item+num+delivered") == Decimal("0")
    assert set(values(data, "#adm1+code")) == {"40"}
    json_body = ok(
        client.get(f"/v1/campaigns/{code}/distribution", params={"level": level} if level else {}),
        200,
    )
    assert set(values(data, "#date+reported")) == {json_body["as_of"]}


def test_an_unknown_format_is_refused(client, story):
    code = story["code"]
    for path in (
        f"/v1/public/campaigns/{code}/contributions",
        f"/v1/campaigns/{code}/contributions",
        f"/v1/campaigns/{code}/allocations",
        f"/v1/campaigns/{code}/distribution",
    ):
        response = client.get(path, params={"format": "xlsx"})
        assert response.status_code == 422, path
        assert response.headers["content-type"] == "application/problem+json"


def test_the_hashtag_row_goes_through_the_one_csv_writer():
    from app.text import csv_rows

    rows = [[{"donor": "=HYPERLINK(1)", "value": "-500"}]]
    text = "".join(csv_rows(["donor", "value"], rows, hashtags=["#org +donor", "#value"]))
    assert text == "\ufeffdonor,value\r\n#org +donor,#value\r\n'=HYPERLINK(1),-500\r\n"
    with pytest.raises(ValueError, match="one hashtag per column"):
        list(csv_rows(["donor", "value"], rows, hashtags=["#org +donor"]))


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    gifts=st.lists(
        st.tuples(st.integers(min_value=1, max_value=10**15), st.booleans()),
        min_size=1,
        max_size=6,
    )
)
def test_hxl_sums_are_exact_up_to_a_quadrillion_dong(client, gifts):
    """Whatever is given and reversed, the HXL files sum to the posted amounts, to the
    đồng, on both views (libhxl reads the cells as text; the sums are Decimal)."""
    code = campaign(client)["code"]
    for amount, reverse in gifts:
        gift = contribution(client, code, str(amount))
        if reverse:
            path = f"/v1/contributions/{gift['id']}/reverse"
            ok(client.post(path, json={"reason": "Nhập sai"}), 200)
    kept = sum((Decimal(a) for a, reverse in gifts if not reverse), Decimal(0))
    for path in (
        f"/v1/public/campaigns/{code}/contributions",
        f"/v1/campaigns/{code}/contributions",
    ):
        data = parse(client.get(path, params={"format": "hxl"}))
        assert total(data, "#value+settled") == sum(Decimal(a) for a, _ in gifts)
        recorded = data.with_rows("#status=recorded")
        assert total(recorded, "#value+settled") == kept
        assert values(data, "#status").count("reversed") == sum(r for _, r in gifts)
