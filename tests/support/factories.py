"""Build test data through the public API, with the seed story's names and places."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

_counter = itertools.count(1)


def ok(response: Any, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    body: dict[str, Any] = response.json()
    return body


def campaign(
    client: TestClient, *, code: str | None = None, status: str = "open", **fields: Any
) -> dict[str, Any]:
    body = {
        "code": code or f"ky-son-flood-{next(_counter)}",
        "title": "Ủng hộ đồng bào Kỳ Sơn bị lũ quét",
        "kind": "flood",
        **fields,
    }
    created = ok(client.post("/v1/campaigns", json=body))
    if status in ("open", "closed"):
        created = ok(client.patch(f"/v1/campaigns/{created['code']}", json={"status": "open"}), 200)
    if status == "closed":
        created = ok(
            client.patch(f"/v1/campaigns/{created['code']}", json={"status": "closed"}), 200
        )
    return created


def unit_tree(client: TestClient) -> None:
    """Units root → nghe-an (province) → {ky-son, tan-ky} (districts)."""
    for code, parent in (("nghe-an", None), ("ky-son", "nghe-an"), ("tan-ky", "nghe-an")):
        body = {"code": code, "name": f"Ủy ban MTTQ {code}", "parent_code": parent}
        ok(client.post("/v1/units", json=body))


def donor(client: TestClient, **fields: Any) -> dict[str, Any]:
    body = {"name": "Nguyễn Văn An", "kind": "individual", **fields}
    return ok(client.post("/v1/donors", json=body))


def location(
    client: TestClient, name: str = "Huyện Kỳ Sơn", level: str = "district", **fields: Any
) -> dict[str, Any]:
    return ok(client.post("/v1/locations", json={"name": name, "level": level, **fields}))


def pledge(
    client: TestClient, code: str, donor_id: int, amount: str | int, **fields: Any
) -> dict[str, Any]:
    body = {"donor_id": donor_id, "amount": str(amount), **fields}
    return ok(client.post(f"/v1/campaigns/{code}/pledges", json=body))


def contribution(client: TestClient, code: str, amount: str | int, **fields: Any) -> dict[str, Any]:
    body = {"amount": str(amount), "received_on": "2022-10-05", "method": "bank_transfer", **fields}
    return ok(client.post(f"/v1/campaigns/{code}/contributions", json=body))


def allocation(
    client: TestClient, code: str, location_id: int, amount: str | int, **fields: Any
) -> dict[str, Any]:
    body = {
        "location_id": location_id,
        "amount": str(amount),
        "purpose": "Hỗ trợ làm nhà",
        # Before the factories' deliveries (2022-10-10 onwards), after their gifts.
        "allocated_on": "2022-10-06",
        **fields,
    }
    return ok(client.post(f"/v1/campaigns/{code}/allocations", json=body))


def reconciliation(client: TestClient, code: str, **params: str) -> dict[str, Any]:
    return ok(client.get(f"/v1/campaigns/{code}/reconciliation", params=params), 200)


def money(reconciliation_body: dict[str, Any]) -> dict[str, Any]:
    return dict(reconciliation_body["money"])


def d(value: str) -> Decimal:
    return Decimal(value)


def checks_ok(reconciliation_body: dict[str, Any]) -> bool:
    return all(check["ok"] for check in reconciliation_body["checks"])


def item(client: TestClient, code: str = "breeding-goat", **fields: Any) -> dict[str, Any]:
    body = {"code": code, "name": "Dê giống", "unit": "con", **fields}
    return ok(client.post("/v1/items", json=body))


def goods_contribution(
    client: TestClient, code: str, item_code: str, quantity: str | int, **fields: Any
) -> dict[str, Any]:
    body = {
        "item_code": item_code,
        "quantity": str(quantity),
        "received_on": "2022-10-06",
        **fields,
    }
    return ok(client.post(f"/v1/campaigns/{code}/contributions", json=body))


def goods_allocation(
    client: TestClient,
    code: str,
    location_id: int,
    item_code: str,
    quantity: str | int,
    **fields: Any,
) -> dict[str, Any]:
    body = {
        "location_id": location_id,
        "item_code": item_code,
        "quantity": str(quantity),
        "purpose": "Hỗ trợ sinh kế cho hộ nghèo",
        "allocated_on": "2022-10-06",
        **fields,
    }
    return ok(client.post(f"/v1/campaigns/{code}/allocations", json=body))


def goods_line(reconciliation_body: dict[str, Any], item_code: str) -> dict[str, Any]:
    lines = [g for g in reconciliation_body["goods"] if g["item_code"] == item_code]
    assert len(lines) == 1, reconciliation_body["goods"]
    return dict(lines[0])


def goods_pledge(
    client: TestClient, code: str, donor_id: int, item_code: str, quantity: str | int
) -> dict[str, Any]:
    body = {"donor_id": donor_id, "item_code": item_code, "quantity": str(quantity)}
    return ok(client.post(f"/v1/campaigns/{code}/pledges", json=body))
