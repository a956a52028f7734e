"""Idempotency-Key: a resent POST replays the first answer and records nothing twice."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select, text, update

from app.contributions.models import Contribution
from app.db import utcnow
from app.idempotency.models import IdempotencyRecord
from app.idempotency.service import RETENTION, purge
from tests.support import factories as f
from tests.support.clients import bearer, issue_key
from tests.support.live_server import race

DONOR = {"name": "Nguyễn Văn An", "kind": "individual"}


def _key(value: str) -> dict[str, str]:
    return {"Idempotency-Key": value}


def _count(db, model) -> int:
    with db.session(read_only=True) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_same_key_same_body_replays_the_first_answer(client, db):
    code = f.campaign(client)["code"]
    body = {"amount": "500000", "received_on": "2022-10-05", "method": "cash"}
    first = client.post(f"/v1/campaigns/{code}/contributions", json=body, headers=_key("k-1"))
    again = client.post(f"/v1/campaigns/{code}/contributions", json=body, headers=_key("k-1"))
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()  # the same receipt code: one contribution
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert _count(db, Contribution) == 1
    assert f.money(f.reconciliation(client, code))["received"] == "500000"


def test_same_key_different_body_is_refused(client, db):
    f.ok(client.post("/v1/donors", json=DONOR, headers=_key("k-2")))
    other = client.post("/v1/donors", json={**DONOR, "name": "Trần Thị Bình"}, headers=_key("k-2"))
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    # Another path with the same key and body is a different request too.
    moved = client.post("/v1/locations", json=DONOR, headers=_key("k-2"))
    assert moved.json()["code"] == "idempotency_key_reused"
    assert _count(db, IdempotencyRecord) == 1


def test_holders_never_collide(client, db):
    other = bearer(issue_key(db, "admin"))
    a = f.ok(client.post("/v1/donors", json=DONOR, headers=_key("shared")))
    b = f.ok(client.post("/v1/donors", json=DONOR, headers={**other, **_key("shared")}))
    assert a["id"] != b["id"]


def test_failures_are_not_remembered(client):
    code = f.campaign(client, status="draft")["code"]
    body = {"amount": "1000", "received_on": "2022-10-05", "method": "cash"}
    path = f"/v1/campaigns/{code}/contributions"
    assert client.post(path, json=body, headers=_key("k-3")).status_code == 409
    f.ok(client.patch(f"/v1/campaigns/{code}", json={"status": "open"}), 200)
    assert client.post(path, json=body, headers=_key("k-3")).status_code == 201


def test_a_bad_key_is_a_clear_422(client):
    response = client.post("/v1/donors", json=DONOR, headers=_key("x" * 256))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"


def test_key_creation_is_never_replayed_because_the_token_is_not_stored(client, db):
    body = {"role": "auditor", "name": "Kiểm toán viên"}
    first = f.ok(client.post("/v1/keys", json=body, headers=_key("k-4")))
    second = f.ok(client.post("/v1/keys", json=body, headers=_key("k-4")))
    assert first["token"] != second["token"]
    with db.session(read_only=True) as session:
        stored = session.execute(text("SELECT response_body FROM idempotency_records")).all()
    assert all(first["token"] not in (row[0] or "") for row in stored)


def test_keys_are_kept_seven_days_then_purged(client, db):
    first = f.ok(client.post("/v1/donors", json=DONOR, headers=_key("k-5")))
    with db.transaction() as session:
        assert purge(session) == 0  # a fresh record is kept
        stale = utcnow() - RETENTION - timedelta(minutes=1)
        session.execute(update(IdempotencyRecord).values(created_at=stale))
    with db.transaction() as session:
        assert purge(session) == 1
    again = f.ok(client.post("/v1/donors", json=DONOR, headers=_key("k-5")))
    assert again["id"] != first["id"]  # forgotten: the key is free again


@pytest.mark.slow
def test_twenty_parallel_requests_with_one_key_make_one_effect(live_server):
    with httpx.Client(
        base_url=live_server.base_url, timeout=60, headers=live_server.headers
    ) as client:
        code = "ky-son-idempotency"
        f.ok(client.post("/v1/campaigns", json={"code": code, "title": "Lũ", "kind": "flood"}))
        f.ok(client.patch(f"/v1/campaigns/{code}", json={"status": "open"}), 200)
        body = {"amount": "700000", "received_on": "2022-10-05", "method": "bank_transfer"}
        path = f"/v1/campaigns/{code}/contributions"
        responses = asyncio.run(race(live_server, [(path, body)] * 20, headers=_key("once")))
        statuses = Counter(r.status_code for r in responses)
        assert set(statuses) <= {201, 409}, [r.text for r in responses]
        receipts = {r.json()["receipt_code"] for r in responses if r.status_code == 201}
        assert len(receipts) == 1
        listed = f.ok(client.get(path), 200)["items"]
        assert [c["receipt_code"] for c in listed] == list(receipts)
        assert (
            f.money(f.ok(client.get(f"/v1/campaigns/{code}/reconciliation"), 200))["received"]
            == "700000"
        )
