"""The transparency log through the HTTP API: checkpoints, proofs, cosignatures, keys.

Expected roots are computed here from the ledger the API serves, with the RFC's own
recursive definitions (tests/support/rfc9162.py); proofs are checked with the offline
verifier, which imports nothing of the service."""

from __future__ import annotations

import base64
import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.db import utcnow
from app.keys import scope
from app.keys.scope import Principal
from app.main import create_app
from app.transparency import service as transparency
from app.transparency import signing, verify
from tests.support import factories as f
from tests.support.clients import bearer, issue_key
from tests.support.rfc9162 import ref_mth

CSV = {"Content-Type": "text/csv"}


def entry_hashes(client: TestClient, code: str) -> list[bytes]:
    """The leaves: every entry's chain hash, in chain order, as the ledger endpoint serves them."""
    hashes, cursor = [], None
    while True:
        params = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        page = f.ok(client.get(f"/v1/campaigns/{code}/ledger", params=params), 200)
        hashes += [bytes.fromhex(e["hash"]) for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return hashes


def vkey(client: TestClient) -> str:
    response = client.get("/v1/public/signing-key")
    assert response.status_code == 200, response.text
    return response.text.strip()


def issue(client: TestClient, code: str) -> dict[str, Any]:
    return f.ok(client.post(f"/v1/campaigns/{code}/checkpoints"))


def campaign_with_gifts(client: TestClient, gifts: int) -> tuple[str, list[str]]:
    code = f.campaign(client)["code"]
    receipts = [
        f.contribution(client, code, 100_000 * (i + 1))["receipt_code"] for i in range(gifts)
    ]
    return code, receipts


def opened(client: TestClient, note: str) -> verify.Checkpoint:
    return verify.open_checkpoint(note, verify.Verifier.parse(vkey(client)))


def test_without_a_signing_key_nothing_is_signed_and_everything_else_works(client):
    code, receipts = campaign_with_gifts(client, 2)
    refused = client.post(f"/v1/campaigns/{code}/checkpoints")
    assert (refused.status_code, refused.json()["code"]) == (409, "signing_key_missing")
    assert client.get("/v1/public/signing-key").json()["code"] == "signing_key_missing"
    missing = client.get(f"/v1/public/campaigns/{code}/checkpoint")
    assert (missing.status_code, missing.json()["code"]) == (404, "checkpoint_not_found")
    assert f.ok(client.get(f"/v1/public/receipts/{receipts[0]}"), 200)["proof"] is None
    statement = b"date,amount,description,bank_reference\n05/10/2022,1.500.000,ung ho,FT1\n"
    imported = client.post(f"/v1/campaigns/{code}/statements", content=statement, headers=CSV)
    assert f.ok(imported, 200)["imported"] == 1


def test_a_checkpoint_signs_the_root_of_the_ledgers_entry_hashes(client, signing_key):
    code, _ = campaign_with_gifts(client, 5)
    issued = issue(client, code)
    leaves = entry_hashes(client, code)
    root = ref_mth(leaves)
    body = f"relief-ledger.localhost/{code}\n{len(leaves)}\n{base64.b64encode(root).decode()}\n"
    assert issued["note"].startswith(body + "\n\u2014 relief-ledger.localhost ")
    assert (issued["size"], issued["root_hash"]) == (len(leaves), base64.b64encode(root).decode())
    assert vkey(client) == signing_key.verifier.vkey
    served = client.get(f"/v1/public/campaigns/{code}/checkpoint")
    assert served.headers["content-type"].startswith("text/plain")
    assert served.text == issued["note"]
    assert opened(client, served.text).root == root
    # Nothing new: the same checkpoint, not a second one.
    assert issue(client, code)["note"] == issued["note"]
    f.contribution(client, code, 5)
    grown = issue(client, code)
    assert grown["size"] == len(leaves) + 1
    assert opened(client, grown["note"]).root == ref_mth(entry_hashes(client, code))
    at_size = client.get(f"/v1/public/campaigns/{code}/checkpoints/{len(leaves)}")
    assert at_size.text == issued["note"]


def test_inclusion_proofs_by_receipt_and_by_index(client, signing_key):
    code, receipts = campaign_with_gifts(client, 6)
    first = opened(client, issue(client, code)["note"])
    f.contribution(client, code, 7)
    latest = opened(client, issue(client, code)["note"])
    leaves = entry_hashes(client, code)
    proof = f.ok(
        client.get(
            f"/v1/public/campaigns/{code}/proofs/inclusion", params={"receipt": receipts[3]}
        ),
        200,
    )
    assert proof["tree_size"] == latest.size
    index = proof["leaf_index"]
    assert leaves[index].hex() == proof["entry_hash"]
    path = [base64.b64decode(node) for node in proof["audit_path"]]
    verify.verify_inclusion(index, latest.size, verify.leaf_hash(leaves[index]), path, latest.root)
    for i in range(first.size):
        old = f.ok(
            client.get(
                f"/v1/public/campaigns/{code}/proofs/inclusion",
                params={"index": i, "size": first.size},
            ),
            200,
        )
        path = [base64.b64decode(node) for node in old["audit_path"]]
        verify.verify_inclusion(i, first.size, verify.leaf_hash(leaves[i]), path, first.root)
    url = f"/v1/public/campaigns/{code}/proofs/inclusion"
    above = client.get(url, params={"index": 0, "size": latest.size + 1})
    assert (above.status_code, above.json()["code"]) == (404, "checkpoint_not_found")
    for params in (
        {"index": 0, "size": "ten"},
        {"index": 0, "size": 0},
        {"index": -1},
        {"index": 0, "receipt": receipts[0]},
        {},
        {"index": latest.size},
    ):
        response = client.get(url, params=params)
        assert response.status_code == 422, (params, response.text)
    unknown = client.get(url, params={"receipt": "RL-NOPE"})
    assert (unknown.status_code, unknown.json()["code"]) == (404, "receipt_not_found")


def test_consistency_proofs_between_checkpoints(client, signing_key):
    code, _ = campaign_with_gifts(client, 3)
    old = opened(client, issue(client, code)["note"])
    for i in range(9):
        f.contribution(client, code, 1000 + i)
    new = opened(client, issue(client, code)["note"])
    url = f"/v1/public/campaigns/{code}/proofs/consistency"
    proof = f.ok(client.get(url, params={"from": old.size, "to": new.size}), 200)
    assert (proof["from_size"], proof["to_size"]) == (old.size, new.size)
    nodes = [base64.b64decode(node) for node in proof["proof"]]
    verify.verify_consistency(old.size, new.size, old.root, new.root, nodes)
    assert client.get(url, params={"from": 1, "to": new.size + 1}).status_code == 404
    for params in ({"from": "x", "to": 3}, {"from": 0, "to": 3}, {"from": 5, "to": 4}, {"to": 3}):
        assert client.get(url, params=params).status_code == 422, params
    draft = f.campaign(client, status="draft")["code"]
    hidden = client.get(f"/v1/public/campaigns/{draft}/checkpoint")
    assert (hidden.status_code, hidden.json()["code"]) == (404, "campaign_not_found")


def test_a_statement_import_issues_a_checkpoint_and_receipts_carry_their_proof(client, signing_key):
    code = f.campaign(client)["code"]
    statement = (
        "date,amount,description,bank_reference\n"
        "05/10/2022,1.500.000,ung ho,FT1\n06/10/2022,2.000.000,ung ho lu,FT2\n"
    )
    f.ok(client.post(f"/v1/campaigns/{code}/statements", content=statement, headers=CSV), 200)
    leaves = entry_hashes(client, code)
    checkpoint = opened(client, client.get(f"/v1/public/campaigns/{code}/checkpoint").text)
    assert (checkpoint.size, checkpoint.root) == (len(leaves), ref_mth(leaves))
    receipt_code = f.ok(client.get(f"/v1/campaigns/{code}/contributions"), 200)["items"][1][
        "receipt_code"
    ]
    receipt = f.ok(client.get(f"/v1/public/receipts/{receipt_code}"), 200)
    proof = receipt["proof"]
    assert proof["tree_size"] == checkpoint.size
    path = [base64.b64decode(node) for node in proof["audit_path"]]
    leaf = bytes.fromhex(proof["entry_hash"])
    verify.verify_inclusion(
        proof["leaf_index"], checkpoint.size, verify.leaf_hash(leaf), path, checkpoint.root
    )
    # Newer than the latest checkpoint: no proof yet, rather than a wrong one.
    later = f.contribution(client, code, 5)["receipt_code"]
    assert f.ok(client.get(f"/v1/public/receipts/{later}"), 200)["proof"] is None


def test_checkpoints_and_nodes_are_append_only(client, db, signing_key):
    code, _ = campaign_with_gifts(client, 2)
    issue(client, code)
    for statement in (
        "UPDATE checkpoints SET size = 99",
        "DELETE FROM checkpoints",
        "UPDATE transparency_nodes SET level = 9",
        "DELETE FROM transparency_nodes",
        "DELETE FROM signing_keys",
    ):
        with pytest.raises(Exception, match="append-only"), db.engine.begin() as conn:
            conn.execute(text(statement))


def _auditor_key(
    tmp_path: Path, name: str = "kiemtoan.gov.vn/relief"
) -> tuple[Ed25519PrivateKey, str]:
    key = signing.write_new_key(tmp_path / "auditor.key")
    return key, verify.Verifier(
        name, verify.COSIGNATURE_V1, key.public_key().public_bytes_raw()
    ).vkey


def test_auditors_register_a_key_and_cosign(client, headers_for, signing_key, tmp_path):
    code, _ = campaign_with_gifts(client, 3)
    issued = opened(client, issue(client, code)["note"])
    auditor = headers_for("auditor")
    key, auditor_vkey = _auditor_key(tmp_path)
    f.unit_tree(client)
    officer = client.post(
        "/v1/auditor-keys", json={"vkey": auditor_vkey}, headers=headers_for("officer", "ky-son")
    )
    assert officer.status_code == 403
    bad = client.post("/v1/auditor-keys", json={"vkey": signing_key.verifier.vkey}, headers=auditor)
    assert (bad.status_code, bad.json()["code"]) == (422, "vkey_invalid")  # a log key, not 0x04
    f.ok(client.post("/v1/auditor-keys", json={"vkey": auditor_vkey}, headers=auditor))
    assert f.ok(client.get("/v1/public/auditor-keys"), 200) == [
        {"name": "kiemtoan.gov.vn/relief", "vkey": auditor_vkey}
    ]
    url = f"/v1/campaigns/{code}/checkpoints/{issued.size}/cosignatures"
    wrong_body = verify.cosign(
        issued.note.body.replace(f"\n{issued.size}\n", f"\n{issued.size + 1}\n"),
        "kiemtoan.gov.vn/relief",
        key,
        1,
    )
    refused = client.post(url, json={"signature": wrong_body}, headers=auditor)
    assert (refused.status_code, refused.json()["code"]) == (422, "cosignature_invalid")
    stranger = verify.cosign(issued.note.body, "someone.else", key, 1)
    refused = client.post(url, json={"signature": stranger}, headers=auditor)
    assert refused.json()["code"] == "auditor_key_not_registered"
    line = verify.cosign(issued.note.body, "kiemtoan.gov.vn/relief", key, 1_764_547_200)
    cosigned = client.post(url, json={"signature": line}, headers=auditor)
    assert cosigned.status_code == 201, cosigned.text
    served = client.get(f"/v1/public/campaigns/{code}/checkpoint").text
    assert (
        served
        == issued.note.body
        + "\n"
        + "".join(verify.signature_line(n, raw) for n, raw in issued.note.signatures)
        + line
    )
    # "Signed by the Front and cosigned by the State Audit":
    verify.open_checkpoint(
        served, verify.Verifier.parse(vkey(client)), [verify.Verifier.parse(auditor_vkey)]
    )


def test_rotation_keeps_old_checkpoints_verifiable(client, signing_key, signing_key_path):
    code, _ = campaign_with_gifts(client, 2)
    old_note = issue(client, code)["note"]
    signing.retire(signing_key_path, signing_key.verifier)
    signing.write_new_key(signing_key_path)
    f.contribution(client, code, 9)
    new_note = issue(client, code)["note"]
    new_key = vkey(client)
    assert new_key != signing_key.verifier.vkey
    published = client.get("/v1/public/signing-keys").text.splitlines()
    assert published == [new_key, signing_key.verifier.vkey]
    verify.open_checkpoint(old_note, verify.Verifier.parse(published[1]))
    verify.open_checkpoint(new_note, verify.Verifier.parse(published[0]))
    with pytest.raises(verify.VerificationError):
        verify.open_checkpoint(old_note, verify.Verifier.parse(new_key))
    assert (signing_key_path.stat().st_mode & 0o777) == 0o600


def test_new_entries_get_a_checkpoint_once_the_last_is_older_than_the_interval(
    client, db, signing_key, monkeypatch
):
    from app.config import get_settings

    monkeypatch.setattr(get_settings(), "checkpoint_interval_s", 600)
    busy, _ = campaign_with_gifts(client, 2)
    quiet = f.campaign(client)["code"]
    issue(client, quiet)  # signed already, and nothing new since: not due
    with scope.acting_as(db, Principal.system("tests")) as session:
        assert transparency.issue_due(session) == [busy]
    with scope.acting_as(db, Principal.system("tests")) as session:
        assert transparency.issue_due(session) == []  # nothing new
    f.contribution(client, busy, 3)
    soon = utcnow() + timedelta(seconds=300)
    later = utcnow() + timedelta(seconds=601)
    with scope.acting_as(db, Principal.system("tests")) as session:
        assert transparency.issue_due(session, now=soon) == []  # new entries, but too soon
    with scope.acting_as(db, Principal.system("tests")) as session:
        assert transparency.issue_due(session, now=later) == [busy]
    checkpoints = client.get(f"/v1/public/campaigns/{busy}/checkpoint").text
    assert opened(client, checkpoints).size == len(entry_hashes(client, busy))


def test_the_service_refuses_to_start_with_a_key_others_may_read(database_url, signing_key_path):
    signing.write_new_key(signing_key_path)
    os.chmod(signing_key_path, 0o644)
    with (
        pytest.raises(signing.UnsafeKeyFile, match="chmod 600"),
        TestClient(create_app(database_url)),
    ):
        pass


def test_a_key_issues_checkpoints_only_as_an_officer_or_admin(client, headers_for, signing_key):
    code, _ = campaign_with_gifts(client, 1)
    auditor = client.post(f"/v1/campaigns/{code}/checkpoints", headers=headers_for("auditor"))
    assert auditor.status_code == 403
    assert (
        client.post(f"/v1/campaigns/{code}/checkpoints", headers={"Authorization": ""}).status_code
        == 401
    )


def test_officers_issue_checkpoints_for_campaigns_in_reach(client, signing_key):
    f.unit_tree(client)
    code = f.campaign(client, unit_code="ky-son")["code"]
    database = client.app.state.database  # type: ignore[attr-defined]
    sibling = bearer(issue_key(database, "officer", "tan-ky"))
    officer = bearer(issue_key(database, "officer", "ky-son"))
    assert client.post(f"/v1/campaigns/{code}/checkpoints", headers=sibling).status_code == 404
    assert client.post(f"/v1/campaigns/{code}/checkpoints", headers=officer).status_code == 201


def test_a_long_catch_up_grows_the_tree_in_rounds(client, signing_key, monkeypatch):
    monkeypatch.setattr(transparency, "GROW_CHUNK", 3)  # rounds of 3 leaves, not 65,536
    code, _ = campaign_with_gifts(client, 9)
    checkpoint = opened(client, issue(client, code)["note"])
    leaves = entry_hashes(client, code)
    assert (checkpoint.size, checkpoint.root) == (len(leaves), ref_mth(leaves))


def test_the_services_own_timer_issues_what_is_due(client, db, signing_key, monkeypatch):
    from app.config import get_settings
    from app.transparency import interval

    monkeypatch.setattr(get_settings(), "checkpoint_interval_s", 600)
    code, _ = campaign_with_gifts(client, 1)
    assert interval.run_once(db) == [code]
    assert interval.run_once(db) == []
    # Audited like any write, under the timer's own name.
    events = f.ok(client.get("/v1/audit", params={"entity": "checkpoints"}), 200)["items"]
    assert [(e["actor_role"], e["path"], e["changes"]["reason"]) for e in events] == [
        ("system", "relief checkpoint interval", "interval")
    ]
    monkeypatch.setattr(get_settings(), "checkpoint_interval_s", 0)
    assert interval.run_once(db) == []


def test_keys_that_are_not_text_are_refused_not_crashed_on(client, headers_for):
    auditor = headers_for("auditor")
    for vkey in ("x\ud800+00000000+AQ==", "a+b+c", "", "name+zz+" + "A" * 44):
        body = json.dumps({"vkey": vkey})  # a lone surrogate as JSON writes it: \\ud800
        headers = {**auditor, "Content-Type": "application/json"}
        response = client.post("/v1/auditor-keys", content=body, headers=headers)
        assert response.status_code == 422, (vkey, response.text)
