"""`relief export iati`, run as a real process against a real server: the API's body,
byte for byte, on stdout or in `--output`, and a clear error for an unknown campaign."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import xmlschema

from tests.support.live_server import LiveServer, serve

RELIEF = Path(sys.executable).parent / "relief"
SCHEMA = Path(__file__).parent / "schemas" / "iati-activities-schema.xsd"

pytestmark = pytest.mark.slow


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    with serve(database_url, tmp_path / "uvicorn.log") as live:
        yield live


def _ok(response: httpx.Response, status: int = 201) -> None:
    assert response.status_code == status, response.text


def relief(server: LiveServer, *args: str) -> subprocess.CompletedProcess[bytes]:
    token = server.headers["Authorization"].removeprefix("Bearer ")
    command = [str(RELIEF), "export", "iati", *args, "--server", server.base_url, "--token", token]
    return subprocess.run(command, capture_output=True, timeout=60)


def test_export_iati_writes_the_apis_document(server, tmp_path):
    with httpx.Client(base_url=server.base_url, headers=server.headers) as http:
        for code, parent in (("nghe-an-2022", None), ("ky-son-2022", "nghe-an-2022")):
            body = {"code": code, "title": "Lũ quét Kỳ Sơn", "kind": "flood", "parent_code": parent}
            _ok(http.post("/v1/campaigns", json=body))
            _ok(http.patch(f"/v1/campaigns/{code}", json={"status": "open"}), 200)
            gift = {"amount": "1000000", "received_on": "2022-10-05", "method": "cash"}
            _ok(http.post(f"/v1/campaigns/{code}/contributions", json=gift))
        api = http.get("/v1/campaigns/nghe-an-2022/iati.xml")
        _ok(api, 200)
    printed = relief(server, "nghe-an-2022")
    assert printed.returncode == 0, printed.stderr
    # Byte for byte but for the moment it was generated.
    assert printed.stdout.split(b"\n")[2:] == api.content.split(b"\n")[2:]
    assert printed.stdout.count(b"<iati-activity ") == 2
    output = tmp_path / "nghe-an-iati.xml"
    written = relief(server, "nghe-an-2022", "--output", str(output))
    assert written.returncode == 0, written.stderr
    assert b"wrote" in written.stderr
    xmlschema.XMLSchema(str(SCHEMA)).validate(str(output))
    missing = relief(server, "no-such-campaign")
    assert missing.returncode == 1
    assert b"404" in missing.stderr
