"""Limits: bodies beyond the maximum are a 413 problem, declared or streamed; pages too."""

from __future__ import annotations

import json

from app.config import get_settings

DONOR = {"name": "Nguyễn Văn An", "kind": "individual"}


def _oversized() -> bytes:
    padding = "x" * (get_settings().max_body_bytes + 1)
    return json.dumps({**DONOR, "display_name": padding}).encode()


def test_a_declared_oversized_body_is_refused(client):
    response = client.post(
        "/v1/donors", content=_oversized(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "request_body_too_large"


def test_a_streamed_oversized_body_is_counted(client):
    body = _oversized()

    def chunks():
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    response = client.post(
        "/v1/donors", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert client.get("/v1/donors").json()["items"] == []


def test_a_body_within_the_limit_streams_fine(client):
    body = json.dumps(DONOR).encode()
    response = client.post(
        "/v1/donors",
        content=iter([body[:10], body[10:]]),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 201


def test_page_size_is_bounded(client):
    limit = get_settings().max_page_size
    assert client.get("/v1/donors", params={"limit": limit}).status_code == 200
    response = client.get("/v1/donors", params={"limit": limit + 1})
    assert response.status_code == 422
    assert response.json()["errors"][0]["type"] == "page_too_large"
