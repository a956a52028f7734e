"""`relief export reconciliation --until --include-children --verify full`, run as a real
process against a real server: the API's body, byte for byte, for the same question."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.live_server import LiveServer, serve

RELIEF = Path(sys.executable).parent / "relief"

pytestmark = pytest.mark.slow


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    with serve(database_url, tmp_path / "uvicorn.log") as live:
        yield live


def _ok(response: httpx.Response, status: int = 201) -> None:
    assert response.status_code == status, response.text


def test_export_takes_until_include_children_and_verify_full(server):
    with httpx.Client(base_url=server.base_url, headers=server.headers) as http:
        for code, parent in (("nghe-an-2022", None), ("ky-son-2022", "nghe-an-2022")):
            body = {"code": code, "title": "Lũ quét Kỳ Sơn", "kind": "flood", "parent_code": parent}
            _ok(http.post("/v1/campaigns", json=body))
            _ok(http.patch(f"/v1/campaigns/{code}", json={"status": "open"}), 200)
        for code, received_on in (
            ("nghe-an-2022", "2022-10-05"),
            ("ky-son-2022", "2022-10-06"),
            ("ky-son-2022", "2022-11-06"),
        ):
            gift = {"amount": "1000000", "received_on": received_on, "method": "cash"}
            _ok(http.post(f"/v1/campaigns/{code}/contributions", json=gift))
        params = {"until": "2022-10-31", "include_children": "true", "verify": "full"}
        api = http.get("/v1/campaigns/nghe-an-2022/reconciliation", params=params)
        _ok(api, 200)
    assert api.json()["money"]["received"] == "2000000"
    assert api.json()["until"] == "2022-10-31"
    assert any(c["name"] == "records_match_entries" for c in api.json()["checks"])
    token = server.headers["Authorization"].removeprefix("Bearer ")
    done = subprocess.run(
        [str(RELIEF), "export", "reconciliation", "nghe-an-2022", "--until", "2022-10-31",
         "--include-children", "--verify", "full", "--server", server.base_url, "--token", token],
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == api.content
