"""No mass assignment: request bodies forbid unknown fields and hold no server-set field."""

from __future__ import annotations

import pytest

from tests.support import factories as f

# Fields the server sets (or that a client may never choose) and no request body may carry.
SERVER_SET = {
    "id",
    "receipt_code",
    "balance",
    "balance_after",
    "hash",
    "prev_hash",
    "head_hash",
    "token",
    "token_hash",
    "prefix",
    "created_at",
    "updated_at",
    "recorded_at",
    "created_by",
    "unit_id",
    "campaign_id",
    "fulfilled_amount",
    "revoked_at",
    "last_used_at",
}


def _request_schemas(client) -> dict[str, dict]:
    spec = client.app.openapi()
    components = spec["components"]["schemas"]
    found = {}
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            content = op.get("requestBody", {}).get("content", {})
            for media in content.values():
                schema = media["schema"]
                refs = [schema, *schema.get("anyOf", [])]
                for ref in refs:
                    if "$ref" in ref:
                        name = ref["$ref"].rsplit("/", 1)[-1]
                        found[f"{method.upper()} {path} {name}"] = components[name]
    return found


def test_every_request_schema_forbids_unknown_and_server_set_fields(client):
    schemas = _request_schemas(client)
    assert len(schemas) >= 12
    for where, schema in schemas.items():
        assert schema.get("additionalProperties") is False, where
        assert not SERVER_SET & set(schema.get("properties", {})), where
        if where.split()[0] == "POST":
            assert "status" not in schema.get("properties", {}), where


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/campaigns", {"code": "ky-son-x", "title": "Lũ", "kind": "flood", "status": "open"}),
        ("/v1/campaigns", {"code": "ky-son-y", "title": "Lũ", "kind": "flood", "unit_id": 1}),
        ("/v1/donors", {"name": "An", "kind": "individual", "created_by": 1}),
        ("/v1/keys", {"role": "admin", "name": "x", "token": "rlk_mine"}),
        ("/v1/units", {"code": "xa-a", "name": "Xã", "path": "/root/"}),
    ],
)
def test_server_set_fields_are_refused(client, path, body):
    response = client.post(path, json=body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["message"] == "unknown field"


def test_a_contribution_cannot_choose_its_receipt_code(client):
    code = f.campaign(client)["code"]
    body = {
        "amount": "1000",
        "received_on": "2022-10-05",
        "method": "cash",
        "receipt_code": "RL-AAAAA-AAAAA",
    }
    response = client.post(f"/v1/campaigns/{code}/contributions", json=body)
    assert response.status_code == 422
