"""A request that loses a race is rolled back and run again; the client never sees it."""

from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from app.allocations import service as allocations
from tests.support import factories as f


class _PgError(Exception):
    def __init__(self, sqlstate):
        super().__init__(f"simulated SQLSTATE {sqlstate}")
        self.sqlstate = sqlstate


def _losing_first(monkeypatch, error):
    real = allocations.create
    calls = {"n": 0}

    def create(session, campaign, *, allocation_in):
        calls["n"] += 1
        result = real(session, campaign, allocation_in=allocation_in)  # writes, then loses the race
        if calls["n"] == 1:
            raise error
        return result

    monkeypatch.setattr(allocations, "create", create)
    return calls


def _funded(client):
    c = f.campaign(client)
    f.contribution(client, c["code"], 1_000_000)
    return c["code"], f.location(client)


def test_deadlock_is_retried_and_written_once(client, monkeypatch):
    code, place = _funded(client)
    calls = _losing_first(monkeypatch, OperationalError("INSERT …", {}, _PgError("40P01")))
    body = f.allocation(client, code, place["id"], 300_000)
    assert calls["n"] == 2
    assert [a["id"] for a in client.get(f"/v1/campaigns/{code}/allocations").json()["items"]] == [
        body["id"]
    ]
    reconciliation = f.reconciliation(client, code, verify="full")
    assert (reconciliation["money"]["allocated"], f.checks_ok(reconciliation)) == ("300000", True)


def test_sqlite_lock_timeout_is_retried(client, monkeypatch):
    code, place = _funded(client)
    calls = _losing_first(
        monkeypatch, OperationalError("INSERT …", {}, Exception("database is locked"))
    )
    f.allocation(client, code, place["id"], 300_000)
    assert calls["n"] == 2
    assert f.money(f.reconciliation(client, code))["allocated"] == "300000"


def test_other_database_errors_are_not_retried(client, monkeypatch):
    code, place = _funded(client)
    calls = _losing_first(
        monkeypatch, OperationalError("INSERT …", {}, Exception("disk I/O error"))
    )
    quiet = TestClient(client.app, raise_server_exceptions=False, headers=client.headers)
    response = quiet.post(
        f"/v1/campaigns/{code}/allocations",
        json={"location_id": place["id"], "amount": "1", "purpose": "x"},
    )
    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"
    assert calls["n"] == 1
    assert f.money(f.reconciliation(client, code))["allocated"] == "0"
