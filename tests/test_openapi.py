"""The OpenAPI document tells the truth (issue 11): every error an operation can answer is
documented as the problem+json the service sends, every request example is accepted,
operations and tags are described for people, and /docs needs no network.

Whether real answers match the document is the contract run's job (`make contract`:
schemathesis over every operation against a live server); these tests check the
document itself and the examples it offers.
"""

import hashlib
import hmac
import json
import re
from datetime import UTC, datetime

import jsonschema_rs
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.transparency import verify
from tests.support import factories as f

CODE = "ky-son-flood-2022"


@pytest.fixture
def document(client):
    return client.get("/openapi.json").json()


def _operations(document):
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            yield method.upper(), path, operation


def test_every_error_response_is_the_problem_schema_as_problem_json(document):
    assert "HTTPValidationError" not in document["components"]["schemas"]
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    for method, path, operation in _operations(document):
        label = f"{method} {path}"
        statuses = {int(s) for s in operation["responses"]}
        errors = {s for s in statuses if s >= 400}
        if path != "/health":
            assert {422, 503} <= errors or path == "/ready", label
        if operation.get("security"):
            assert {401, 403} <= errors, label
        if "{" in path:
            assert 404 in errors, label
        if "requestBody" in operation:
            assert {413, 415} <= errors, label
        for status in errors:
            response = operation["responses"][str(status)]
            assert response["content"] == {"application/problem+json": {"schema": problem_ref}}, (
                f"{label} {status}"
            )
            assert response["description"], f"{label} {status}"


def _problem_validator(document):
    # jsonschema-rs comes with schemathesis; the document's components resolve the $refs.
    schema = {"$ref": "#/components/schemas/Problem", "components": document["components"]}
    return jsonschema_rs.Draft202012Validator(schema)


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("get", "/v1/donors", {"params": {"format": "csv"}}, 422),
        ("post", "/v1/donors", {"json": {"name": "", "kind": "volcano"}}, 422),
        ("get", "/v1/donors/99", {}, 404),
        ("post", "/v1/campaigns", {"json": {"code": CODE, "title": "x", "kind": "flood"}}, 409),
        ("post", "/v1/donors", {"content": b"{}", "headers": {"content-type": "text/plain"}}, 415),
        ("get", "/v1/donors", {"headers": {"Authorization": "Bearer nope"}}, 401),
    ],
)
def test_the_problems_sent_match_the_documented_schema(
    client, document, method, path, kwargs, status
):
    f.campaign(client, code=CODE)
    response = getattr(client, method)(path, **kwargs)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    _problem_validator(document).validate(response.json())


# The order a newcomer would follow; each example's path ids come from earlier answers.
EXAMPLE_ORDER = [
    ("POST", "/v1/units"),
    ("POST", "/v1/keys"),
    ("POST", "/v1/campaigns"),
    ("PATCH", "/v1/campaigns/{code}"),
    ("POST", "/v1/donors"),
    ("POST", "/v1/items"),
    ("POST", "/v1/locations"),
    ("POST", "/v1/campaigns/{code}/accounts"),
    ("POST", "/v1/campaigns/{code}/pledges"),
    ("POST", "/v1/campaigns/{code}/contributions"),
    ("POST", "/v1/campaigns/{code}/allocations"),
    ("POST", "/v1/allocations/{allocation_id}/deliver"),
    ("POST", "/v1/contributions/{contribution_id}/reverse"),
    ("POST", "/v1/pledges/{pledge_id}/cancel"),
    ("POST", "/v1/allocations/{allocation_id}/cancel"),
    ("POST", "/v1/campaigns/{code}/statements"),
    ("POST", "/v1/receiving-accounts/{account_id}/feed"),
    ("POST", "/v1/auditor-keys"),
    ("POST", "/v1/campaigns/{code}/checkpoints/{size}/cosignatures"),
]
# The example auditor key's private half, from the phrase its documentation names.
EXAMPLE_AUDITOR = Ed25519PrivateKey.from_private_bytes(
    hashlib.sha256(b"kiem-toan-nha-nuoc example").digest()
)
AUDITOR_OPERATIONS = {"/v1/auditor-keys", "/v1/campaigns/{code}/checkpoints/{size}/cosignatures"}


def _real_cosignature(client, example):
    """A cosignature can only be valid for the checkpoint it signs: sign a fresh checkpoint
    with the example auditor key, after checking the documented example has its shape."""
    name = example["signature"].split(" ")[1]
    assert name == "kiem-toan.example.vn", example
    issued = f.ok(client.post(f"/v1/campaigns/{CODE}/checkpoints"))
    body = "\n".join(issued["note"].split("\n")[:3]) + "\n"
    line = verify.cosign(body, name, EXAMPLE_AUDITOR, 1_764_547_200)
    return issued["size"], {"signature": line}


def _signed_feed_post(client, url, example):
    """The bank feed's example, sent now and signed as a bank would, with a secret issued
    for the example account (the example's own send time is long past)."""
    secret = f.ok(client.post(url.removesuffix("/feed") + "/feed-secrets"))["secret"]
    raw = json.dumps({**example, "sent_at": datetime.now(UTC).isoformat()}).encode()
    signature = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Relief-Signature": signature}
    return client.post(url, content=raw, headers=headers)


def _example(operation):
    content = operation["requestBody"]["content"]
    ((media_type, body),) = content.items()
    return media_type, body.get("example")


def test_every_request_example_is_accepted(client, document, headers_for, signing_key):
    operations = {(m, p): op for m, p, op in _operations(document) if "requestBody" in op}
    assert set(operations) == set(EXAMPLE_ORDER), "add the new operation to EXAMPLE_ORDER"
    ids = {"code": CODE}
    auditor = headers_for("auditor")  # one auditor registers the key and cosigns with it
    for method, path in EXAMPLE_ORDER:
        operation = operations[(method, path)]
        media_type, example = _example(operation)
        assert example is not None, f"{method} {path} has no example"
        if path == "/v1/campaigns/{code}/pledges":
            # The campaign takes pledges and money once open.
            f.ok(client.patch(f"/v1/campaigns/{CODE}", json={"status": "open"}), 200)
        if path == "/v1/contributions/{contribution_id}/reverse":
            # Money allocated from the example gift stays covered once it is reversed.
            f.contribution(client, CODE, 1_000_000)
        if path == "/v1/allocations/{allocation_id}/cancel":
            # A delivered allocation cannot be cancelled: cancel a second one.
            second = f.allocation(client, CODE, ids["location_id"], 1000)
            ids["allocation_id"] = second["id"]
        headers = auditor if path in AUDITOR_OPERATIONS else {}
        if path.endswith("/cosignatures"):
            ids["size"], example = _real_cosignature(client, example)
        url = path.format(**ids)
        (expected,) = [int(s) for s in operation["responses"] if s.startswith("2")]
        if path.endswith("/feed"):
            response = _signed_feed_post(client, url, example)
        elif media_type == "application/json":
            response = client.request(method, url, json=example, headers=headers)
        else:
            response = client.request(
                method, url, content=example.encode(), headers={"content-type": media_type}
            )
        assert response.status_code == expected, f"{method} {path}: {response.text}"
        if not response.headers["content-type"].startswith("application/json"):
            continue  # the cosigned checkpoint, as text
        body = response.json()
        for name in ("location", "pledge", "contribution", "allocation"):
            if f"/{name}" in path and method == "POST" and "{" not in path.split("/")[-1]:
                ids.setdefault(f"{name}_id", body.get("id"))
        if path.endswith("/locations"):
            ids["location_id"] = body["id"]
        if path.endswith("/accounts"):
            ids["account_id"] = body["id"]
        if path.endswith("/feed"):
            assert body["outcome"] == "booked", body


def test_operations_and_tags_are_described_for_people(document):
    tags = {tag["name"]: tag.get("description") for tag in document["tags"]}
    assert all(tags.values()), tags
    for method, path, operation in _operations(document):
        label = f"{method} {path}"
        assert operation["tags"] and set(operation["tags"]) <= set(tags), label
        summary = operation.get("summary", "")
        assert summary and not re.fullmatch(r"([A-Z][a-z]+ ?)+", summary), f"{label}: {summary!r}"
        assert len(operation.get("description", "")) >= 20, label


EXTERNAL = re.compile(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", re.IGNORECASE)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_interactive_docs_load_nothing_from_outside(client, page):
    response = client.get(page)
    assert response.status_code == 200
    html = response.text
    assert not EXTERNAL.search(html), EXTERNAL.search(html).group(0)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets, html
    for asset in assets:
        assert asset.startswith("/"), asset
        served = client.get(asset)
        assert served.status_code == 200, asset
        assert len(served.content) > 100, asset
