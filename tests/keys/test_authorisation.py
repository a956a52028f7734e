"""Who may do what, endpoint by endpoint: the whole matrix, against a table.

The world: units root → nghe-an (province) → {ky-son, tan-ky} (districts). The campaign
belongs to ky-son. Principals: no key, admin, an officer of ky-son (the campaign's unit),
of tan-ky (a sibling), of nghe-an (the parent), and an auditor. Every route of the
OpenAPI document must appear in the table, so a new endpoint cannot be forgotten.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from app.transparency import verify
from tests.feed.support import sign, transfer
from tests.support import factories as f
from tests.support.clients import bearer, issue_key

PRINCIPALS = ("none", "admin", "officer", "sibling", "parent", "auditor")
_n = itertools.count(1)


@dataclass
class World:
    client: TestClient
    headers: dict[str, dict[str, str]]
    code: str
    donor_id: int
    location_id: int


@pytest.fixture
def world(client: TestClient, signing_key: Any) -> World:
    f.unit_tree(client)
    database = client.app.state.database  # type: ignore[attr-defined]
    headers = {
        "none": {"Authorization": ""},
        "admin": dict(bearer(client.headers["Authorization"].removeprefix("Bearer "))),
        "officer": bearer(issue_key(database, "officer", "ky-son")),
        "sibling": bearer(issue_key(database, "officer", "tan-ky")),
        "parent": bearer(issue_key(database, "officer", "nghe-an")),
        "auditor": bearer(issue_key(database, "auditor")),
    }
    code = f.campaign(client, code="ky-son-flood-2022", unit_code="ky-son")["code"]
    donor = f.ok(
        client.post(
            "/v1/donors",
            json={"name": "Nguyễn Văn An", "kind": "individual"},
            headers=headers["officer"],
        )
    )
    place = f.location(client)
    f.contribution(client, code, 10**9)
    f.ok(client.post(f"/v1/campaigns/{code}/checkpoints"))  # the transparency log's first
    return World(client, headers, code, donor["id"], place["id"])


Request = tuple[str, Any]  # (path, json body or None)
Builder = Callable[[World], Request]


def _pledge(w: World) -> int:
    return int(f.pledge(w.client, w.code, w.donor_id, 1000)["id"])


def _contribution(w: World) -> int:
    return int(f.contribution(w.client, w.code, 1000)["id"])


def _allocation(w: World) -> int:
    return int(f.allocation(w.client, w.code, w.location_id, 1000)["id"])


def _item(w: World) -> str:
    code = f"rice-{next(_n)}"
    return str(f.item(w.client, code=code, name="Gạo", unit="kg")["code"])


def _receipt(w: World) -> str:
    return str(f.contribution(w.client, w.code, 1000)["receipt_code"])


STATEMENT = b"date,amount,description,bank_reference\n05/10/2022,1.500.000,ung ho,FT22278001\n"


def _key(w: World) -> int:
    created = w.client.post("/v1/keys", json={"role": "auditor", "name": "Kiểm toán viên"})
    return int(f.ok(created)["id"])


def _auditor_vkey() -> tuple[Ed25519PrivateKey, str]:
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes_raw()
    return key, verify.Verifier(f"auditor-{next(_n)}.example", 0x04, public).vkey


def _cosignature(w: World) -> tuple[str, Any]:
    """A cosignature of the latest checkpoint by a key the auditor registered."""
    key, vkey = _auditor_vkey()
    f.ok(w.client.post("/v1/auditor-keys", json={"vkey": vkey}, headers=w.headers["auditor"]))
    note = w.client.get(f"/v1/public/campaigns/{w.code}/checkpoint").text
    body = note[: note.index("\n\n") + 1]
    size = int(body.split("\n")[1])
    line = verify.cosign(body, vkey.split("+")[0], key, 1_764_547_200)
    return f"/v1/campaigns/{w.code}/checkpoints/{size}/cosignatures", {"signature": line}


def _account(w: World) -> tuple[int, str]:
    number = f"0011004{next(_n):06d}"
    body = {"bank": "Vietcombank", "number": number, "holder": "Ủy ban MTTQ huyện Kỳ Sơn"}
    return int(f.ok(w.client.post(f"/v1/campaigns/{w.code}/accounts", json=body))["id"]), number


def _feed_secret(w: World) -> int:
    account_id, _ = _account(w)
    issued = w.client.post(f"/v1/receiving-accounts/{account_id}/feed-secrets")
    return int(f.ok(issued)["id"])


@dataclass
class SignedJson:
    """A body the bank signs: its key is the signature, whoever's API key comes with it."""

    raw: bytes
    signature: str


def _feed_post(w: World) -> tuple[str, SignedJson]:
    account_id, number = _account(w)
    issued = w.client.post(f"/v1/receiving-accounts/{account_id}/feed-secrets")
    raw = json.dumps(transfer(account_number=number)).encode()
    signed = SignedJson(raw, sign(f.ok(issued)["secret"], raw))
    return f"/v1/receiving-accounts/{account_id}/feed", signed


# Expected statuses, in the order of PRINCIPALS.
PUBLIC = (200,) * 6
CAMPAIGN_READ = (401, 200, 200, 404, 200, 200)
CAMPAIGN_WRITE = (401, 201, 201, 404, 201, 403)
CAMPAIGN_ACTION = (401, 200, 200, 404, 200, 403)
ANY_READ = (401, 200, 200, 200, 200, 200)
STAFF_CREATE = (401, 201, 201, 201, 201, 403)
ADMIN_READ = (401, 200, 403, 403, 403, 403)
ADMIN_CREATE = (401, 201, 403, 403, 403, 403)
ADMIN_ACTION = (401, 200, 403, 403, 403, 403)
AUDIT_READ = (401, 200, 403, 403, 403, 200)

MATRIX: dict[tuple[str, str], tuple[Builder, tuple[int, ...]]] = {
    ("GET", "/health"): (lambda w: ("/health", None), PUBLIC),
    ("GET", "/ready"): (lambda w: ("/ready", None), PUBLIC),
    ("POST", "/v1/campaigns"): (
        lambda w: (
            "/v1/campaigns",
            {
                "code": f"tuong-duong-{next(_n)}",
                "title": "Lũ",
                "kind": "flood",
                "unit_code": "ky-son",
            },
        ),
        # The sibling officer may not name ky-son: it is absent to them (422 unit_not_found).
        (401, 201, 201, 422, 201, 403),
    ),
    ("GET", "/v1/campaigns"): (lambda w: ("/v1/campaigns", None), ANY_READ),
    ("GET", "/v1/campaigns/{code}"): (lambda w: (f"/v1/campaigns/{w.code}", None), CAMPAIGN_READ),
    ("PATCH", "/v1/campaigns/{code}"): (
        lambda w: (f"/v1/campaigns/{w.code}", {"title": f"Lũ quét {next(_n)}"}),
        CAMPAIGN_ACTION,
    ),
    ("POST", "/v1/donors"): (
        lambda w: ("/v1/donors", {"name": "Trần Thị Bình", "kind": "individual"}),
        STAFF_CREATE,
    ),
    ("GET", "/v1/donors"): (lambda w: ("/v1/donors", None), ANY_READ),
    ("GET", "/v1/donors/{donor_id}"): (
        lambda w: (f"/v1/donors/{w.donor_id}", None),
        CAMPAIGN_READ,  # recorded by ky-son: out of the sibling's reach
    ),
    ("POST", "/v1/campaigns/{code}/pledges"): (
        lambda w: (f"/v1/campaigns/{w.code}/pledges", {"donor_id": w.donor_id, "amount": "5"}),
        CAMPAIGN_WRITE,
    ),
    ("GET", "/v1/campaigns/{code}/pledges"): (
        lambda w: (f"/v1/campaigns/{w.code}/pledges", None),
        CAMPAIGN_READ,
    ),
    ("GET", "/v1/pledges/{pledge_id}"): (
        lambda w: (f"/v1/pledges/{_pledge(w)}", None),
        CAMPAIGN_READ,
    ),
    ("POST", "/v1/pledges/{pledge_id}/cancel"): (
        lambda w: (f"/v1/pledges/{_pledge(w)}/cancel", {"reason": "Nhập trùng"}),
        CAMPAIGN_ACTION,
    ),
    ("POST", "/v1/campaigns/{code}/contributions"): (
        lambda w: (
            f"/v1/campaigns/{w.code}/contributions",
            {"amount": "5", "received_on": "2022-10-05", "method": "cash"},
        ),
        CAMPAIGN_WRITE,
    ),
    ("GET", "/v1/campaigns/{code}/contributions"): (
        lambda w: (f"/v1/campaigns/{w.code}/contributions", None),
        CAMPAIGN_READ,
    ),
    ("GET", "/v1/contributions/{contribution_id}"): (
        lambda w: (f"/v1/contributions/{_contribution(w)}", None),
        CAMPAIGN_READ,
    ),
    ("POST", "/v1/contributions/{contribution_id}/reverse"): (
        lambda w: (f"/v1/contributions/{_contribution(w)}/reverse", {"reason": "Nhập sai"}),
        CAMPAIGN_ACTION,
    ),
    ("POST", "/v1/locations"): (
        lambda w: ("/v1/locations", {"name": "Xã Mường Xén", "level": "commune"}),
        STAFF_CREATE,
    ),
    ("GET", "/v1/locations"): (lambda w: ("/v1/locations", None), ANY_READ),
    ("GET", "/v1/locations/{location_id}"): (
        lambda w: (f"/v1/locations/{w.location_id}", None),
        ANY_READ,
    ),
    ("POST", "/v1/campaigns/{code}/allocations"): (
        lambda w: (
            f"/v1/campaigns/{w.code}/allocations",
            {"location_id": w.location_id, "amount": "5", "purpose": "Gạo"},
        ),
        CAMPAIGN_WRITE,
    ),
    ("GET", "/v1/campaigns/{code}/allocations"): (
        lambda w: (f"/v1/campaigns/{w.code}/allocations", None),
        CAMPAIGN_READ,
    ),
    ("GET", "/v1/allocations/{allocation_id}"): (
        lambda w: (f"/v1/allocations/{_allocation(w)}", None),
        CAMPAIGN_READ,
    ),
    ("POST", "/v1/allocations/{allocation_id}/deliver"): (
        lambda w: (f"/v1/allocations/{_allocation(w)}/deliver", {"delivered_on": "2022-10-06"}),
        CAMPAIGN_ACTION,
    ),
    ("POST", "/v1/allocations/{allocation_id}/cancel"): (
        lambda w: (f"/v1/allocations/{_allocation(w)}/cancel", None),
        CAMPAIGN_ACTION,
    ),
    ("GET", "/v1/campaigns/{code}/reconciliation"): (
        lambda w: (f"/v1/campaigns/{w.code}/reconciliation", None),
        CAMPAIGN_READ,
    ),
    ("GET", "/v1/campaigns/{code}/distribution"): (
        lambda w: (f"/v1/campaigns/{w.code}/distribution?level=district", None),
        CAMPAIGN_READ,
    ),
    ("GET", "/v1/campaigns/{code}/iati.xml"): (
        lambda w: (f"/v1/campaigns/{w.code}/iati.xml", None),
        CAMPAIGN_READ,
    ),
    ("POST", "/v1/items"): (
        lambda w: ("/v1/items", {"code": f"goat-{next(_n)}", "name": "Dê giống", "unit": "con"}),
        STAFF_CREATE,
    ),
    ("GET", "/v1/items"): (lambda w: ("/v1/items", None), ANY_READ),
    ("GET", "/v1/items/{item_code}"): (lambda w: (f"/v1/items/{_item(w)}", None), ANY_READ),
    ("POST", "/v1/campaigns/{code}/statements"): (
        lambda w: (f"/v1/campaigns/{w.code}/statements", STATEMENT),
        CAMPAIGN_ACTION,
    ),
    ("POST", "/v1/campaigns/{code}/accounts"): (
        lambda w: (
            f"/v1/campaigns/{w.code}/accounts",
            {"bank": "Vietcombank", "number": f"0101{next(_n):08d}", "holder": "UBMTTQ"},
        ),
        CAMPAIGN_WRITE,
    ),
    ("GET", "/v1/campaigns/{code}/accounts"): (
        lambda w: (f"/v1/campaigns/{w.code}/accounts", None),
        CAMPAIGN_READ,
    ),
    ("GET", "/v1/public/accounts/{number}"): (
        lambda w: ("/v1/public/accounts/0101-0000-1234", None),
        PUBLIC,
    ),
    ("POST", "/v1/receiving-accounts/{account_id}/feed-secrets"): (
        lambda w: (f"/v1/receiving-accounts/{_account(w)[0]}/feed-secrets", None),
        CAMPAIGN_WRITE,
    ),
    ("GET", "/v1/receiving-accounts/{account_id}/feed-secrets"): (
        lambda w: (f"/v1/receiving-accounts/{_account(w)[0]}/feed-secrets", None),
        CAMPAIGN_READ,
    ),
    ("POST", "/v1/feed-secrets/{secret_id}/revoke"): (
        lambda w: (f"/v1/feed-secrets/{_feed_secret(w)}/revoke", None),
        CAMPAIGN_ACTION,
    ),
    # Signed by the bank: accepted whatever API key (or none) comes with it. Unsigned, every
    # caller is refused alike (tests/feed).
    ("POST", "/v1/receiving-accounts/{account_id}/feed"): (_feed_post, (200,) * 6),
    ("GET", "/v1/public/campaigns"): (lambda w: ("/v1/public/campaigns", None), PUBLIC),
    ("GET", "/v1/public/campaigns/{code}"): (
        lambda w: (f"/v1/public/campaigns/{w.code}", None),
        PUBLIC,
    ),
    ("GET", "/v1/public/campaigns/{code}/contributions"): (
        lambda w: (f"/v1/public/campaigns/{w.code}/contributions", None),
        PUBLIC,
    ),
    ("GET", "/v1/public/receipts/{receipt_code}"): (
        lambda w: (f"/v1/public/receipts/{_receipt(w)}", None),
        PUBLIC,
    ),
    ("GET", "/v1/public/signing-key"): (lambda w: ("/v1/public/signing-key", None), PUBLIC),
    ("GET", "/v1/public/signing-keys"): (lambda w: ("/v1/public/signing-keys", None), PUBLIC),
    ("GET", "/v1/public/auditor-keys"): (lambda w: ("/v1/public/auditor-keys", None), PUBLIC),
    ("GET", "/v1/public/campaigns/{code}/checkpoint"): (
        lambda w: (f"/v1/public/campaigns/{w.code}/checkpoint", None),
        PUBLIC,
    ),
    ("GET", "/v1/public/campaigns/{code}/checkpoints/{size}"): (
        lambda w: (f"/v1/public/campaigns/{w.code}/checkpoints/3", None),
        PUBLIC,
    ),
    ("GET", "/v1/public/campaigns/{code}/proofs/inclusion"): (
        lambda w: (f"/v1/public/campaigns/{w.code}/proofs/inclusion?index=0", None),
        PUBLIC,
    ),
    ("GET", "/v1/public/campaigns/{code}/proofs/consistency"): (
        lambda w: (f"/v1/public/campaigns/{w.code}/proofs/consistency?from=1&to=3", None),
        PUBLIC,
    ),
    ("POST", "/v1/campaigns/{code}/checkpoints"): (
        lambda w: (f"/v1/campaigns/{w.code}/checkpoints", None),
        CAMPAIGN_WRITE,
    ),
    ("POST", "/v1/auditor-keys"): (
        lambda w: ("/v1/auditor-keys", {"vkey": _auditor_vkey()[1]}),
        (401, 201, 403, 403, 403, 201),
    ),
    ("POST", "/v1/campaigns/{code}/checkpoints/{size}/cosignatures"): (
        _cosignature,
        # Only the auditor who registered the key may post its cosignature (admins: 422).
        (401, 422, 403, 403, 403, 201),
    ),
    ("GET", "/v1/campaigns/{code}/ledger"): (
        lambda w: (f"/v1/campaigns/{w.code}/ledger", None),
        CAMPAIGN_READ,
    ),
    ("GET", "/v1/audit"): (lambda w: ("/v1/audit", None), AUDIT_READ),
    ("GET", "/v1/audit/verify"): (lambda w: ("/v1/audit/verify", None), AUDIT_READ),
    ("POST", "/v1/units"): (
        lambda w: ("/v1/units", {"code": f"xa-{next(_n)}", "name": "Xã", "parent_code": "ky-son"}),
        ADMIN_CREATE,
    ),
    ("GET", "/v1/units"): (lambda w: ("/v1/units", None), ADMIN_READ),
    ("POST", "/v1/keys"): (
        lambda w: ("/v1/keys", {"role": "auditor", "name": "Kiểm toán viên"}),
        ADMIN_CREATE,
    ),
    ("GET", "/v1/keys"): (lambda w: ("/v1/keys", None), ADMIN_READ),
    ("POST", "/v1/keys/{key_id}/revoke"): (
        lambda w: (f"/v1/keys/{_key(w)}/revoke", None),
        ADMIN_ACTION,
    ),
}


def _routes(client: TestClient) -> set[tuple[str, str]]:
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    return {(method.upper(), path) for path, ops in paths.items() for method in ops}


def test_every_route_is_in_the_matrix(client):
    routes = _routes(client)
    assert routes - MATRIX.keys() == set(), "add these routes to MATRIX"
    assert MATRIX.keys() - routes == set(), "these routes no longer exist"


CASES = [(route, who) for route in MATRIX for who in PRINCIPALS]


def test_matrix_size():
    # Reported in the closing note: endpoints × principals.
    assert len(CASES) == len(MATRIX) * len(PRINCIPALS)


@pytest.mark.parametrize(
    ("route", "who"), CASES, ids=[f"{m} {p} as {who}" for (m, p), who in CASES]
)
def test_authorisation_matrix(world: World, route: tuple[str, str], who: str):
    build, statuses = MATRIX[route]
    path, body = build(world)
    expected = statuses[PRINCIPALS.index(who)]
    if isinstance(body, bytes):  # a CSV statement
        headers = {**world.headers[who], "Content-Type": "text/csv"}
        response = world.client.request(route[0], path, content=body, headers=headers)
    elif isinstance(body, SignedJson):  # a bank feed post
        headers = {
            **world.headers[who],
            "Content-Type": "application/json",
            "X-Relief-Signature": body.signature,
        }
        response = world.client.request(route[0], path, content=body.raw, headers=headers)
    else:
        response = world.client.request(route[0], path, json=body, headers=world.headers[who])
    assert response.status_code == expected, f"{route} as {who}: {response.text}"
    if expected >= 400:
        assert response.headers["content-type"] == "application/problem+json"
    if expected == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")
    if expected == 404 and who == "sibling":
        # Out of reach answers exactly as absent: nothing of the record leaks.
        assert response.json()["code"].endswith("_not_found")
