"""Keys and unit scope beyond the matrix: what each rule does, not only its status."""

from __future__ import annotations

import hashlib

from sqlalchemy import text

from tests.support import factories as f
from tests.support.clients import bearer


def test_a_key_is_shown_once_and_stored_as_its_hash(client, db):
    f.unit_tree(client)
    created = f.ok(
        client.post("/v1/keys", json={"role": "officer", "unit_code": "ky-son", "name": "Cán bộ"})
    )
    token = created["token"]
    assert token.startswith("rlk_") and len(token) > 40
    assert created["prefix"] == token[:12]
    with db.engine.connect() as conn:
        stored = conn.execute(
            text("SELECT token_hash FROM api_keys WHERE id = :i"), {"i": created["id"]}
        ).scalar_one()
    assert stored == hashlib.sha256(token.encode()).hexdigest()
    listed = {k["id"]: k for k in f.ok(client.get("/v1/keys"), 200)["items"]}
    assert "token" not in listed[created["id"]]
    assert listed[created["id"]]["unit_code"] == "ky-son"


def test_officer_keys_need_a_unit_and_others_refuse_one(client):
    f.unit_tree(client)
    missing = client.post("/v1/keys", json={"role": "officer", "name": "x"})
    assert missing.json()["code"] == "officer_needs_unit"
    extra = client.post("/v1/keys", json={"role": "auditor", "unit_code": "ky-son", "name": "x"})
    assert extra.json()["code"] == "unit_only_for_officers"


def test_revoked_and_unknown_keys_are_refused(client):
    created = f.ok(client.post("/v1/keys", json={"role": "auditor", "name": "Kiểm toán"}))
    auditor = bearer(created["token"])
    assert client.get("/v1/campaigns", headers=auditor).status_code == 200
    f.ok(client.post(f"/v1/keys/{created['id']}/revoke"), 200)
    refused = client.get("/v1/campaigns", headers=auditor)
    assert (refused.status_code, refused.json()["code"]) == (401, "api_key_invalid")
    unknown = client.get("/v1/campaigns", headers=bearer("rlk_not-a-key"))
    assert unknown.status_code == 401
    basic = client.get("/v1/campaigns", headers={"Authorization": "Basic YWRtaW46YWRtaW4="})
    assert (basic.status_code, basic.json()["code"]) == (401, "api_key_required")


def test_last_used_at_is_recorded(client):
    created = f.ok(client.post("/v1/keys", json={"role": "auditor", "name": "Kiểm toán"}))
    assert created["last_used_at"] is None
    f.ok(client.get("/v1/campaigns", headers=bearer(created["token"])), 200)
    keys = {k["id"]: k for k in f.ok(client.get("/v1/keys"), 200)["items"]}
    assert keys[created["id"]]["last_used_at"] is not None


def test_officers_see_and_act_only_within_their_units(client, headers_for):
    f.unit_tree(client)
    ky_son = headers_for("officer", "ky-son")
    tan_ky = headers_for("officer", "tan-ky")
    province = headers_for("officer", "nghe-an")
    # An officer's campaign belongs to their own unit by default; an admin's to root.
    own = f.ok(
        client.post(
            "/v1/campaigns",
            json={"code": "ky-son-lu", "title": "Lũ", "kind": "flood"},
            headers=ky_son,
        )
    )
    assert own["unit_code"] == "ky-son"
    assert f.campaign(client, code="toan-tinh")["unit_code"] == "root"

    def codes(headers):
        return {c["code"] for c in f.ok(client.get("/v1/campaigns", headers=headers), 200)["items"]}

    assert codes(ky_son) == {"ky-son-lu"}
    assert codes(tan_ky) == set()
    assert codes(province) == {"ky-son-lu"}
    assert codes(client.headers) == {"ky-son-lu", "toan-tinh"}
    # A province officer may open a campaign for one of its districts, not for a sibling's.
    body = {"code": "ky-son-2", "title": "Lũ", "kind": "flood", "unit_code": "ky-son"}
    assert client.post("/v1/campaigns", json=body, headers=province).status_code == 201
    refused = client.post("/v1/campaigns", json={**body, "code": "x-3"}, headers=tan_ky)
    assert (refused.status_code, refused.json()["code"]) == (422, "unit_not_found")
    # Donors belong to the unit that recorded them.
    donor = f.ok(
        client.post("/v1/donors", json={"name": "An", "kind": "individual"}, headers=ky_son)
    )
    assert [d["id"] for d in f.ok(client.get("/v1/donors", headers=tan_ky), 200)["items"]] == []
    f.ok(client.patch("/v1/campaigns/ky-son-lu", json={"status": "open"}, headers=ky_son), 200)
    pledge = {"donor_id": donor["id"], "amount": "1000"}
    assert (
        client.post("/v1/campaigns/ky-son-lu/pledges", json=pledge, headers=province).status_code
        == 201
    )
    f.campaign(client, code="tan-ky-lu", unit_code="tan-ky")
    foreign = client.post("/v1/campaigns/tan-ky-lu/pledges", json=pledge, headers=tan_ky)
    assert (foreign.status_code, foreign.json()["code"]) == (422, "donor_not_found")
