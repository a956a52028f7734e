"""Every contribution has a receipt code, imported ones too, and a donor who paid by bank
transfer finds their gift by its exact bank reference (issue 10, item 5)."""

from __future__ import annotations

from tests.statements.test_import import contributions, imported
from tests.support import factories as f

STATEMENT = (
    "TNXDate,DocNo,Debit,Credit,Balance,Transactions in Detail\n"
    "01/09/2024,5213.33816,,2.000.000,,HO THANH HUONG ung ho bao Yagi\n"
    "01/09/2024,5213.33816,,50.000,,DANG THU HUONG ung ho bao Yagi\n"
    "01/09/2024,5388.75313,,300.000,,VU KIM QUAN ung ho\n"
)


def test_an_imported_contribution_has_a_receipt_the_public_finds(client):
    code = f.campaign(client)["code"]
    imported(client, code, STATEMENT)
    recorded = contributions(client, code)
    codes = [c["receipt_code"] for c in recorded]
    assert len(set(codes)) == 3 and all(c.startswith("RL-") and len(c) == 14 for c in codes)
    for c in recorded:
        receipt = f.ok(client.get(f"/v1/public/receipts/{c['receipt_code']}"), 200)
        assert receipt["contribution"]["settled_amount"] == c["settled_amount"]


def test_the_public_finds_a_gift_by_its_exact_bank_reference_only(client):
    code = f.campaign(client)["code"]
    imported(client, code, STATEMENT)
    f.contribution(client, code, 100_000, bank_reference="FT22278001", method="bank_transfer")
    path = f"/v1/public/campaigns/{code}/contributions"

    def amounts(reference: str) -> list[str]:
        page = f.ok(client.get(path, params={"bank_reference": reference}), 200)
        return sorted(item["settled_amount"] for item in page["items"])

    # A document number the bank reused names both gifts; each donor knows theirs by amount.
    assert amounts("5213.33816") == ["2000000", "50000"]
    assert amounts("5388.75313") == ["300000"]
    assert amounts("FT22278001") == ["100000"]
    # Never by a part, nor by another case or spacing.
    for partial in ("5213", "33816", "5213.3381", "ft22278001", " FT22278001", "FT%"):
        assert amounts(partial) == [], partial
    response = client.get(path, params={"bank_reference": "x" * 101})
    assert response.status_code == 422
