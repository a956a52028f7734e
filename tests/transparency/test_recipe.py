"""The recipe of docs/auditors.md ("Checking without our code") runs as printed, against the
service, with nothing of ours: only the standard library and `cryptography`."""

from __future__ import annotations

import io
import re
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.support import factories as f

DOC = Path(__file__).resolve().parents[2] / "docs" / "auditors.md"
SERVER = "http://relief.test"


def recipe() -> str:
    section = DOC.read_text(encoding="utf-8").split("### Checking without our code", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found, "docs/auditors.md lost its recipe"
    return found.group(1)


def run(client, monkeypatch, *argv: str) -> str:
    def urlopen(url: str):
        response = client.get(url.removeprefix(SERVER))
        assert response.status_code == 200, response.text
        return io.BytesIO(response.content)

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    monkeypatch.setattr(sys, "argv", ["recipe.py", SERVER, *argv])
    printed = io.StringIO()
    monkeypatch.setattr(sys, "stdout", printed)
    source = recipe()
    assert "from app" not in source and "import app" not in source
    exec(compile(source, "recipe.py", "exec"), {"__name__": "__main__"})
    return printed.getvalue()


def test_the_recipe_proves_a_receipt(client, monkeypatch, signing_key):
    code = f.campaign(client)["code"]
    receipts = [f.contribution(client, code, 50_000 * (i + 1))["receipt_code"] for i in range(5)]
    f.ok(client.post(f"/v1/campaigns/{code}/checkpoints"))
    out = run(client, monkeypatch, receipts[2], signing_key.verifier.vkey)
    assert out.startswith(f"{receipts[2]}: entry ") and "signed by relief-ledger.localhost" in out


def test_the_recipe_refuses_another_key(client, monkeypatch, signing_key):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from app.transparency.signing import Signer

    code = f.campaign(client)["code"]
    receipt = f.contribution(client, code, 50_000)["receipt_code"]
    f.ok(client.post(f"/v1/campaigns/{code}/checkpoints"))
    other = Signer(signing_key.name, Ed25519PrivateKey.generate()).verifier.vkey
    with pytest.raises(SystemExit, match="no signature by that key"):
        run(client, monkeypatch, receipt, other)
