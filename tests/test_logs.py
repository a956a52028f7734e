"""Log lines (app/logs.py): one JSON object per request with its id, key id, campaign,
method, route, status and duration, and never the key's token; plain text on demand."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from app import logs
from tests.support import factories as f


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """Every log line the service writes, rendered as in production (LOG_FORMAT=json)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.formatter("json"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_each_request_logs_one_json_line_without_the_token(client, admin_token, json_lines):
    code = f.campaign(client)["code"]
    json_lines.truncate(0)
    json_lines.seek(0)
    response = client.post(
        f"/v1/campaigns/{code}/contributions",
        json={"amount": "500000", "received_on": "2022-10-05", "method": "cash"},
        headers={"X-Request-ID": "req-ky-son-1"},
    )
    assert response.status_code == 201
    refused = client.get("/v1/campaigns", headers={"Authorization": "Bearer not-a-key"})
    assert refused.status_code == 401

    text = json_lines.getvalue()
    assert admin_token not in text
    assert "not-a-key" not in text
    access = [line for line in _lines(json_lines) if line["logger"] == logs.ACCESS_LOGGER]
    assert len(access) == 2  # one line per request, uvicorn's access log is off
    written, denied = access
    key_id = f.ok(client.get("/v1/keys"), 200)["items"][0]["id"]
    assert {k: written[k] for k in written if k not in ("timestamp", "duration_ms")} == {
        "event": "request",
        "level": "info",
        "logger": "relief.access",
        "request_id": "req-ky-son-1",
        "key_id": key_id,
        "campaign": code,
        "method": "POST",
        "route": "/v1/campaigns/{code}/contributions",
        "path": f"/v1/campaigns/{code}/contributions",
        "status": 201,
    }
    assert isinstance(written["duration_ms"], float) and written["duration_ms"] > 0
    assert written["timestamp"].endswith("Z")
    assert denied["key_id"] is None
    assert denied["campaign"] is None
    assert (denied["route"], denied["status"]) == ("/v1/campaigns", 401)
    assert len(denied["request_id"]) == 32  # made up: the client sent none


def test_lines_of_other_loggers_carry_the_request_id(client, json_lines):
    # A stdlib logger used inside a request (the transparency service says it signs no
    # checkpoint after an import: the test has no signing key) renders as JSON with the
    # request's id bound.
    code = f.campaign(client)["code"]
    statement = (
        "Ngày GD,Số CT,Số tiền ghi nợ,Số tiền ghi có,Số dư,Nội dung chi tiết\n"
        "01/10/2022,5000.11,,500.000,1.500.000,ung ho dong bao lu lut\n"
    )
    response = client.post(
        f"/v1/campaigns/{code}/statements",
        content=statement,
        headers={"Content-Type": "text/csv", "X-Request-ID": "req-import"},
    )
    assert response.status_code == 200, response.text
    inside = [
        line
        for line in _lines(json_lines)
        if line["logger"] == "app.transparency.service" and line.get("request_id") == "req-import"
    ]
    assert [line["event"] for line in inside] == [f"no signing key: no checkpoint for {code}"]
    assert inside[0]["level"] == "info"


def test_text_format_for_development():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.formatter("text"))
    logger = logging.getLogger("relief.test-text")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        logs.configure("text")
        logger.info("hello %s", "Kỳ Sơn")
    finally:
        logger.removeHandler(handler)
        logs.configure("json")
    line = stream.getvalue()
    assert "hello Kỳ Sơn" in line
    assert not line.lstrip().startswith("{")
    assert logging.getLogger("uvicorn.access").disabled is True
