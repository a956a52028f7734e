"""The `relief` command line, run as a real process against a real server process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.live_server import LiveServer, free_port, serve

DATA = Path(__file__).parent / "data"
VCB = DATA / "statement-vcb-style.csv"
RELIEF = Path(sys.executable).parent / "relief"
TOKEN = "rl_test_token"

pytestmark = pytest.mark.slow


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """One uvicorn worker serving the test's database."""
    with serve(database_url, tmp_path / "uvicorn.log") as live:
        yield live


def relief(*args: str | Path, server: LiveServer | str) -> subprocess.CompletedProcess[str]:
    if isinstance(server, str):
        url, token = server, TOKEN
    else:
        url, token = server.base_url, server.headers["Authorization"].removeprefix("Bearer ")
    command = [str(RELIEF), *map(str, args), "--server", url, "--token", token]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "120"}
    )


def _ok(response: httpx.Response, status: int = 201) -> dict:
    assert response.status_code == status, response.text
    return response.json()


@pytest.fixture
def campaign(server: LiveServer) -> str:
    with httpx.Client(base_url=server.base_url, headers=server.headers) as http:
        body = {"code": "ky-son-flood-2022", "title": "Ủng hộ đồng bào Kỳ Sơn", "kind": "flood"}
        _ok(http.post("/v1/campaigns", json=body))
        _ok(http.patch("/v1/campaigns/ky-son-flood-2022", json={"status": "open"}), 200)
        donor = _ok(http.post("/v1/donors", json={"name": "Công ty X", "kind": "business"}))
        for reference in ("KS-9PLD", "KS-7Q4M", "KS-2HXA"):
            pledge = {"donor_id": donor["id"], "amount": "50000000", "reference": reference}
            _ok(http.post("/v1/campaigns/ky-son-flood-2022/pledges", json=pledge))
    return "ky-son-flood-2022"


def reconciliation(server: LiveServer, code: str) -> bytes:
    response = httpx.get(
        f"{server.base_url}/v1/campaigns/{code}/reconciliation", headers=server.headers
    )
    assert response.status_code == 200, response.text
    return response.content


def test_import_prints_the_report_and_a_second_run_finds_duplicates(server, campaign):
    done = relief("import-statement", VCB, "--campaign", campaign, server=server)
    assert done.returncode == 0, done.stderr
    table = {
        cells[0]: cells[1]
        for line in done.stdout.splitlines()
        if len(cells := [c.strip() for c in line.strip("│| ").split("│")]) == 2
    }
    assert {k: table.get(k) for k in ("rows", "imported", "matched", "skipped")} == {
        "rows": "400",
        "imported": "390",
        "matched": "35",
        "skipped": "10",
    }
    again = relief("import-statement", VCB, "--campaign", campaign, "--json", server=server)
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert (report["imported"], report["duplicates"], report["dry_run"]) == (0, 390, False)


def test_dry_run_writes_nothing(server, campaign):
    before = reconciliation(server, campaign)
    done = relief(
        "import-statement", VCB, "--campaign", campaign, "--dry-run", "--json", server=server
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["dry_run"] is True
    assert json.loads(done.stdout)["imported"] == 390
    assert reconciliation(server, campaign) == before


def test_a_bad_file_prints_every_bad_line_and_fails(server, campaign, tmp_path):
    bad = tmp_path / "sao-ke.csv"
    bad.write_text(
        "date,amount,description,bank_reference\n"
        "01/10/2022,100.000,ung ho,R1\n"
        "31/02/2022,100.000,ung ho,R2\n"
        '01/10/2022,"1,5",ung ho,R3\n',
        encoding="utf-8",
    )
    before = reconciliation(server, campaign)
    done = relief("import-statement", bad, "--campaign", campaign, server=server)
    assert done.returncode == 1
    assert "line 3:" in done.stderr and "line 4:" in done.stderr and "line 2:" not in done.stderr
    assert "422" in done.stderr
    assert reconciliation(server, campaign) == before


def test_an_unknown_campaign_fails_with_the_servers_reason(server):
    done = relief("import-statement", VCB, "--campaign", "no-such-campaign", server=server)
    assert done.returncode == 1
    assert "404" in done.stderr and "no-such-campaign" in done.stderr


def test_an_unreachable_server_is_a_clear_error(tmp_path):
    nobody = f"http://127.0.0.1:{free_port()}"
    done = relief("import-statement", VCB, "--campaign", "x", server=nobody)
    assert done.returncode == 2
    assert "could not reach" in done.stderr and "Traceback" not in done.stderr
    export = relief("export", "reconciliation", "x", server=nobody)
    assert export.returncode == 2 and "could not reach" in export.stderr


def test_export_reconciliation_is_the_api_body_byte_for_byte(server, campaign, tmp_path):
    assert relief("import-statement", VCB, "--campaign", campaign, server=server).returncode == 0
    api = reconciliation(server, campaign)
    done = subprocess.run(
        [str(RELIEF), "export", "reconciliation", campaign, "--server", server.base_url,
         "--token", server.headers["Authorization"].removeprefix("Bearer ")],
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == api
    target = tmp_path / "reconciliation.json"
    written = relief("export", "reconciliation", campaign, "--output", target, server=server)
    assert written.returncode == 0, written.stderr
    assert target.read_bytes() == api
    as_of = json.loads(api)["as_of"]
    then = relief("export", "reconciliation", campaign, "--as-of", as_of, server=server)
    assert then.returncode == 0 and json.loads(then.stdout) == json.loads(api)
    missing = relief("export", "reconciliation", "no-such-campaign", server=server)
    assert missing.returncode == 1 and "404" in missing.stderr


@pytest.mark.parametrize(
    "command", [(), ("import-statement",), ("export",), ("export", "reconciliation")]
)
def test_every_command_explains_itself_with_examples(command):
    done = subprocess.run([str(RELIEF), *command, "--help"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "Example" in done.stdout and "relief " in done.stdout
