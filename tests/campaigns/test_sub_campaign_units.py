"""Finding 1 of issue 11: a sub-campaign stays in its parent's unit (or below), and a
roll-up (`include_children`) covers only campaigns the caller may see."""

from sqlalchemy import select, update

from app.campaigns.models import Campaign
from app.units.models import Unit
from tests.support import factories as f


def _problem(response, status, code):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code
    return response.json()


def test_a_sub_campaign_in_another_unit_is_refused(client):
    f.unit_tree(client)
    parent = f.campaign(client, code="ky-son-flood-2022", unit_code="ky-son")
    body = {
        "code": "ky-son-ta-ca",
        "title": "Xã Tà Cạ",
        "kind": "flood",
        "parent_code": parent["code"],
        "unit_code": "tan-ky",
    }
    _problem(client.post("/v1/campaigns", json=body), 409, "sub_campaign_outside_parent_unit")
    # The parent's own unit's parent is outside too.
    body["unit_code"] = "nghe-an"
    _problem(client.post("/v1/campaigns", json=body), 409, "sub_campaign_outside_parent_unit")
    assert client.get("/v1/campaigns/ky-son-ta-ca").status_code == 404


def test_a_sub_campaign_takes_its_parents_unit_unless_told(client):
    f.unit_tree(client)
    f.ok(
        client.post(
            "/v1/units", json={"code": "ta-ca", "name": "Xã Tà Cạ", "parent_code": "ky-son"}
        )
    )
    parent = f.campaign(client, code="ky-son-flood-2022", unit_code="ky-son")
    child = f.campaign(client, code="ky-son-muong-long", parent_code=parent["code"])
    assert child["unit_code"] == "ky-son"
    below = f.campaign(client, code="ky-son-ta-ca", parent_code=parent["code"], unit_code="ta-ca")
    assert below["unit_code"] == "ta-ca"


def test_a_roll_up_leaves_out_campaigns_the_caller_cannot_see(client, headers_for, db):
    f.unit_tree(client)
    parent = f.campaign(client, code="ky-son-flood-2022", unit_code="ky-son")
    own = f.campaign(client, code="ky-son-muong-long", parent_code=parent["code"])
    other = f.campaign(client, code="tan-ky-leak", parent_code=parent["code"])
    f.contribution(client, parent["code"], 1_000_000)
    f.contribution(client, own["code"], 200_000)
    f.contribution(client, other["code"], 30_000)
    # A sub-campaign made in another unit before the rule existed (moved there directly).
    with db.transaction() as session:
        tan_ky = session.scalar(select(Unit.id).where(Unit.code == "tan-ky"))
        session.execute(
            update(Campaign).where(Campaign.code == other["code"]).values(unit_id=tan_ky)
        )

    officer = headers_for("officer", "ky-son")
    params = {"include_children": "true"}
    seen = f.ok(
        client.get(
            f"/v1/campaigns/{parent['code']}/reconciliation", params=params, headers=officer
        ),
        200,
    )
    assert [c["code"] for c in seen["children"]] == ["ky-son-muong-long"]
    assert seen["money"]["received"] == "1200000"
    assert seen["money"]["contributions_count"] == 2
    assert "tan-ky-leak" not in str(seen)

    # An admin reaches every unit: the whole tree.
    everything = f.reconciliation(client, parent["code"], **params)
    assert [c["code"] for c in everything["children"]] == ["ky-son-muong-long", "tan-ky-leak"]
    assert everything["money"]["received"] == "1230000"
