"""Official receiving accounts: registered by officers, checked by anyone."""

from __future__ import annotations

import pytest

from tests.support import factories as f

VCB = {"bank": "Vietcombank – CN Nghệ An", "holder": "Ủy ban MTTQ Việt Nam tỉnh Nghệ An"}


def register(client, code: str, number: str, **fields):
    return client.post(f"/v1/campaigns/{code}/accounts", json={**VCB, "number": number, **fields})


def check(client, number: str):
    return f.ok(client.get(f"/v1/public/accounts/{number}"), 200)


def test_an_officer_registers_an_account_and_anyone_checks_it(client):
    c = f.campaign(client, code="ky-son-flood-2022")
    account = f.ok(register(client, c["code"], "0011 0040-12345"))
    assert {k: account[k] for k in ("campaign_code", "bank", "number", "holder")} == {
        "campaign_code": "ky-son-flood-2022",
        "bank": VCB["bank"],
        "number": "00110040" + "12345",
        "holder": VCB["holder"],
    }
    listed = f.ok(client.get(f"/v1/campaigns/{c['code']}/accounts"), 200)
    assert listed == {"items": [account], "next_cursor": None}
    expected = {
        "number": "0011004012345",
        "official": True,
        "campaigns": [
            {
                "code": "ky-son-flood-2022",
                "title": c["title"],
                "bank": VCB["bank"],
                "holder": VCB["holder"],
            }
        ],
    }
    for spelling in ("0011004012345", "0011 0040 12345", "0011-0040-12345", "0011.0040.12345"):
        assert check(client, spelling) == expected


def test_an_unknown_number_is_not_official(client):
    assert check(client, "9704 2292 0000") == {
        "number": "970422920000",
        "official": False,
        "campaigns": [],
    }


def test_one_number_may_serve_several_campaigns_but_only_once_each(client):
    flood = f.campaign(client, code="ky-son-flood-2022")
    covid = f.campaign(client, code="covid-fund-2021", title="Quỹ phòng, chống dịch Covid-19")
    f.ok(register(client, flood["code"], "0011004012345"))
    f.ok(register(client, covid["code"], "0011-004-012345", bank="VCB"))
    again = register(client, flood["code"], "0011 0040 12345")
    assert (again.status_code, again.json()["code"]) == (409, "receiving_account_exists")
    body = check(client, "0011004012345")
    assert [(c["code"], c["bank"]) for c in body["campaigns"]] == [
        ("covid-fund-2021", "VCB"),
        ("ky-son-flood-2022", VCB["bank"]),
    ]


def test_only_open_and_closed_campaigns_are_shown(client):
    draft = f.campaign(client, status="draft")
    closed = f.campaign(client, status="closed")
    f.ok(register(client, draft["code"], "111122223333"))
    f.ok(register(client, closed["code"], "444455556666"))
    assert check(client, "111122223333")["official"] is False
    assert check(client, "444455556666")["campaigns"][0]["code"] == closed["code"]
    f.ok(client.patch(f"/v1/campaigns/{draft['code']}", json={"status": "open"}), 200)
    assert check(client, "111122223333")["official"] is True


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("0011A04012345", "account_number_not_digits"),
        ("12345", "account_number_length"),
        ("1" * 21, "account_number_length"),
        ("１２３４５６７", "account_number_not_digits"),  # full-width digits
        ("---", "account_number_not_digits"),
    ],
)
def test_a_number_is_digits_only(client, number, code):
    c = f.campaign(client)
    response = register(client, c["code"], number)
    assert (response.status_code, response.json()["code"]) == (422, code)
    public = client.get(f"/v1/public/accounts/{number}")
    assert (public.status_code, public.json()["code"]) == (422, code)
    assert f.ok(client.get(f"/v1/campaigns/{c['code']}/accounts"), 200)["items"] == []


def test_bank_and_holder_are_required_text(client):
    c = f.campaign(client)
    path = f"/v1/campaigns/{c['code']}/accounts"
    assert client.post(path, json={"number": "0011004012345"}).status_code == 422
    bad = {**VCB, "number": "0011004012345", "bank": " "}
    assert client.post(path, json=bad).status_code == 422
    extra = {**VCB, "number": "0011004012345", "id": 7}
    assert client.post(path, json=extra).status_code == 422
    assert (
        client.post("/v1/campaigns/no-such/accounts", json={**VCB, "number": "1234567"}).status_code
        == 404
    )
