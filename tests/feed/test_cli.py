"""`relief feed secret`, run as a real process against a real server process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.feed.support import sign, transfer
from tests.support.live_server import LiveServer, serve

RELIEF = Path(sys.executable).parent / "relief"

pytestmark = pytest.mark.slow


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    with serve(database_url, tmp_path / "uvicorn.log") as live:
        yield live


def relief(*args: str, server: LiveServer) -> subprocess.CompletedProcess[str]:
    token = server.headers["Authorization"].removeprefix("Bearer ")
    command = [str(RELIEF), *args, "--server", server.base_url, "--token", token]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "120"}
    )


def test_the_printed_secret_signs_posts_the_feed_accepts(server):
    with httpx.Client(base_url=server.base_url, headers=server.headers) as http:
        code = "ky-son-flood-2022"
        body = {"code": code, "title": "Ủng hộ đồng bào Kỳ Sơn", "kind": "flood"}
        assert http.post("/v1/campaigns", json=body).status_code == 201
        assert http.patch(f"/v1/campaigns/{code}", json={"status": "open"}).status_code == 200
        account = http.post(
            f"/v1/campaigns/{code}/accounts",
            json={"bank": "Vietcombank", "number": "0011004012345", "holder": "MTTQ"},
        ).json()
    result = relief("feed", "secret", str(account["id"]), server=server)
    assert result.returncode == 0, result.stderr
    secret = result.stdout.strip().splitlines()[-1]
    assert secret.startswith("rlfeed_") and len(secret) == len("rlfeed_") + 43
    raw = httpx.Request("POST", "/", json=transfer()).content
    answer = httpx.post(
        f"{server.base_url}/v1/receiving-accounts/{account['id']}/feed",
        content=raw,
        headers={"Content-Type": "application/json", "X-Relief-Signature": sign(secret, raw)},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["outcome"] == "booked"

    missing = relief("feed", "secret", "999999", server=server)
    assert missing.returncode == 1
    assert "404" in missing.stderr
