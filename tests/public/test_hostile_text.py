"""Findings 2 and 6 of issue 11: the public statement's CSV never carries a live
spreadsheet formula, and public search finds only what the public is shown."""

import csv
import io

import pytest

from tests.support import factories as f

FORMULAS = [
    '=HYPERLINK("http://evil.example/x","x")',
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "@SUM(A1:A2)",
]


@pytest.fixture
def code(client):
    return f.campaign(client, code="ky-son-flood-2022")["code"]


def _csv(client, code, **params):
    response = client.get(
        f"/v1/public/campaigns/{code}/contributions", params={"format": "csv", **params}
    )
    assert response.status_code == 200, response.text
    assert response.content.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_csv_cells_that_would_run_as_formulas_are_made_text(client, code):
    for number, text in enumerate(FORMULAS, start=1):
        donor = f.donor(client, name=text)
        f.contribution(client, code, 100_000 * number, donor_id=donor["id"], description=text)
    # A tab or carriage return at the start is kept by a LongText transfer message? No:
    # surrounding whitespace is stripped, so only the five formula starts reach the file.
    rows = _csv(client, code)
    assert [r["donor_name"] for r in rows] == ["'" + t for t in FORMULAS]
    assert [r["description"] for r in rows] == ["'" + t for t in FORMULAS]
    # Numbers stay numbers.
    assert [r["amount"] for r in rows] == [str(100_000 * n) for n in range(1, 6)]


def test_every_row_and_the_header_are_utf8_with_a_bom(client, code):
    donor = f.donor(client, name="Phạm Thị Long")
    f.contribution(client, code, 500_000, donor_id=donor["id"], description="Ủng hộ đồng bào")
    rows = _csv(client, code)
    assert list(rows[0]) == [
        "id", "received_on", "recorded_at", "kind", "amount", "currency", "settled_amount",
        "item_code", "quantity", "donor_name", "description", "status",
    ]  # fmt: skip
    assert rows[0]["donor_name"] == "Phạm Thị Long"
    assert rows[0]["description"] == "Ủng hộ đồng bào"


def test_public_search_never_matches_the_real_name_behind_a_display_name(client, code):
    hidden = f.donor(client, name="Phạm Tên Thật Riêng", display_name="Gia đình P.")
    shown = f.donor(client, name="Phạm Văn Công")
    f.contribution(client, code, 200_000, donor_id=hidden["id"])
    f.contribution(client, code, 300_000, donor_id=shown["id"])
    path = f"/v1/public/campaigns/{code}/contributions"

    def found(q):
        return [r["donor_name"] for r in f.ok(client.get(path, params={"q": q}), 200)["items"]]

    assert found("pham ten that") == []
    assert found("rieng") == []
    assert found("gia dinh p") == ["Gia đình P."]
    assert found("pham") == ["Phạm Văn Công"]
    assert [r["donor_name"] for r in _csv(client, code, q="pham ten that")] == []
