"""`relief locations import`: the 2025 official units, idempotent, next to custom old districts."""

import re

from sqlalchemy import func, select
from typer.testing import CliRunner
from vietnam_provinces import Province, Ward

from app.cli import app
from app.locations.models import Location
from tests.support import factories as f

PROVINCES = 34
COMMUNES = sum(1 for _ in Ward.iter_all())  # wards, communes and special zones


def run_import(database_url: str) -> str:
    result = CliRunner().invoke(app, ["locations", "import", "--database-url", database_url])
    assert result.exit_code == 0, result.output
    return result.output


def totals(output: str) -> tuple[int, int]:
    found = re.search(r"created (\d+), already present (\d+)", output)
    assert found, output
    return int(found[1]), int(found[2])


def counts(db) -> tuple[int, int]:
    with db.session() as session:
        return session.execute(
            select(func.count(), func.count(Location.code)).select_from(Location)
        ).one()


def one(client, q: str, **params) -> dict:
    items = f.ok(client.get("/v1/locations", params={"q": q, **params}), 200)["items"]
    assert len(items) == 1, items
    return items[0]


def test_import_loads_the_2025_units_with_codes_then_changes_nothing(client, db, database_url):
    assert sum(1 for _ in Province.iter_all()) == PROVINCES
    assert COMMUNES > 3000
    assert totals(run_import(database_url)) == (PROVINCES + COMMUNES, 0)
    assert counts(db) == (PROVINCES + COMMUNES, PROVINCES + COMMUNES)

    nghe_an = one(client, "nghe an", level="province")
    assert (nghe_an["name"], nghe_an["code"], nghe_an["depth"]) == ("Tỉnh Nghệ An", "40", 0)
    muong_xen = one(client, "muong xen")
    assert muong_xen == {
        **muong_xen,
        "name": "Xã Mường Xén",
        "level": "commune",
        "code": "16813",
        "parent_id": nghe_an["id"],
        "path": "Tỉnh Nghệ An › Xã Mường Xén",
        "depth": 1,
    }
    assert one(client, "con dao")["path"] == "Thành phố Hồ Chí Minh › Đặc khu Côn Đảo"
    assert (
        one(client, "thanh xuan", level="commune", parent_id=one(client, "ha noi")["id"])["code"]
        == "00367"
    )
    communes = client.get("/v1/locations", params={"parent_id": nghe_an["id"], "limit": 500})
    assert len(f.ok(communes, 200)["items"]) == sum(
        1 for w in Ward.iter_all() if w.province_code == 40
    )

    assert totals(run_import(database_url)) == (0, PROVINCES + COMMUNES)
    assert counts(db) == (PROVINCES + COMMUNES, PROVINCES + COMMUNES)


def test_the_import_is_audited_under_its_system_principal(client, db, database_url):
    run_import(database_url)
    events = f.ok(client.get("/v1/audit", params={"entity": "locations", "limit": 500}), 200)
    first_page = events["items"]
    assert len(first_page) == 500 and events["next_cursor"] is not None
    assert {(e["actor_role"], e["method"], e["path"], e["action"]) for e in first_page} == {
        ("system", "SYSTEM", "relief locations import", "created")
    }
    assert first_page[0]["changes"]["name"] == "Thành phố Hà Nội"
    assert f.ok(client.get("/v1/audit/verify"), 200)["ok"] is True


def test_pre_2025_districts_stay_creatable_under_the_imported_province(client, db, database_url):
    run_import(database_url)
    nghe_an = one(client, "tinh nghe an", level="province")
    ky_son = f.location(client, "Huyện Kỳ Sơn", "district", parent_id=nghe_an["id"])
    tan_ky = f.location(client, "Huyện Tân Kỳ", "district", parent_id=nghe_an["id"])
    assert (ky_son["path"], ky_son["code"], ky_son["depth"]) == (
        "Tỉnh Nghệ An › Huyện Kỳ Sơn",
        None,
        1,
    )
    assert tan_ky["path"] == "Tỉnh Nghệ An › Huyện Tân Kỳ"
    # The 2025 commune of the same name is another place, at another level.
    assert one(client, "tan ky", parent_id=nghe_an["id"], level="commune")["name"] == "Xã Tân Kỳ"
    assert one(client, "KỲ SƠN", level="district")["id"] == ky_son["id"]
    # 2022 records name villages of the old district: they hang under its communes.
    old_commune = f.location(client, "Xã Mường Típ", "commune", parent_id=ky_son["id"])
    village = f.location(client, "Bản Xốp Típ", "village", parent_id=old_commune["id"])
    assert village["path"] == "Tỉnh Nghệ An › Huyện Kỳ Sơn › Xã Mường Típ › Bản Xốp Típ"
    again = client.post(
        "/v1/locations",
        json={"name": "huyen ky son", "level": "district", "parent_id": nghe_an["id"]},
    )
    assert (again.status_code, again.json()["existing_id"]) == (409, ky_son["id"])

    assert totals(run_import(database_url)) == (0, PROVINCES + COMMUNES)
    assert counts(db) == (PROVINCES + COMMUNES + 4, PROVINCES + COMMUNES)
    assert f.ok(client.get(f"/v1/locations/{ky_son['id']}"), 200) == ky_son


def test_places_recorded_by_hand_before_the_import_get_their_codes(client, db, database_url):
    nghe_an = f.location(client, "tỉnh nghệ an", "province")
    muong_xen = f.location(client, "Xa Muong Xen", "commune", parent_id=nghe_an["id"])
    thai_nguyen = f.location(client, "Tỉnh Thái Nguyên", "province")
    # Xã Văn Lăng and Xã Văn Lang are two communes: only the exact spelling is claimed.
    van_lang = f.location(client, "Xã Văn Lang", "commune", parent_id=thai_nguyen["id"])

    output = run_import(database_url)
    assert totals(output) == (PROVINCES + COMMUNES - 4, 4)
    assert counts(db) == (PROVINCES + COMMUNES, PROVINCES + COMMUNES)
    codes = {
        loc_id: f.ok(client.get(f"/v1/locations/{loc_id}"), 200)["code"]
        for loc_id in (nghe_an["id"], muong_xen["id"], thai_nguyen["id"], van_lang["id"])
    }
    assert codes == {
        nghe_an["id"]: "40",
        muong_xen["id"]: "16813",
        thai_nguyen["id"]: "19",
        van_lang["id"]: "02143",
    }
    lang = [
        (loc["name"], loc["code"])
        for loc in f.ok(
            client.get("/v1/locations", params={"q": "van lang", "parent_id": thai_nguyen["id"]}),
            200,
        )["items"]
    ]
    assert sorted(lang) == [("Xã Văn Lang", "02143"), ("Xã Văn Lăng", "05665")]
    assert totals(run_import(database_url)) == (0, PROVINCES + COMMUNES)


def test_import_without_the_schema_says_to_migrate(tmp_path):
    result = CliRunner().invoke(
        app, ["locations", "import", "--database-url", f"sqlite:///{tmp_path / 'empty.db'}"]
    )
    assert result.exit_code == 1
    assert "alembic upgrade head" in result.output
