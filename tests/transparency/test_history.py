"""Someone with database access rewrites history; what a donor and an auditor kept catches it.

The append-only triggers are dropped (as an intruder with the database's owner rights
would), then the books are rewritten in two ways: an old posting is changed and the chain
re-hashed from there, or the chain is truncated and different entries re-appended. The
intruder even rebuilds the log and signs it with our key. The consistency proof from a
checkpoint saved before the change fails, and so does the receipt's inclusion proof.
Runs on SQLite and PostgreSQL (`make test`, `make test-postgres`).
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.db import Database
from app.ledger.chain import entry_hash
from app.transparency import verify
from tests.support import factories as f


def tamper(db: Database, statements: list[tuple[str, dict[str, Any]]]) -> None:
    """Run `statements` with every append-only trigger out of the way."""
    with db.engine.begin() as conn:
        if db.is_sqlite:
            for (name,) in conn.execute(
                text("SELECT name FROM sqlite_master WHERE type='trigger'")
            ).all():
                conn.execute(text(f'DROP TRIGGER "{name}"'))
        else:
            # Replica mode skips user triggers: what dropping them would do, for this transaction.
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        for statement, params in statements:
            conn.execute(text(statement), params)


def rechain(db: Database, campaign_id: int, *, from_seq: int) -> list[tuple[str, dict[str, Any]]]:
    """The UPDATEs that recompute every entry hash from `from_seq` on, as the intruder would."""
    with db.engine.connect() as conn:
        entries = conn.execute(
            text(
                "SELECT id, seq, kind, recorded_at, detail, pledges_count, contributions_count, "
                "prev_hash, hash FROM ledger_entries WHERE campaign_id = :c ORDER BY seq"
            ),
            {"c": campaign_id},
        ).all()
        postings = conn.execute(
            text(
                "SELECT p.entry_id, a.code, a.asset, p.amount FROM ledger_postings p "
                "JOIN ledger_accounts a ON a.id = p.account_id WHERE a.campaign_id = :c"
            ),
            {"c": campaign_id},
        ).all()
    by_entry: dict[int, list[tuple[str, str, Decimal]]] = {}
    for entry_id, code, asset, amount in postings:
        by_entry.setdefault(entry_id, []).append((code, asset, Decimal(str(amount))))
    updates, prev = [], None
    for entry in entries:
        if entry.seq < from_seq:
            prev = entry.hash
            continue
        stamp = entry.recorded_at
        if isinstance(stamp, str):
            stamp = datetime.fromisoformat(stamp)
        stamp = stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp
        digest = entry_hash(
            campaign_id=campaign_id,
            seq=entry.seq,
            kind=entry.kind,
            recorded_at=stamp,
            detail=entry.detail,
            postings=by_entry.get(entry.id, []),
            pledges_count=entry.pledges_count,
            contributions_count=entry.contributions_count,
            prev_hash=prev,
        )
        updates.append(
            (
                "UPDATE ledger_entries SET prev_hash = :p, hash = :h WHERE id = :i",
                {"p": prev, "h": digest, "i": entry.id},
            )
        )
        prev = digest
    updates.append(
        (
            "UPDATE ledger_heads SET head_hash = :h WHERE campaign_id = :c",
            {"h": prev, "c": campaign_id},
        )
    )
    return updates


def wipe_log(campaign_id: int) -> list[tuple[str, dict[str, Any]]]:
    return [
        (
            "DELETE FROM cosignatures WHERE checkpoint_id IN "
            "(SELECT id FROM checkpoints WHERE campaign_id = :c)",
            {"c": campaign_id},
        ),
        ("DELETE FROM checkpoints WHERE campaign_id = :c", {"c": campaign_id}),
        ("DELETE FROM transparency_nodes WHERE campaign_id = :c", {"c": campaign_id}),
    ]


def saved_before(
    client: TestClient, gifts: int
) -> tuple[dict[str, Any], str, verify.Checkpoint, dict[str, Any]]:
    """A campaign, a donor's receipt with its proof, and an auditor's saved checkpoint."""
    c = f.campaign(client)
    receipts = [
        f.contribution(client, c["code"], 1_000_000 + i)["receipt_code"] for i in range(gifts)
    ]
    note = f.ok(client.post(f"/v1/campaigns/{c['code']}/checkpoints"))["note"]
    key = verify.Verifier.parse(client.get("/v1/public/signing-key").text)
    checkpoint = verify.open_checkpoint(note, key)
    receipt = f.ok(client.get(f"/v1/public/receipts/{receipts[1]}"), 200)
    assert receipt["proof"]["tree_size"] == checkpoint.size
    return c, receipts[1], checkpoint, receipt["proof"]


def consistency_holds(client: TestClient, code: str, old: verify.Checkpoint) -> bool:
    key = verify.Verifier.parse(client.get("/v1/public/signing-key").text)
    new = verify.open_checkpoint(client.get(f"/v1/public/campaigns/{code}/checkpoint").text, key)
    proof = f.ok(
        client.get(
            f"/v1/public/campaigns/{code}/proofs/consistency",
            params={"from": old.size, "to": new.size},
        ),
        200,
    )
    try:
        verify.verify_consistency(
            old.size, new.size, old.root, new.root, [base64.b64decode(p) for p in proof["proof"]]
        )
    except verify.VerificationError:
        return False
    return True


def inclusion_holds(client: TestClient, code: str, receipt: str, old: verify.Checkpoint) -> bool:
    proof = f.ok(
        client.get(
            f"/v1/public/campaigns/{code}/proofs/inclusion",
            params={"receipt": receipt, "size": old.size},
        ),
        200,
    )
    try:
        verify.verify_inclusion(
            proof["leaf_index"],
            old.size,
            verify.leaf_hash(bytes.fromhex(proof["entry_hash"])),
            [base64.b64decode(p) for p in proof["audit_path"]],
            old.root,
        )
    except verify.VerificationError:
        return False
    return True


@pytest.fixture
def honest(client, signing_key):
    return client


def test_honest_growth_passes_both_checks(honest):
    c, receipt, saved, _ = saved_before(honest, 4)
    f.contribution(honest, c["code"], 7)
    f.ok(honest.post(f"/v1/campaigns/{c['code']}/checkpoints"))
    assert consistency_holds(honest, c["code"], saved)
    assert inclusion_holds(honest, c["code"], receipt, saved)


def test_a_changed_old_posting_is_caught(honest, db):
    c, receipt, saved, donor_proof = saved_before(honest, 4)
    seq = donor_proof["leaf_index"] + 1
    with db.engine.connect() as conn:
        entry_id = conn.execute(
            text("SELECT id FROM ledger_entries WHERE campaign_id = :c AND seq = :s"),
            {"c": c["id"], "s": seq},
        ).scalar_one()
    # The donor's 1,000,001 becomes 1: the cash posting and its donations counterpart.
    shrink = (
        "UPDATE ledger_postings SET amount = CASE WHEN amount > 0 THEN :plus ELSE :minus END "
        "WHERE entry_id = :e"
    )
    if db.is_sqlite:
        plus, minus = "1", "-1"
    else:
        plus, minus = 1, -1
    tamper(db, [(shrink, {"plus": plus, "minus": minus, "e": entry_id})])
    tamper(db, rechain(db, c["id"], from_seq=seq))
    served = f.ok(honest.get(f"/v1/campaigns/{c['code']}/ledger", params={"limit": 500}), 200)
    rewritten = served["items"][seq - 1]
    assert rewritten["postings"][0]["amount"] in ("1", "-1")
    assert rewritten["hash"] != donor_proof["entry_hash"]
    # The books alone now look whole again; only the log remembers. First the intruder
    # leaves the log alone: the receipt's proof no longer matches the served entry.
    assert not inclusion_holds(honest, c["code"], receipt, saved)
    # Then the intruder rebuilds the log from the rewritten books and signs it anew.
    tamper(db, wipe_log(c["id"]))
    f.contribution(honest, c["code"], 9)
    f.ok(honest.post(f"/v1/campaigns/{c['code']}/checkpoints"))
    assert not consistency_holds(honest, c["code"], saved)
    assert not inclusion_holds(honest, c["code"], receipt, saved)


def test_truncating_and_re_appending_is_caught(honest, db):
    c, receipt, saved, donor_proof = saved_before(honest, 4)
    keep = donor_proof["leaf_index"]  # everything from the donor's entry on is dropped
    entry_ids = "SELECT id FROM ledger_entries WHERE campaign_id = :c AND seq > :k"
    with db.engine.connect() as conn:
        head_hash = conn.execute(
            text("SELECT hash FROM ledger_entries WHERE campaign_id = :c AND seq = :k"),
            {"c": c["id"], "k": keep},
        ).scalar_one()
    params = {"c": c["id"], "k": keep}
    tamper(
        db,
        [
            (f"DELETE FROM ledger_postings WHERE entry_id IN ({entry_ids})", params),
            ("DELETE FROM ledger_entries WHERE campaign_id = :c AND seq > :k", params),
            (
                "UPDATE ledger_heads SET seq = :k, head_hash = :h WHERE campaign_id = :c",
                {**params, "h": head_hash},
            ),
            *wipe_log(c["id"]),
        ],
    )
    # Different gifts are appended in their place, past the saved size, and signed.
    for i in range(6):
        f.contribution(honest, c["code"], 5 + i)
    f.ok(honest.post(f"/v1/campaigns/{c['code']}/checkpoints"))
    assert not consistency_holds(honest, c["code"], saved)
    missing = honest.get(
        f"/v1/public/campaigns/{c['code']}/proofs/inclusion",
        params={"index": keep, "size": saved.size},
    )
    assert missing.status_code == 200
    leaf = bytes.fromhex(missing.json()["entry_hash"])
    assert leaf.hex() != donor_proof["entry_hash"]  # the donor's entry is gone
    gone = honest.get(
        f"/v1/public/campaigns/{c['code']}/proofs/inclusion", params={"receipt": receipt}
    )
    assert (gone.status_code, gone.json()["code"]) == (404, "receipt_not_found")
    with pytest.raises(verify.VerificationError):
        verify.verify_inclusion(
            keep,
            saved.size,
            verify.leaf_hash(bytes.fromhex(donor_proof["entry_hash"])),
            [base64.b64decode(p) for p in missing.json()["audit_path"]],
            saved.root,
        )
