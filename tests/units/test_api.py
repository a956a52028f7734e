"""Units: the tree of organisations that keys and campaigns belong to."""

from tests.support import factories as f


def test_units_form_a_tree_under_root(client):
    f.unit_tree(client)
    units = {u["code"]: u for u in f.ok(client.get("/v1/units"), 200)["items"]}
    assert units["root"]["parent_code"] is None
    assert (units["ky-son"]["parent_code"], units["ky-son"]["path"]) == (
        "nghe-an",
        "/root/nghe-an/ky-son/",
    )
    taken = client.post("/v1/units", json={"code": "ky-son", "name": "again"})
    assert (taken.status_code, taken.json()["code"]) == (409, "unit_code_taken")
    orphan = client.post("/v1/units", json={"code": "xa-a", "name": "x", "parent_code": "nope"})
    assert (orphan.status_code, orphan.json()["errors"][0]["field"]) == (422, "parent_code")
