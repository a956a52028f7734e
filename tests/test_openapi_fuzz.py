"""Schemathesis generates requests from our own OpenAPI document, valid and invalid alike.

Whatever it sends, the answer must never be a 5xx, every error must be problem+json,
and the ledger must still verify afterwards.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.support import factories as f
from tests.support.clients import bearer, issue_key

EXAMPLES_PER_OPERATION = 40


@pytest.fixture
def schema(client):
    # Something for generated requests to find: an open campaign with money, a pledge, an allocation.
    c = f.campaign(client, code="ky-son-flood-2022")
    donor = f.donor(client)
    f.pledge(client, c["code"], donor["id"], 1_000_000)
    f.contribution(client, c["code"], 500_000)
    f.allocation(client, c["code"], f.location(client)["id"], 100_000)
    return schemathesis.openapi.from_asgi("/openapi.json", client.app)


def _fuzz(operation, headers):
    label = f"{operation.method.upper()} {operation.path}"

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck)
    )
    def fuzz(case):
        # As an admin: without a key every request would stop at the 401.
        response = case.call(headers=headers)
        assert response.status_code < 500, f"{label}: {response.text}"
        if response.status_code >= 400:
            content_type = response.headers.get("content-type", [""])[0]
            assert content_type == "application/problem+json", f"{label}: {response.text}"

    fuzz()


def test_no_request_causes_a_server_error(schema, client):
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:
        _fuzz(operation, {"Authorization": client.headers["Authorization"]})
    # The fuzzer may well have revoked its own key (POST /v1/keys/1/revoke): verify with a new one.
    verifier = bearer(issue_key(client.app.state.database, "auditor"))
    assert f.ok(client.get("/v1/audit/verify", headers=verifier), 200)["ok"] is True
