"""`relief signing-key create`, `relief checkpoint`, `relief cosign`, `relief verify …`.

The commands that talk to a server are pointed at the test's app: `httpx` clients are the
TestClient, and the offline verifier's urllib fetches are answered by it too."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app import cli_common
from app.cli import app
from app.transparency import signing, verify
from tests.support import factories as f

runner = CliRunner()
SERVER = "http://relief.test"


@pytest.fixture
def served(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    """Every `relief` command's requests go to the test's app."""

    def fetch(url: str) -> bytes:
        response = client.get(url.removeprefix(SERVER))
        if response.status_code != 200:
            raise verify.VerificationError(f"{url}: {response.status_code}")
        return response.content

    def to_app(server: str, token: str) -> TestClient:
        # The app is started already (the fixture's client): no second lifespan.
        return TestClient(client.app, headers={"Authorization": f"Bearer {token}"})

    monkeypatch.setattr(verify, "_get", fetch)
    monkeypatch.setattr(cli_common, "client", to_app)
    return client


def test_signing_key_create_writes_a_0600_key_and_prints_its_vkey(signing_key_path: Path):
    result = runner.invoke(app, ["signing-key", "create"])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(signing_key_path.stat().st_mode) == 0o600
    signer = signing.load(signing_key_path)
    assert signer is not None and result.stdout.strip() == signer.verifier.vkey
    again = runner.invoke(app, ["signing-key", "create"])
    assert again.exit_code == 1  # never overwrites a key
    assert runner.invoke(app, ["signing-key", "create", "--if-missing"]).exit_code == 0
    rotated = runner.invoke(app, ["signing-key", "create", "--rotate"])
    assert rotated.exit_code == 0
    assert rotated.stdout.strip() != signer.verifier.vkey
    retired = signing_key_path.with_name(
        f"{signing_key_path.name}.{signer.verifier.key_id.hex()}.retired"
    )
    kept = signing.load(retired)  # kept, and still 0600 (load refuses anything looser)
    assert kept is not None and kept.verifier == signer.verifier


def test_verify_receipt_and_consistency(served: TestClient, signing_key, tmp_path: Path):
    code = f.campaign(served)["code"]
    receipt = f.contribution(served, code, 250_000)["receipt_code"]
    token = served.headers["Authorization"].removeprefix("Bearer ")
    issued = runner.invoke(app, ["checkpoint", code, "--server", SERVER, "--token", token])
    assert issued.exit_code == 0, issued.output
    old = tmp_path / "old.checkpoint"
    old.write_text(issued.stdout)
    vkey = signing_key.verifier.vkey
    result = runner.invoke(app, ["verify", "receipt", receipt, "--server", SERVER, "--key", vkey])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"OK: {receipt} is entry ")
    for i in range(3):
        f.contribution(served, code, 10 + i)
    new = tmp_path / "new.checkpoint"
    new.write_text(f.ok(served.post(f"/v1/campaigns/{code}/checkpoints"))["note"])
    args = ["verify", "consistency", str(old), str(new), "--server", SERVER, "--key", vkey]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "append-only" in result.stdout
    # Another key, or a checkpoint edited by hand, fails.
    other = signing.Signer(signing_key.name, Ed25519PrivateKey.generate()).verifier.vkey
    assert runner.invoke(app, [*args[:-1], other]).exit_code == 1
    lines = new.read_text().split("\n")
    lines[1] = str(int(lines[1]) + 1)
    new.write_text("\n".join(lines))
    refused = runner.invoke(app, args)
    assert refused.exit_code == 1 and "FAILED" in refused.output
    wrong = runner.invoke(app, ["verify", "receipt", receipt, "--server", SERVER, "--key", other])
    assert wrong.exit_code == 1


def test_cosign_checks_consistency_then_posts_the_cosignature(
    served: TestClient, headers_for, signing_key, tmp_path: Path
):
    code = f.campaign(served)["code"]
    f.contribution(served, code, 1000)
    f.ok(served.post(f"/v1/campaigns/{code}/checkpoints"))
    auditor_token = headers_for("auditor")["Authorization"].removeprefix("Bearer ")
    key = tmp_path / "auditor.key"
    made = runner.invoke(
        app, ["signing-key", "create", "--auditor", "kiemtoan.gov.vn/relief", "--path", str(key)]
    )
    assert made.exit_code == 0, made.output
    auditor_vkey = made.stdout.strip()
    registered = served.post(
        "/v1/auditor-keys",
        json={"vkey": auditor_vkey},
        headers={"Authorization": f"Bearer {auditor_token}"},
    )
    assert registered.status_code == 201, registered.text
    args = ["cosign", code, "--key", str(key), "--name", "kiemtoan.gov.vn/relief"]
    args += ["--server", SERVER, "--token", auditor_token, "--log-key", signing_key.verifier.vkey]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    state = key.with_name("auditor.key.state.json")
    assert state.exists()
    f.contribution(served, code, 2000)
    f.ok(served.post(f"/v1/campaigns/{code}/checkpoints"))
    second = runner.invoke(app, args)
    assert second.exit_code == 0, second.output
    served_note = served.get(f"/v1/public/campaigns/{code}/checkpoint").text
    verify.open_checkpoint(served_note, signing_key.verifier, [verify.Verifier.parse(auditor_vkey)])
