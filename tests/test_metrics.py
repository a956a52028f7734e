"""GET /metrics: scraped before and after writes, imports and verifications, every counter
moves by exactly what was committed (app/metrics.py)."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from app import metrics
from app.config import get_settings
from app.main import create_app
from tests.support import factories as f
from tests.support.live_server import serve
from tests.support.metrics import moved, scrape

CSV = {"Content-Type": "text/csv"}
# Three credits and one debit (a bank fee), with balances that add up.
STATEMENT = (
    "Ngày GD,Số CT,Số tiền ghi nợ,Số tiền ghi có,Số dư,Nội dung chi tiết\n"
    "01/10/2022,5000.11,,500.000,1.500.000,MBVCB.1.VO THANH SON.ung ho dong bao lu lut\n"
    "01/10/2022,5000.12,,300.000,1.800.000,QR - HOANG HOAI TRANG ung ho dong bao\n"
    "02/10/2022,5000.13,10.000,,1.790.000,Phi chuyen tien\n"
    "02/10/2022,5000.14,,200.000,1.990.000,ung ho dong bao lu lut Ky Son - PHAN HOAI LAN\n"
)
CONTRIBUTIONS = "/v1/campaigns/{code}/contributions"
RECONCILIATION = "/v1/campaigns/{code}/reconciliation"


def test_counters_move_by_what_was_committed(client, db):
    code = f.campaign(client)["code"]
    donor = f.donor(client)
    pledge = f.pledge(client, code, donor["id"], 1_000_000)
    before = scrape(client)

    for amount in (100_000, 200_000, 300_000):
        f.contribution(client, code, amount)
    # Refused (over what was received): rolled back, so it wrote no entry.
    place = f.location(client)
    refused = client.post(
        f"/v1/campaigns/{code}/allocations",
        json={
            "location_id": place["id"],
            "amount": "999000000",
            "purpose": "Hỗ trợ làm nhà",
            "allocated_on": "2022-10-06",
        },
    )
    assert refused.status_code == 409, refused.text
    report = f.ok(
        client.post(f"/v1/campaigns/{code}/statements", content=STATEMENT, headers=CSV), 200
    )
    assert (report["imported"], report["duplicates"], report["skipped"]) == (3, 0, 1)
    again = f.ok(
        client.post(f"/v1/campaigns/{code}/statements", content=STATEMENT, headers=CSV), 200
    )
    assert (again["imported"], again["duplicates"], again["skipped"]) == (0, 3, 1)
    # A dry run writes and counts nothing.
    dry = client.post(
        f"/v1/campaigns/{code}/statements",
        content=STATEMENT,
        headers=CSV,
        params={"dry_run": "true"},
    )
    assert dry.status_code == 200, dry.text
    assert f.checks_ok(f.reconciliation(client, code, verify="full"))
    assert f.ok(client.get("/v1/audit/verify"), 200)["ok"] is True

    after = scrape(client)
    entries = "relief_ledger_entries_total"
    assert moved(before, after, entries, kind="contribution_recorded") == 3 + 3
    assert moved(before, after, entries, kind="allocation_recorded") == 0
    rows = "relief_statement_rows_total"
    assert moved(before, after, rows, outcome="imported") == 3
    assert moved(before, after, rows, outcome="duplicate") == 3
    assert moved(before, after, rows, outcome="skipped") == 2
    failures = "relief_verify_failures_total"
    assert moved(before, after, failures, check="reconciliation") == 0
    assert moved(before, after, failures, check="audit") == 0
    requests = "relief_http_requests_total"
    route = "/v1/campaigns/{code}/contributions"
    assert moved(before, after, requests, method="POST", route=route, status="201") == 3
    assert (
        moved(
            before,
            after,
            requests,
            method="POST",
            route=route.replace("contributions", "allocations"),
            status="409",
        )
        == 1
    )
    statements = "/v1/campaigns/{code}/statements"
    assert moved(before, after, requests, method="POST", route=statements, status="200") == 3
    assert moved(before, after, requests, method="GET", route="/metrics", status="200") == 1
    latency = "relief_http_request_duration_seconds_count"
    assert moved(before, after, latency, method="POST", route=route) == 3
    # The raw path (with the campaign's code) never becomes a label.
    assert not any(code in value for _, labels in after for _, value in labels), (
        "a campaign code leaked into a label"
    )

    # Tampering makes both verifications fail, and each failure counts once.
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE pledges SET amount = '1' WHERE id = :id"), {"id": pledge["id"]})
    assert not f.checks_ok(f.reconciliation(client, code, verify="full"))
    assert f.ok(client.get("/v1/audit/verify"), 200)["ok"] is False
    f.reconciliation(client, code)  # verify=kept reads the kept balances only: no failure
    tampered = scrape(client)
    assert moved(after, tampered, failures, check="reconciliation") == 1
    assert moved(after, tampered, failures, check="audit") == 1


def test_unmatched_paths_share_one_series(client):
    before = scrape(client)
    for path in ("/nothing-here", "/v1/nope/1", "/v1/nope/2"):
        assert client.get(path).status_code == 404
    after = scrape(client)
    assert (
        moved(
            before,
            after,
            "relief_http_requests_total",
            method="GET",
            route="unmatched",
            status="404",
        )
        == 3
    )


def test_feed_posts_count_refusals_at_once_and_acceptances_on_commit(db):
    before = metrics.FEED_POSTS.labels("refused")._value.get()
    metrics.feed_post("refused")
    assert metrics.FEED_POSTS.labels("refused")._value.get() == before + 1

    accepted = metrics.FEED_POSTS.labels("accepted")._value.get()
    with db.session() as session:
        metrics.feed_post("accepted", session=session)
        session.execute(text("SELECT 1"))
        session.rollback()
    assert metrics.FEED_POSTS.labels("accepted")._value.get() == accepted
    with db.session() as session:
        metrics.feed_post("accepted", session=session)
        session.execute(text("SELECT 1"))
        session.commit()
    assert metrics.FEED_POSTS.labels("accepted")._value.get() == accepted + 1


def test_pool_use_is_reported(client):
    samples = scrape(client)
    states = {dict(labels)["state"] for name, labels in samples if name == "relief_db_pool"}
    assert states >= {"checked_out", "idle", "size", "writers_holding", "writers_waiting"}
    # The scrape itself holds no turn and no connection.
    assert samples[("relief_db_pool", frozenset({("state", "writers_holding")}))] == 0
    assert samples[("relief_db_pool", frozenset({("state", "checked_out")}))] == 0


def test_metrics_is_not_in_the_api_document_and_can_be_turned_off(
    client, database_url, monkeypatch
):
    assert "/metrics" not in client.get("/openapi.json").json()["paths"]
    monkeypatch.setattr(get_settings(), "metrics_enabled", False)
    with TestClient(create_app(database_url)) as other:
        assert other.get("/metrics").status_code == 404


@pytest.mark.slow
def test_several_workers_add_up_in_multiprocess_mode(database_url, tmp_path, monkeypatch):
    # uvicorn --workers 2 with PROMETHEUS_MULTIPROC_DIR: whichever worker answers the
    # scrape, it counts the writes of both.
    directory = tmp_path / "prometheus"
    directory.mkdir()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))
    with (
        serve(database_url, tmp_path / "uvicorn.log", workers=2) as live,
        httpx.Client(base_url=live.base_url, headers=live.headers, timeout=60) as http,
    ):
        code = "ky-son-flood-2022"
        body = {"code": code, "title": "Ủng hộ đồng bào Kỳ Sơn bị lũ quét", "kind": "flood"}
        assert http.post("/v1/campaigns", json=body).status_code == 201
        assert http.patch(f"/v1/campaigns/{code}", json={"status": "open"}).status_code == 200
        for amount in range(1, 21):
            gift = {"amount": str(amount * 1000), "received_on": "2022-10-05", "method": "cash"}
            # A new connection each time, so both workers take some.
            response = httpx.post(
                f"{live.base_url}/v1/campaigns/{code}/contributions",
                json=gift,
                headers=live.headers,
            )
            assert response.status_code == 201, response.text
        for _ in range(4):
            scraped = httpx.get(f"{live.base_url}/metrics")
            assert scraped.status_code == 200
            samples = {
                (sample.name, frozenset(sample.labels.items())): sample.value
                for family in text_string_to_metric_families(scraped.text)
                for sample in family.samples
            }
            key = ("relief_ledger_entries_total", frozenset({("kind", "contribution_recorded")}))
            assert samples[key] == 20
    assert len(list(directory.glob("counter_*.db"))) == 2  # one file per worker
