from tests.support import factories as f


def test_create_campaign_defaults_to_draft_in_vnd(client):
    body = f.ok(
        client.post(
            "/v1/campaigns",
            json={
                "code": "ky-son-flood-2022",
                "title": "  Ủng hộ đồng bào   Kỳ Sơn ",
                "kind": "flood",
                "target_amount": 100_000_000_000,
                "starts_on": "2022-10-01",
                "ends_on": "2022-12-31",
            },
        )
    )
    assert body["status"] == "draft"
    assert body["currency"] == "VND"
    assert body["target_amount"] == "100000000000"
    assert body["title"] == "Ủng hộ đồng bào Kỳ Sơn"
    assert client.get("/v1/campaigns/ky-son-flood-2022").json()["id"] == body["id"]


def test_campaign_title_is_stored_nfc(client):
    decomposed = "Lu\u0303 que\u0301t Ky\u0300 So\u031bn"
    body = f.campaign(client, code="nfc-check", title=decomposed, status="draft")
    assert body["title"] == "Lũ quét Kỳ Sơn"


def test_duplicate_code_is_409(client):
    f.campaign(client, code="covid-fund-2021", status="draft")
    response = client.post(
        "/v1/campaigns", json={"code": "covid-fund-2021", "title": "x", "kind": "epidemic"}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "campaign_code_taken"


def test_status_moves_draft_open_closed_only(client):
    c = f.campaign(client, code="thanh-xuan-poverty", status="draft")
    path = f"/v1/campaigns/{c['code']}"
    bad = client.patch(path, json={"status": "closed"})
    assert bad.status_code == 409
    assert bad.headers["content-type"] == "application/problem+json"
    assert bad.json()["code"] == "illegal_status_transition"
    assert f.ok(client.patch(path, json={"status": "open"}), 200)["status"] == "open"
    assert client.patch(path, json={"status": "draft"}).status_code == 409
    assert f.ok(client.patch(path, json={"status": "closed"}), 200)["status"] == "closed"
    assert client.patch(path, json={"status": "open"}).status_code == 409


def test_patch_refuses_unknown_and_fixed_fields(client):
    c = f.campaign(client, status="draft")
    for body in ({"currency": "USD"}, {"code": "other"}, {"colour": "red"}, {"title": None}):
        response = client.patch(f"/v1/campaigns/{c['code']}", json=body)
        assert response.status_code == 422, body
    assert client.get(f"/v1/campaigns/{c['code']}").json()["title"] == c["title"]


def test_patch_updates_title_and_target(client):
    c = f.campaign(client, status="draft")
    body = f.ok(
        client.patch(
            f"/v1/campaigns/{c['code']}",
            json={"title": "Lũ quét Kỳ Sơn", "target_amount": "5000000000"},
        ),
        200,
    )
    assert (body["title"], body["target_amount"]) == ("Lũ quét Kỳ Sơn", "5000000000")


def test_invalid_campaigns_are_422_and_write_nothing(client):
    cases = [
        {"code": "Bad Code", "title": "x", "kind": "flood"},
        {"code": "ok-code", "title": "", "kind": "flood"},
        {"code": "ok-code", "title": "x", "kind": "volcano"},
        {"code": "ok-code", "title": "x", "kind": "flood", "currency": "XYZ"},
        {"code": "ok-code", "title": "x", "kind": "flood", "target_amount": "1000.5"},
        {"code": "ok-code", "title": "x", "kind": "flood", "target_amount": "-5"},
        {"code": "ok-code", "title": "x", "kind": "flood", "target_amount": 0},
        {"code": "ok-code", "title": "x", "kind": "flood", "starts_on": "2022-02-30"},
        {
            "code": "ok-code",
            "title": "x",
            "kind": "flood",
            "starts_on": "2022-10-02",
            "ends_on": "2022-10-01",
        },
        {"code": "ok-code", "title": "x", "kind": "flood", "status": "open"},
        {"code": "ok-code", "title": "x", "kind": "flood", "parent_code": "no-such-parent"},
        {"code": "ok-code", "title": "x", "kind": "flood", "location_id": 999},
    ]
    for body in cases:
        response = client.post("/v1/campaigns", json=body)
        assert response.status_code == 422, (body, response.text)
        problem = response.json()
        assert response.headers["content-type"] == "application/problem+json"
        assert {"type", "title", "status", "detail"} <= set(problem)
        assert problem["errors"], problem
    assert client.get("/v1/campaigns").json() == {"items": [], "next_cursor": None}


def test_usd_campaign_allows_cents(client):
    c = f.campaign(
        client, code="usd-appeal", currency="usd", target_amount="2500.50", status="draft"
    )
    assert (c["currency"], c["target_amount"]) == ("USD", "2500.5")


def test_sub_campaign_must_share_parent_currency(client):
    f.campaign(client, code="nghe-an-flood-2022", status="draft")
    child = f.campaign(client, code="ky-son-sub", parent_code="nghe-an-flood-2022", status="draft")
    assert child["parent_code"] == "nghe-an-flood-2022"
    response = client.post(
        "/v1/campaigns",
        json={
            "code": "usd-sub",
            "title": "x",
            "kind": "flood",
            "currency": "USD",
            "parent_code": "nghe-an-flood-2022",
        },
    )
    assert response.status_code == 422
    assert response.json()["code"] == "parent_currency_mismatch"
    children = client.get("/v1/campaigns", params={"parent_code": "nghe-an-flood-2022"}).json()[
        "items"
    ]
    assert [c["code"] for c in children] == ["ky-son-sub"]


def test_list_paginates_with_cursor(client):
    codes = [f.campaign(client, code=f"appeal-{i}", status="draft")["code"] for i in range(5)]
    first = f.ok(client.get("/v1/campaigns", params={"limit": 2}), 200)
    second = f.ok(
        client.get("/v1/campaigns", params={"limit": 2, "cursor": first["next_cursor"]}), 200
    )
    third = f.ok(
        client.get("/v1/campaigns", params={"limit": 2, "cursor": second["next_cursor"]}), 200
    )
    seen = [c["code"] for page in (first, second, third) for c in page["items"]]
    assert seen == codes
    assert third["next_cursor"] is None


def test_bad_pagination_is_422(client):
    assert client.get("/v1/campaigns", params={"limit": 0}).status_code == 422
    assert client.get("/v1/campaigns", params={"limit": 501}).json()["code"] == "page_too_large"
    assert (
        client.get("/v1/campaigns", params={"cursor": "garbage!"}).json()["code"]
        == "invalid_cursor"
    )


def test_unknown_campaign_is_404_problem(client):
    response = client.get("/v1/campaigns/no-such-campaign")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "campaign_not_found"
