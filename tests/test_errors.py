"""Hostile and malformed input: always a 4xx problem+json, never a 500, nothing written."""

import pytest

from tests.support import factories as f


def _assert_problem(response, status):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    return body


@pytest.fixture
def story(client):
    c = f.campaign(client, code="ky-son-flood-2022")
    f.contribution(client, c["code"], 1_000_000)
    place = f.location(client)
    allocation = f.allocation(client, c["code"], place["id"], 10)
    before = f.reconciliation(client, c["code"])
    return c["code"], place, allocation, before


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("get", "/v1/pledges/99999999999999999999", {}),
        ("get", "/v1/contributions/3000000000", {}),
        ("get", "/v1/allocations/0", {}),
        ("get", "/v1/donors/-1", {}),
        ("get", "/v1/donors", {"params": {"q": "a\x00b"}}),
        ("get", "/v1/locations", {"params": {"parent_id": "3000000000"}}),
        ("get", "/v1/campaigns/KY SON/reconciliation", {}),
        (
            "get",
            "/v1/campaigns/ky-son-flood-2022/reconciliation",
            {"params": {"as_of": "0001-01-01T00:00:00+01:00"}},
        ),
        ("post", "/v1/donors", {"json": {"name": "a\x00b", "kind": "individual"}}),
        ("post", "/v1/donors", {"json": {"name": "\u0958" * 300, "kind": "individual"}}),
        ("post", "/v1/donors", {"json": ["not", "an", "object"]}),
        (
            "post",
            "/v1/donors",
            {"content": b'{"name": "\xff"}', "headers": {"content-type": "application/json"}},
        ),
        (
            "post",
            "/v1/donors",
            {"content": b"[" * 50_000, "headers": {"content-type": "application/json"}},
        ),
        (
            "post",
            "/v1/campaigns/ky-son-flood-2022/pledges",
            {"json": {"donor_id": 3000000000, "amount": "5"}},
        ),
        (
            "post",
            "/v1/campaigns/ky-son-flood-2022/contributions",
            {
                "json": {
                    "amount": "999999999999999999",
                    "currency": "USD",
                    "fx_rate": "999999999999999999",
                    "received_on": "2022-10-01",
                    "method": "cash",
                }
            },
        ),
        (
            "post",
            "/v1/campaigns/ky-son-flood-2022/contributions",
            {
                "json": {
                    "amount": "1",
                    "received_on": "2022-10-01",
                    "method": "cash",
                    "bank_reference": "x\x00",
                }
            },
        ),
        (
            "post",
            "/v1/campaigns/ky-son-flood-2022/contributions",
            {"json": {"amount": "1" * 40, "received_on": "2022-10-01", "method": "cash"}},
        ),
        ("patch", "/v1/campaigns/ky-son-flood-2022", {"json": {"description": "a\x00"}}),
        ("delete", "/v1/campaigns/ky-son-flood-2022", {}),
        ("get", "/v1/no-such-thing", {}),
    ],
)
def test_hostile_input_is_a_4xx_problem_and_writes_nothing(client, story, method, path, kwargs):
    code, _, _, before = story
    response = getattr(client, method)(path, **kwargs)
    assert 400 <= response.status_code < 500, response.text
    _assert_problem(response, response.status_code)
    assert f.reconciliation(client, code) == before


def test_delivery_evidence_url_is_bounded(client, story):
    code, _, allocation, before = story
    body = {"delivered_on": "2022-10-02", "evidence_url": "https://example.org/" + "a" * 2000}
    problem = _assert_problem(
        client.post(f"/v1/allocations/{allocation['id']}/deliver", json=body), 422
    )
    assert problem["errors"][0]["field"] == "evidence_url"
    assert f.reconciliation(client, code) == before


def test_validation_problem_lists_every_field(client):
    problem = _assert_problem(
        client.post("/v1/campaigns", json={"code": "BAD", "kind": "volcano", "extra": 1}), 422
    )
    fields = sorted(e["field"] for e in problem["errors"])
    assert fields == ["code", "extra", "kind", "title"]
    assert next(e for e in problem["errors"] if e["field"] == "extra")["message"] == "unknown field"
