"""The audit log: every write, by which key, in which request, hash-chained; and the
database refuses, or verify names, any edit made behind the service's back."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.support import factories as f
from tests.support.clients import bearer, issue_key


def _events(client, **params) -> list[dict]:
    return f.ok(client.get("/v1/audit", params={"limit": 500, **params}), 200)["items"]


def _story(client, db):
    f.ok(client.post("/v1/units", json={"code": "ky-son", "name": "MTTQ huyện Kỳ Sơn"}))
    officer = bearer(issue_key(db, "officer", "ky-son"))
    code = f.campaign(client, unit_code="ky-son")["code"]
    donor = f.donor(client)
    pledge = f.pledge(client, code, donor["id"], 2_000_000)
    response = client.post(
        f"/v1/campaigns/{code}/contributions",
        json={"amount": "500000", "received_on": "2022-10-05", "method": "cash"},
        headers={**officer, "X-Request-ID": "phone-42"},
    )
    assert response.headers["x-request-id"] == "phone-42"
    contribution = f.ok(response)
    f.ok(client.post(f"/v1/pledges/{pledge['id']}/cancel", json={"reason": "Trùng"}), 200)
    return code, officer, contribution, pledge


def test_every_write_is_logged_with_its_actor_and_request(client, db):
    code, _, contribution, _ = _story(client, db)
    events = _events(client, campaign=code)
    kinds = [(e["entity_type"], e["action"]) for e in events]
    assert kinds == [
        ("campaigns", "created"),
        ("campaigns", "updated"),  # opened
        ("pledges", "created"),
        ("contributions", "created"),
        ("pledges", "updated"),  # cancelled
    ]
    recorded = events[3]
    assert recorded["entity_id"] == contribution["id"]
    assert (recorded["actor_role"], recorded["request_id"]) == ("officer", "phone-42")
    assert (recorded["method"], recorded["path"]) == ("POST", f"/v1/campaigns/{code}/contributions")
    assert recorded["changes"]["amount"] == "500000"
    assert recorded["changes"]["receipt_code"] == contribution["receipt_code"]
    cancelled = events[4]["changes"]
    assert cancelled["cancel_reason"] == [None, "Trùng"]
    assert cancelled["cancelled_at"][0] is None
    assert events[1]["changes"]["status"] == ["draft", "open"]
    # One chain per campaign, linked from the genesis hash.
    assert [e["seq"] for e in events] == [1, 2, 3, 4, 5]
    assert events[0]["prev_hash"] == "0" * 64
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(events))


def test_writes_outside_campaigns_go_to_the_global_chain_without_secrets(client, db):
    _story(client, db)
    # Keys made straight in the database (like the CLI) are audited under a system principal.
    made_directly = _events(client, entity="api_keys")
    assert len(made_directly) == 2  # the client's admin key and the officer's
    assert {
        (e["actor_role"], e["actor_key_id"], e["method"], e["path"]) for e in made_directly
    } == {("system", None, "SYSTEM", "tests")}
    f.ok(client.post("/v1/keys", json={"role": "auditor", "name": "Kiểm toán"}))
    key_event = _events(client, entity="api_keys")[-1]
    assert (key_event["actor_role"], key_event["method"]) == ("admin", "POST")
    assert key_event["chain"] == "global"
    assert "token_hash" not in key_event["changes"]
    assert {e["entity_type"] for e in _events(client) if e["chain"] == "global"} == {
        "units",
        "donors",
        "api_keys",
    }


def test_a_reversal_joins_its_campaigns_chain(client, db):
    code, _, contribution, _ = _story(client, db)
    body = {"reason": "Nhập sai số tiền"}
    f.ok(client.post(f"/v1/contributions/{contribution['id']}/reverse", json=body), 200)
    last = _events(client, campaign=code)[-1]
    assert (last["entity_type"], last["chain"]) == ("contribution_reversals", last["chain"])
    assert last["chain"].startswith("campaign:")
    assert last["changes"]["reason"] == "Nhập sai số tiền"


def test_filters_and_pagination(client, db):
    _story(client, db)
    officer_events = _events(client, actor=2)
    assert [e["entity_type"] for e in officer_events] == ["contributions"]
    everything = _events(client)
    page = f.ok(client.get("/v1/audit", params={"limit": 2}), 200)
    assert [e["id"] for e in page["items"]] == [e["id"] for e in everything[:2]]
    rest = _events(client, cursor=page["next_cursor"])
    assert [e["id"] for e in rest] == [e["id"] for e in everything[2:]]
    moment = everything[3]["recorded_at"]
    assert all(e["recorded_at"] >= moment for e in _events(client, **{"from": moment}))
    assert all(e["recorded_at"] < moment for e in _events(client, to=moment))
    assert client.get("/v1/audit", params={"campaign": "nope"}).status_code == 422
    # A time without its zone is ambiguous: refused rather than guessed.
    assert client.get("/v1/audit", params={"from": "2026-11-26T00:00:00"}).status_code == 422


def test_failed_requests_leave_no_event(client, db):
    code = f.campaign(client)["code"]
    before = len(_events(client))
    body = {"location_id": 999, "amount": "1", "purpose": "x"}
    assert client.post(f"/v1/campaigns/{code}/allocations", json=body).status_code == 422
    assert len(_events(client)) == before


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_events SET changes = '{}'", "DELETE FROM audit_events"],
)
def test_database_refuses_to_edit_the_audit_log(client, db, statement):
    _story(client, db)
    with db.engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
        conn.execute(text(statement))
    assert f.ok(client.get("/v1/audit/verify"), 200)["ok"] is True


def test_database_refuses_to_edit_a_ledger_entry(client, db):
    _story(client, db)
    with db.engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
        conn.execute(text("UPDATE ledger_entries SET detail = '{}' WHERE seq = 3"))


def test_verify_names_an_audit_event_edited_with_triggers_off(client, db):
    code, _, _, _ = _story(client, db)
    with db.engine.begin() as conn:
        if db.is_sqlite:
            conn.execute(text("DROP TRIGGER audit_events_no_update"))
        else:  # what a superuser could do
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(
            text(
                "UPDATE audit_events SET changes = replace(changes, '500000', '50000') "
                "WHERE entity_type = 'contributions'"
            )
        )
    report = f.ok(client.get("/v1/audit/verify"), 200)
    assert report["ok"] is False
    broken = report["first_broken"]
    assert (broken["log"], broken["rule"], broken["seq"]) == ("audit", "event_hash", 4)
    assert broken["campaign_code"] == code
