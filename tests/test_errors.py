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


# Issue 11, finding 4: a lone surrogate is not a character (and used to be a 500).
SURROGATE_BODIES = [
    ("/v1/donors", b'{"name": "\\udc00x", "kind": "individual"}'),
    ("/v1/campaigns", b'{"code": "ky-son-x", "title": "\\ud800", "kind": "flood"}'),
    ("/v1/locations", b'{"name": "X\\udfff", "level": "commune"}'),
    (
        "/v1/campaigns/ky-son-flood-2022/contributions",
        b'{"amount": "1", "received_on": "2022-10-01", "method": "cash", "description": "\\udc00"}',
    ),
    ("/v1/donors", b'{"name": "x", "kind": "individual", "\\udc00": 1}'),
]


@pytest.mark.parametrize(("path", "body"), SURROGATE_BODIES)
def test_a_lone_surrogate_is_422(client, story, path, body):
    code, _, _, before = story
    response = client.post(path, content=body, headers={"content-type": "application/json"})
    assert _assert_problem(response, 422)["code"] == "invalid_unicode"
    assert f.reconciliation(client, code) == before


# Issue 11, finding 8: questionable input, each refused with a named code.
def _post_contribution(client, **changes):
    body = {"amount": "1", "received_on": "2022-10-01", "method": "cash", **changes}
    return client.post("/v1/campaigns/ky-son-flood-2022/contributions", json=body)


def test_duplicate_json_keys_are_422(client, story):
    code, _, _, before = story
    body = b'{"name": "Nguyen Van An", "kind": "individual", "name": "Someone else"}'
    response = client.post("/v1/donors", content=body, headers={"content-type": "application/json"})
    problem = _assert_problem(response, 422)
    assert problem["code"] == "duplicate_json_key"
    assert problem["errors"][0]["field"] == "name"
    assert f.reconciliation(client, code) == before


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32", "latin-1"])
def test_a_json_body_not_in_utf8_is_422(client, story, encoding):
    body = '{"name": "Trần Thị Bé", "kind": "individual"}'.encode(encoding, errors="replace")
    if encoding == "latin-1":
        body = '{"name": "Trần", "kind": "individual"}'.replace("ầ", "\xe0").encode("latin-1")
    response = client.post("/v1/donors", content=body, headers={"content-type": "application/json"})
    assert _assert_problem(response, 422)["code"] == "body_not_utf8"
    assert f.ok(client.get("/v1/donors"), 200)["items"] == []


def test_a_body_in_another_media_type_is_415(client, story):
    response = client.post(
        "/v1/donors",
        content=b'{"name": "An", "kind": "individual"}',
        headers={"content-type": "text/plain"},
    )
    assert _assert_problem(response, 415)["code"] == "unsupported_media_type"


@pytest.mark.parametrize(
    "name",
    [
        "Nguyễn\x85Văn An",  # NEL, a C1 control
        "Nguyễn\x9bVăn An",  # CSI, a C1 control
        "\u202eنA nĂV",  # RIGHT-TO-LEFT OVERRIDE
        "Nguyễn \u2066Văn\u2069 An",  # isolates
    ],
)
def test_c1_controls_and_bidi_overrides_are_refused_in_names_and_references(client, story, name):
    code, _, _, before = story
    problem = _assert_problem(
        client.post("/v1/donors", json={"name": name, "kind": "individual"}), 422
    )
    assert problem["errors"][0]["field"] == "name"
    problem = _assert_problem(_post_contribution(client, bank_reference=f"FT22{name}"), 422)
    assert problem["errors"][0]["field"] == "bank_reference"
    problem = _assert_problem(_post_contribution(client, description=name), 422)
    assert problem["errors"][0]["field"] == "description"
    assert f.reconciliation(client, code) == before


@pytest.mark.parametrize(
    ("received_on", "rule"),
    [
        ("2022-10-01T00:00:00", "date_not_plain"),
        ("2022-10-01T00:00:00+07:00", "date_not_plain"),
        ("2022-10-01 00:00", "date_not_plain"),
        (1664582400, "date_not_plain"),  # a Unix time
        ("1900-01-01", "date_too_early"),
        ("1999-12-31", "date_too_early"),
    ],
)
def test_dates_are_plain_and_not_from_another_century(client, story, received_on, rule):
    code, _, _, before = story
    problem = _assert_problem(_post_contribution(client, received_on=received_on), 422)
    assert problem["errors"] == [
        {
            "field": "received_on",
            "in": "body",
            "message": problem["errors"][0]["message"],
            "type": rule,
        }
    ]
    assert f.reconciliation(client, code) == before


def test_the_earliest_date_is_accepted(client, story):
    assert _post_contribution(client, received_on="2000-01-01").status_code == 201


# Issue 10, item 8: unknown query parameters are refused like unknown body fields.
@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/donors", {"format": "csv"}),
        ("/v1/campaigns", {"limit": "5", "stauts": "open"}),
        ("/v1/public/campaigns", {"q": "ky son"}),
        ("/v1/public/campaigns/ky-son-flood-2022/contributions", {"min_amont": "5"}),
        ("/v1/campaigns/ky-son-flood-2022/reconciliation", {"verify_full": "true"}),
    ],
)
def test_unknown_query_parameters_are_422(client, story, path, params):
    problem = _assert_problem(client.get(path, params=params), 422)
    assert problem["code"] == "unknown_query_parameter"
    known = {"limit", "status"}
    assert [e["field"] for e in problem["errors"]] == sorted(set(params) - known)
    assert {e["in"] for e in problem["errors"]} == {"query"}


def test_known_query_parameters_still_work(client, story):
    code = story[0]
    f.ok(client.get("/v1/campaigns", params={"limit": "5", "status": "open"}), 200)
    f.ok(client.get(f"/v1/public/campaigns/{code}/contributions", params={"min_amount": "5"}), 200)
    f.ok(client.get(f"/v1/campaigns/{code}/reconciliation", params={"verify": "full"}), 200)
    # A write's query string is checked too.
    response = client.post("/v1/donors?dry_run=1", json={"name": "An", "kind": "individual"})
    assert _assert_problem(response, 422)["code"] == "unknown_query_parameter"
