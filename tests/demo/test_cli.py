"""`relief demo`: the seed story loads, is consistent, and loads only once."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from app.cli import app as cli
from app.demo.story import APPEALS
from app.donors.models import Donor
from app.ledger.models import LedgerEntry
from tests.support import factories as f


def _settled(gift) -> Decimal:
    return Decimal(gift.settled if gift.currency else gift.amount)


def test_demo_loads_the_seed_story_once(client, db, database_url):
    runner = CliRunner()
    first = runner.invoke(cli, ["demo", "--database-url", database_url])
    assert first.exit_code == 0, first.output
    assert "6 appeals loaded, 0 already present." in first.output
    with db.session() as session:
        entries = session.scalar(select(func.count()).select_from(LedgerEntry))
    second = runner.invoke(cli, ["demo", "--database-url", database_url])
    assert second.exit_code == 0, second.output
    assert "0 appeals loaded, 6 already present." in second.output
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(LedgerEntry)) == entries

    for appeal in APPEALS:
        body = f.reconciliation(client, appeal.code, verify="full")
        assert f.checks_ok(body), (appeal.code, body["checks"])
        money_gifts = [g for g in appeal.gifts if g.item is None]
        assert Decimal(f.money(body)["received"]) == sum(map(_settled, money_gifts)), appeal.code
        allocated = sum(Decimal(a.amount) for a in appeal.allotments if a.amount)
        assert Decimal(f.money(body)["allocated"]) == allocated, appeal.code
        assert body["campaign"]["status"] == ("closed" if appeal.close else "open")

    ky_son = f.reconciliation(client, "ky-son-flood-2022")
    currencies = {line["currency"] for line in f.money(ky_son)["received_by_currency"]}
    assert currencies == {"AUD", "EUR", "JPY", "USD", "VND"}
    assert f.goods_line(ky_son, "rice")["on_hand"] == "500"
    rolled = f.reconciliation(client, "ky-son-flood-2022", include_children="true")
    assert [child["code"] for child in rolled["children"]] == [
        "ky-son-flood-2022-tuong-duong",
        "ky-son-flood-2022-ky-son",
    ]
    goats = f.reconciliation(client, "sinh-ke-tan-ky-2023")
    assert f.goods_line(goats, "breeding-goat")["delivered"] == "60"
    places = f.ok(
        client.get("/v1/campaigns/ky-son-flood-2022/distribution", params={"level": "district"}),
        200,
    )["places"]
    assert [p["location_name"] for p in places] == ["Huyện Kỳ Sơn"]
    assert places[0]["money"]["allocated"] == "61000000000"
    anonymous = f.ok(
        client.get("/v1/public/campaigns/ky-son-flood-2022/contributions", params={"limit": 10}),
        200,
    )["items"]
    assert "Nhà hảo tâm ẩn danh" in {row["donor_name"] for row in anonymous}
    assert "Trần Thị Bình" not in str(anonymous)


def test_the_demo_is_audited_under_its_system_principal(client, database_url):
    runner = CliRunner()
    loaded = runner.invoke(cli, ["demo", "--database-url", database_url])
    assert loaded.exit_code == 0, loaded.output
    events = f.ok(
        client.get("/v1/audit", params={"campaign": "ky-son-flood-2022", "limit": 500}), 200
    )["items"]
    # Every write of the story is in the campaign's audit chain, attributed to `relief demo`.
    assert (events[0]["entity_type"], events[0]["action"]) == ("campaigns", "created")
    assert {"contributions", "pledges", "allocations"} <= {e["entity_type"] for e in events}
    assert {(e["actor_role"], e["actor_key_id"], e["method"], e["path"]) for e in events} == {
        ("system", None, "SYSTEM", "relief demo")
    }
    assert f.ok(client.get("/v1/audit/verify"), 200)["ok"] is True


def test_a_script_that_binds_nobody_cannot_write(db):
    # Scope fails closed: services outside a request must say who is acting.
    from app.donors import service as donors
    from app.donors.schemas import DonorCreate
    from app.keys.scope import NoPrincipal

    with pytest.raises(NoPrincipal), db.transaction() as session:
        donors.create(session, donor_in=DonorCreate(name="Nguyễn Văn An", kind="individual"))
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Donor)) == 0
