"""Cursors: a cursor the service never issued is 422 `invalid_cursor`, on every list."""

import base64

import pytest

from tests.support import factories as f


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _paginated_paths(client, code):
    document = client.get("/openapi.json").json()
    for path, operations in document["paths"].items():
        get = operations.get("get")
        if get and any(p["name"] == "cursor" for p in get.get("parameters", [])):
            yield path.replace("{code}", code)


@pytest.mark.parametrize(
    "cursor",
    [
        _cursor("id:9223372036854775808"),  # one past the largest 64-bit integer
        _cursor("id:2147483648"),  # one past the largest id (PostgreSQL integer)
        _cursor("id:" + "9" * 40),
        _cursor("id:²"),  # a digit to str.isdigit, not to int()
        "%%%",
    ],
)
def test_a_forged_cursor_is_422_on_every_paginated_list(client, cursor):
    code = f.campaign(client, code="ky-son-flood-2022")["code"]
    paths = list(_paginated_paths(client, code))
    assert len(paths) >= 13
    for path in paths:
        response = client.get(path, params={"cursor": cursor})
        assert response.status_code == 422, f"{path}: {response.text}"
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "invalid_cursor", path


def test_the_largest_id_is_still_a_cursor(client):
    f.campaign(client)
    response = client.get("/v1/campaigns", params={"cursor": _cursor("id:2147483647")})
    assert f.ok(response, 200) == {"items": [], "next_cursor": None}
