from tests.support import factories as f


def test_donor_round_trip_with_private_fields(client):
    donor = f.donor(
        client,
        name="Gia đình Trần Minh",
        kind="overseas_vietnamese",
        country="de",
        email="tran.minh@example.de",
        phone="+49 30 1234567",
        anonymous=True,
        display_name="Một gia đình kiều bào",
    )
    assert donor["country"] == "DE"
    fetched = f.ok(client.get(f"/v1/donors/{donor['id']}"), 200)
    assert fetched == donor


def test_donor_validation(client):
    for body in (
        {"name": "A", "kind": "alien"},
        {"name": "A", "kind": "individual", "country": "XX"},
        {"name": "A", "kind": "individual", "email": "not-an-email"},
        {"name": "A", "kind": "individual", "phone": "call me"},
        {"name": " ", "kind": "individual"},
        {"name": "A", "kind": "individual", "id": 5},
    ):
        response = client.post("/v1/donors", json=body)
        assert response.status_code == 422, body
    assert client.get("/v1/donors").json()["items"] == []
    assert client.get("/v1/donors/12345").status_code == 404


def test_donor_search_ignores_diacritics(client):
    f.donor(client, name="Võ Thị Trang")
    f.donor(client, name="Phạm Thị Long")
    names = [d["name"] for d in client.get("/v1/donors", params={"q": "vo thi"}).json()["items"]]
    assert names == ["Võ Thị Trang"]
