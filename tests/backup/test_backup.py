"""`relief backup` while a writer posts contributions, `relief restore` into an empty
database, and the restored service: verify=full, /v1/audit/verify, the signed checkpoint."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from app.cli import app
from app.contributions.models import Contribution
from app.db import Database
from app.transparency import verify
from tests.support.database import BACKEND
from tests.support.live_server import serve

runner = CliRunner()


@pytest.fixture
def empty_url(request: pytest.FixtureRequest, tmp_path: Path):
    """A new database with nothing in it, to restore into."""
    if BACKEND == "postgresql":
        server = request.getfixturevalue("postgres_server")
        url = server.create()
        yield url.render_as_string(hide_password=False)
        server.drop(url)
    else:
        yield f"sqlite:///{tmp_path / 'restored' / 'relief.db'}"


def _contributions(url: str) -> int:
    database = Database(url)
    try:
        with database.session(read_only=True) as session:
            return session.scalar(select(func.count()).select_from(Contribution)) or 0
    finally:
        database.dispose()


def _gift(client: httpx.Client, code: str, amount: int) -> httpx.Response:
    body = {"amount": str(amount), "received_on": "2022-10-05", "method": "bank_transfer"}
    return client.post(f"/v1/campaigns/{code}/contributions", json=body)


@pytest.mark.slow
def test_a_backup_taken_during_writes_restores_and_verifies(
    database_url, empty_url, signing_key, tmp_path
):
    vkey = signing_key.verifier.vkey
    backup_file = tmp_path / "relief.backup"
    with (
        serve(database_url, tmp_path / "live.log") as live,
        httpx.Client(base_url=live.base_url, headers=live.headers, timeout=60) as client,
    ):
        code = "ky-son-flood-2022"
        body = {"code": code, "title": "Ủng hộ đồng bào Kỳ Sơn bị lũ quét", "kind": "flood"}
        assert client.post("/v1/campaigns", json=body).status_code == 201
        assert client.patch(f"/v1/campaigns/{code}", json={"status": "open"}).status_code == 200
        receipts = [_gift(client, code, 100_000 + i).json()["receipt_code"] for i in range(5)]
        issued = client.post(f"/v1/campaigns/{code}/checkpoints")
        assert issued.status_code == 201, issued.text
        old_checkpoint, old_size = issued.json()["note"], issued.json()["size"]

        done = 0
        failures: list[str] = []
        stop = threading.Event()
        lock = threading.Lock()

        def writer() -> None:
            nonlocal done
            with httpx.Client(base_url=live.base_url, headers=live.headers, timeout=60) as own:
                amount = 1_000
                while not stop.is_set():
                    response = _gift(own, code, amount)
                    if response.status_code != 201:
                        failures.append(response.text)
                        return
                    amount += 1
                    with lock:
                        done += 1

        thread = threading.Thread(target=writer)
        thread.start()
        try:
            while done < 10 and thread.is_alive():
                threading.Event().wait(0.02)
            with lock:
                lower = done
            result = runner.invoke(
                app, ["backup", str(backup_file), "--database-url", database_url]
            )
            with lock:
                upper = done
            while done < upper + 5 and thread.is_alive():
                threading.Event().wait(0.02)
        finally:
            stop.set()
            thread.join(timeout=60)
        assert failures == []
        assert result.exit_code == 0, result.output
        assert f"to {backup_file}" in result.output
        total = 5 + done

    restored = runner.invoke(app, ["restore", str(backup_file), "--database-url", empty_url])
    assert restored.exit_code == 0, restored.output
    assert "all ok" in restored.output
    count = _contributions(empty_url)
    # The copy is of one moment during the writes: all gifts committed before the backup
    # began, none after it ended, and the writer went on after it.
    assert 5 + lower <= count <= 5 + upper < total

    with (
        serve(empty_url, tmp_path / "restored.log") as live,
        httpx.Client(base_url=live.base_url, headers=live.headers, timeout=60) as client,
    ):
        books = client.get(f"/v1/campaigns/{code}/reconciliation", params={"verify": "full"})
        assert books.status_code == 200, books.text
        assert [c["name"] for c in books.json()["checks"] if not c["ok"]] == []
        assert books.json()["money"]["contributions_count"] == count
        audit = client.get("/v1/audit/verify").json()
        assert audit["ok"] is True and audit["first_broken"] is None
        # The checkpoint signed before the backup still proves the first gifts …
        proven = verify.verify_receipt(live.base_url, receipts[0], vkey)
        assert (proven["campaign"], proven["tree_size"]) == (code, old_size)
        # … and a checkpoint of the restored log is an append-only extension of it.
        new = client.post(f"/v1/campaigns/{code}/checkpoints")
        assert new.status_code == 201, new.text
        before, after = verify.verify_checkpoints(
            old_checkpoint, new.json()["note"], [vkey], live.base_url
        )
        # One entry per gift made after the checkpoint (the five before it are in it).
        assert (before.size, after.size) == (old_size, old_size + count - 5)


def test_restore_refuses_a_database_that_is_not_empty(client, database_url, empty_url, tmp_path):
    backup_file = tmp_path / "relief.backup"
    code = client.post(
        "/v1/campaigns",
        json={"code": "covid-19", "title": "Quỹ phòng chống Covid-19", "kind": "epidemic"},
    ).json()["code"]
    assert (
        runner.invoke(app, ["backup", str(backup_file), "--database-url", database_url]).exit_code
        == 0
    )
    before = _contributions(database_url)
    refused = runner.invoke(app, ["restore", str(backup_file), "--database-url", database_url])
    assert refused.exit_code == 2
    assert "is not empty" in refused.output and "Nothing was changed" in refused.output
    assert _contributions(database_url) == before
    assert client.get(f"/v1/campaigns/{code}").status_code == 200
    # A second restore into the one just restored is refused too.
    assert (
        runner.invoke(app, ["restore", str(backup_file), "--database-url", empty_url]).exit_code
        == 0
    )
    again = runner.invoke(app, ["restore", str(backup_file), "--database-url", empty_url])
    assert again.exit_code == 2 and "is not empty" in again.output
    # A backup is never overwritten.
    kept = runner.invoke(app, ["backup", str(backup_file), "--database-url", database_url])
    assert kept.exit_code == 2 and "exists already" in kept.output


def test_restore_refuses_a_file_that_is_no_backup_of_this_kind(empty_url, tmp_path):
    junk = tmp_path / "notes.txt"
    junk.write_text("not a backup")
    result = runner.invoke(app, ["restore", str(junk), "--database-url", empty_url])
    assert result.exit_code == 2
    assert "neither a SQLite backup nor a pg_dump custom archive" in result.output
    other = tmp_path / "other.backup"
    other.write_bytes(b"PGDMP" if BACKEND == "sqlite" else b"SQLite format 3\x00")
    mixed = runner.invoke(app, ["restore", str(other), "--database-url", empty_url])
    assert mixed.exit_code == 2 and "backup; restore it into a" in mixed.output


def test_without_pg_dump_the_backup_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no pg_dump on it
    target = tmp_path / "relief.dump"
    url = "postgresql+psycopg://relief:secret@127.0.0.1:5432/relief"
    result = runner.invoke(app, ["backup", str(target), "--database-url", url])
    assert result.exit_code == 2
    assert "pg_dump is not installed" in result.output
    assert "apt-get install postgresql-client" in result.output
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []  # no partial file left behind
