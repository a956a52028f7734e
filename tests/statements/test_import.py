"""Bank statement import (DESIGN.md, "Bank statements"), through the HTTP API.

Expected figures are worked out here from the files with the csv module alone, never
with the service's own parser.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import unicodedata
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.statements.amounts import parse_amount
from tests.support import factories as f

# Copies of /work/shared/data/, the synthetic exports DESIGN.md says must import as they are.
DATA = Path(__file__).parent / "data"
VCB = DATA / "statement-vcb-style.csv"
AGRIBANK = DATA / "statement-agribank-style.csv"
# The pledge references the synthetic statements carry.
REFERENCES = ("KS-9PLD", "KS-7Q4M", "KS-2HXA")
CSV = {"Content-Type": "text/csv"}


def post_statement(client, code: str, data: bytes | str, **params: Any):
    body = data.encode() if isinstance(data, str) else data
    return client.post(f"/v1/campaigns/{code}/statements", content=body, headers=CSV, params=params)


def imported(client, code: str, data: bytes | str, **params: Any) -> dict[str, Any]:
    return f.ok(post_statement(client, code, data, **params), 200)


def bad_lines(response) -> list[dict[str, Any]]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "statement_has_bad_lines"
    return problem["errors"]


def ky_son_with_pledges(client) -> tuple[str, dict[str, int]]:
    c = f.campaign(client, code="ky-son-flood-2022")
    donor = f.donor(client, name="Công ty CP Sữa Việt Nam", kind="business")
    pledges = {
        reference: f.pledge(client, c["code"], donor["id"], 50_000_000, reference=reference)["id"]
        for reference in REFERENCES
    }
    return c["code"], pledges


def contributions(client, code: str) -> list[dict[str, Any]]:
    items, cursor = [], None
    while True:
        params = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        page = f.ok(client.get(f"/v1/campaigns/{code}/contributions", params=params), 200)
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def expected_from_file(path: Path) -> dict[str, Any]:
    """Counts and sums of a data file, read with the csv module and the file's own layout."""
    rows = list(csv.DictReader(path.open(encoding="utf-8-sig", newline="")))
    credits, debits = [], 0
    for row in rows:
        if "Số tiền ghi có" in row:  # Vietcombank: dots group thousands, debit and credit apart
            if row["Số tiền ghi nợ"].strip():
                debits += 1
                continue
            amount, text = int(row["Số tiền ghi có"].replace(".", "")), row["Nội dung chi tiết"]
        else:  # Agribank: commas group thousands, every row a credit
            amount, text = int(row["Số tiền"].replace(",", "")), row["Nội dung"]
        pledge = next((r for r in REFERENCES if r in text.upper()), None)
        credits.append((amount, pledge))
    per_pledge = {r: sum(a for a, p in credits if p == r) for r in REFERENCES}
    return {
        "rows": len(rows),
        "credits": len(credits),
        "debits": debits,
        "matched": sum(1 for _, p in credits if p),
        "received": sum(a for a, _ in credits),
        "unpledged": sum(a for a, p in credits if p is None),
        "per_pledge": per_pledge,
    }


@pytest.mark.parametrize("path", [VCB, AGRIBANK], ids=["vietcombank", "agribank"])
def test_published_layouts_import_as_they_are(client, path):
    code, pledge_ids = ky_son_with_pledges(client)
    expected = expected_from_file(path)
    report = imported(client, code, path.read_bytes())
    assert report == {
        "rows": expected["rows"],
        "imported": expected["credits"],
        "matched": expected["matched"],
        "unmatched": expected["credits"] - expected["matched"],
        "duplicates": 0,
        "skipped": expected["debits"],
        "errors": [],
        "dry_run": False,
    }
    body = f.reconciliation(client, code, verify="full")
    assert f.checks_ok(body), body["checks"]
    money = f.money(body)
    assert money["received"] == str(expected["received"])
    assert money["unpledged_received"] == str(expected["unpledged"])
    assert money["contributions_count"] == expected["credits"]
    for reference, pledge_id in pledge_ids.items():
        pledge = f.ok(client.get(f"/v1/pledges/{pledge_id}"), 200)
        fulfilled = expected["per_pledge"][reference]
        assert pledge["fulfilled_amount"] == str(fulfilled)
        assert pledge["status"] == (
            "fulfilled" if fulfilled >= 50_000_000 else "partially_fulfilled"
        )


def test_the_exact_counts_of_the_published_files(client):
    # Worked out by hand once, so a change in how expected_from_file reads them shows too.
    assert {k: expected_from_file(VCB)[k] for k in ("rows", "credits", "debits", "matched")} == {
        "rows": 400,
        "credits": 390,
        "debits": 10,
        "matched": 35,
    }
    assert {k: expected_from_file(AGRIBANK)[k] for k in ("rows", "credits", "matched")} == {
        "rows": 148,
        "credits": 148,
        "matched": 14,
    }


def test_reimport_finds_only_duplicates_and_changes_nothing(client):
    code, _ = ky_son_with_pledges(client)
    first = imported(client, code, VCB.read_bytes())
    before = client.get(f"/v1/campaigns/{code}/reconciliation").content
    again = imported(client, code, VCB.read_bytes())
    assert again == {**first, "imported": 0, "matched": 0, "unmatched": 0, "duplicates": 390}
    assert client.get(f"/v1/campaigns/{code}/reconciliation").content == before


def test_an_import_is_one_audit_event_naming_every_contribution(client):
    code, _ = ky_son_with_pledges(client)
    data = VCB.read_bytes()
    imported(client, code, data)
    events = f.ok(
        client.get("/v1/audit", params={"campaign": code, "entity": "contributions"}), 200
    )["items"]
    (event,) = [e for e in events if e["action"] == "imported"]
    changes = event["changes"]
    assert changes["statement_sha256"] == hashlib.sha256(data).hexdigest()
    assert (changes["rows"], changes["imported"], changes["skipped"]) == (400, 390, 10)
    ids = [
        c["id"]
        for c in f.ok(
            client.get(f"/v1/campaigns/{code}/contributions", params={"limit": 500}), 200
        )["items"]
    ]
    assert changes["contribution_ids"] == [[min(ids), max(ids)]] and len(ids) == 390
    assert event["method"] == "POST" and event["actor_role"] == "admin"
    assert f.ok(client.get("/v1/audit/verify"), 200)["ok"] is True


def test_a_row_repeated_in_the_file_is_two_gifts(client):
    # The bank says it happened twice (test_lines.py has the multiset rule in full).
    code = f.campaign(client)["code"]
    report = imported(
        client,
        code,
        "date,amount,description,bank_reference\n"
        "01/10/2022,100.000,ung ho,FT001\n"
        "01/10/2022,100.000,ung ho,FT001\n"
        "02/10/2022,200.000,ung ho,FT002\n",
    )
    assert (report["imported"], report["duplicates"]) == (3, 0)
    assert f.money(f.reconciliation(client, code))["received"] == "400000"


def test_a_reversed_contribution_can_be_imported_again(client):
    code = f.campaign(client)["code"]
    text = "date,amount,description,bank_reference\n01/10/2022,100.000,ung ho,FT001\n"
    imported(client, code, text)
    (recorded,) = contributions(client, code)
    f.ok(client.post(f"/v1/contributions/{recorded['id']}/reverse", json={"reason": "Sai"}), 200)
    assert imported(client, code, text)["imported"] == 1


def test_dry_run_reports_everything_and_writes_nothing(client):
    code, _ = ky_son_with_pledges(client)
    before = client.get(f"/v1/campaigns/{code}/reconciliation").content
    dry = imported(client, code, VCB.read_bytes(), dry_run="true")
    assert client.get(f"/v1/campaigns/{code}/reconciliation").content == before
    assert contributions(client, code) == []
    real = imported(client, code, VCB.read_bytes())
    assert dry == {**real, "dry_run": True}


def test_both_thousands_separators_and_iso_dates(client):
    code = f.campaign(client)["code"]
    report = imported(
        client,
        code,
        "date,amount,description,bank_reference\n"
        '2022-10-01,"1.500.000",ung ho,FT1\n'
        '01/10/2022,"1,500,000",ung ho,FT2\n'
        "01/10/2022,1 500 000,ung ho,FT3\n"
        "01/10/2022,1500000,ung ho,FT4\n"
        "03/10/2022,-22.000,Phi chuyen tien,FT6\n",
    )
    assert (report["imported"], report["skipped"]) == (4, 1)
    amounts = {
        c["bank_reference"]: (c["amount"], c["received_on"]) for c in contributions(client, code)
    }
    assert amounts == {
        "FT1": ("1500000", "2022-10-01"),
        "FT2": ("1500000", "2022-10-01"),
        "FT3": ("1500000", "2022-10-01"),
        "FT4": ("1500000", "2022-10-01"),
    }
    assert f.money(f.reconciliation(client, code))["received"] == "6000000"


@pytest.mark.parametrize(
    "amount", ["0.001", "00.001", "1.0", "1.00", '"1,500,000.00"', "01.500", "1.50", '"1,50,000"']
)
def test_a_vnd_statement_amount_in_any_other_shape_is_a_bad_line(client, amount):
    # Once booked as 1 đồng (or 1,500,000): now the line is bad and nothing is imported.
    code = f.campaign(client)["code"]
    text = f"date,amount,description,bank_reference\n01/10/2022,100.000,ok,F1\n01/10/2022,{amount},x,F2\n"
    (error,) = bad_lines(post_statement(client, code, text))
    assert error["line"] == 3 and amount.strip('"') in error["reason"], error
    assert contributions(client, code) == []


def test_vietnamese_headers_in_any_case_spacing_and_a_bom(client):
    code = f.campaign(client)["code"]
    text = '\ufeffNGÀY GIAO DỊCH , số  tiền,Nội dung,SỐ THAM CHIẾU\n05/10/2022,"2.000.000",ủng hộ,AGR1\n'
    report = imported(client, code, text)
    assert report["imported"] == 1
    nfd = "Ngày GD,Số CT,Số tiền ghi nợ,Số tiền ghi có,Số dư,Nội dung chi tiết\n"
    vcb = (
        unicodedata.normalize("NFD", nfd) + "05/10/2022,5000.1,,300.000,10.000.300.000,QR ung ho\n"
    )
    assert imported(client, code, vcb.encode())["imported"] == 1


def test_an_imported_row_is_an_unpledged_bank_transfer_with_its_description(client):
    code = f.campaign(client)["code"]
    imported(
        client,
        code,
        "date,amount,description,bank_reference\n"
        '01/10/2022,500.000,"MBVCB.8324224601.VO THANH SON.ủng hộ đồng bào lũ lụt",5000.66543\n',
    )
    (c,) = contributions(client, code)
    assert {k: c[k] for k in ("donor_id", "pledge_id", "method", "currency", "settled_amount")} == {
        "donor_id": None,
        "pledge_id": None,
        "method": "bank_transfer",
        "currency": "VND",
        "settled_amount": "500000",
    }
    assert c["description"] == "MBVCB.8324224601.VO THANH SON.ủng hộ đồng bào lũ lụt"
    assert c["receipt_code"].startswith("RL-") and len(c["receipt_code"]) == 14
    assert f.money(f.reconciliation(client, code))["unpledged_received"] == "500000"


def test_a_reference_matches_ignoring_case_spaces_dashes_and_diacritics(client):
    c = f.campaign(client)
    donor = f.donor(client)
    pledge = f.pledge(client, c["code"], donor["id"], 1_000_000, reference="KS-9PLD")
    other = f.pledge(client, c["code"], donor["id"], 1_000_000, reference="KS-7Q4M")
    report = imported(
        client,
        c["code"],
        "date,amount,description,bank_reference\n"
        "01/10/2022,100.000,QR - HUYNH VAN LAN KS-9PLD gia dinh ung ho,R1\n"
        "01/10/2022,200.000,ks - 9pld ung ho,R2\n"
        "01/10/2022,300.000,Ủng hộ kş 9PĹĐ,R3\n"
        "01/10/2022,400.000,chuyen khoan KS9PLD,R4\n"
        "01/10/2022,500.000,ung ho KS-9PLX,R5\n",
    )
    assert (report["matched"], report["unmatched"]) == (4, 1)
    assert f.ok(client.get(f"/v1/pledges/{pledge['id']}"), 200)["fulfilled_amount"] == "1000000"
    assert f.ok(client.get(f"/v1/pledges/{pledge['id']}"), 200)["status"] == "fulfilled"
    assert f.ok(client.get(f"/v1/pledges/{other['id']}"), 200)["fulfilled_amount"] == "0"
    money = f.money(f.reconciliation(client, c["code"], verify="full"))
    assert (money["outstanding_pledges"], money["unpledged_received"]) == ("1000000", "500000")


def test_over_fulfilment_and_a_cancelled_pledge(client):
    c = f.campaign(client)
    donor = f.donor(client)
    pledge = f.pledge(client, c["code"], donor["id"], 300_000, reference="KS-AAAA")
    cancelled = f.pledge(client, c["code"], donor["id"], 300_000, reference="KS-BBBB")
    f.ok(client.post(f"/v1/pledges/{cancelled['id']}/cancel", json={}), 200)
    report = imported(
        client,
        c["code"],
        "date,amount,description,bank_reference\n"
        "01/10/2022,200.000,KS-AAAA,R1\n"
        "01/10/2022,200.000,KS-AAAA lan 2,R2\n"
        "01/10/2022,200.000,KS-BBBB,R3\n",
    )
    assert (report["matched"], report["unmatched"]) == (2, 1)
    body = f.ok(client.get(f"/v1/pledges/{pledge['id']}"), 200)
    assert (body["fulfilled_amount"], body["over_fulfilled_amount"]) == ("400000", "100000")
    reconciliation = f.reconciliation(client, c["code"], verify="full")
    assert f.checks_ok(reconciliation), reconciliation["checks"]


def test_a_bad_file_writes_nothing_and_names_every_bad_line(client):
    code = f.campaign(client)["code"]
    tomorrow = (date.today() + timedelta(days=2)).strftime("%d/%m/%Y")
    before = client.get(f"/v1/campaigns/{code}/reconciliation").content
    text = (
        "date,amount,description,bank_reference\n"  # 1
        "01/10/2022,100.000,ung ho,OK1\n"  # 2 fine
        "31/02/2022,100.000,ung ho,B3\n"  # 3 no such day
        f"{tomorrow},100.000,ung ho,B4\n"  # 4 future
        '01/10/2022,"1,5",ung ho,B5\n'  # 5 VND has no minor units
        "01/10/2022,muoi nghin,ung ho,B6\n"  # 6 not an amount
        "01/10/2022,100.000,ung ho,\n"  # 7 no bank reference
        "01/10/2022,100.000,ung ho\n"  # 8 a column short
        "\n"  # 9 blank: ignored
        '01/10/2022,100.000,"ung ho\n'  # 10 a quoted cell spanning two lines: fine
        'tiep",OK11\n'
        "1/10/22,100.000,ung ho,B12\n"  # 12 two-digit year
        "01/10/2022,0,ung ho,B13\n"  # 13 zero
    )
    errors = bad_lines(post_statement(client, code, text))
    assert [e["line"] for e in errors] == [3, 4, 5, 6, 7, 8, 12, 13]
    assert all(e["reason"] for e in errors)
    assert "after today" in errors[1]["reason"]
    assert client.get(f"/v1/campaigns/{code}/reconciliation").content == before
    assert contributions(client, code) == []
    # A dry run answers the same.
    assert bad_lines(post_statement(client, code, text, dry_run="true")) == errors


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("ngay,tien\n01/10/2022,1000\n", "missing column"),
        ("date,amount,amount,bank_reference\n", "two columns"),
        ("date,amount,credit,bank_reference\n", "not both"),
    ],
)
def test_a_bad_header_is_line_1(client, text, reason):
    code = f.campaign(client)["code"]
    errors = bad_lines(post_statement(client, code, text))
    assert errors[0]["line"] == 1 and reason in errors[0]["reason"], errors


def test_non_utf8_and_non_csv_bodies_are_refused(client):
    code = f.campaign(client)["code"]
    latin = b"date,amount,description,bank_reference\n01/10/2022,1000,caf\xe9,R1\n"
    assert bad_lines(post_statement(client, code, latin))[0]["line"] == 2
    response = client.post(f"/v1/campaigns/{code}/statements", json={"rows": []})
    assert (response.status_code, response.json()["code"]) == (415, "statement_must_be_csv")


def test_only_open_and_closed_campaigns_take_statements(client):
    text = "date,amount,description,bank_reference\n01/10/2022,100.000,ung ho,R1\n"
    draft = f.campaign(client, status="draft")["code"]
    response = post_statement(client, draft, text)
    assert (response.status_code, response.json()["code"]) == (409, "campaign_not_accepting")
    closed = f.campaign(client, status="closed")["code"]
    assert imported(client, closed, text)["imported"] == 1
    assert post_statement(client, "no-such-campaign", text).status_code == 404


def test_a_statement_of_a_currency_with_minor_units(client):
    code = f.campaign(client, currency="USD")["code"]
    report = imported(
        client,
        code,
        "date,amount,description,bank_reference\n"
        '01/10/2022,"1,500.25",gift,U1\n'
        '01/10/2022,"1.500,25",gift,U2\n'
        "01/10/2022,12.5,gift,U3\n",
    )
    assert report["imported"] == 3
    assert f.money(f.reconciliation(client, code))["received"] == "3013"
    errors = bad_lines(
        post_statement(
            client, code, 'date,amount,description,bank_reference\n01/10/2022,"1,500",gift,U4\n'
        )
    )
    assert "ambiguous" in errors[0]["reason"]


def test_bulk_import_gives_the_ledger_posting_one_by_one_gives(client):
    """The same rows through POST /contributions (post_entry) and through a statement
    (post_entries): entry for entry the same postings, balances after, kinds and counters."""
    donor = f.donor(client)
    codes = []
    for _ in range(2):
        c = f.campaign(client)
        f.pledge(client, c["code"], donor["id"], 250_000, reference="KS-AAAA")
        codes.append(c["code"])
    rows = [
        ("01/10/2022", 100_000, "KS-AAAA ung ho", "R1"),
        ("02/10/2022", 200_000, "ung ho mien Trung", "R2"),
        ("03/10/2022", 300_000, "lan 2 KS-AAAA", "R3"),
        ("03/10/2022", 400_000, "QR ung ho", "R4"),
    ]
    lines = ["date,amount,description,bank_reference"]
    lines += [f"{d},{a},{text},{ref}" for d, a, text, ref in rows]
    imported(client, codes[0], "\n".join(lines) + "\n")
    pledge_id = f.ok(client.get(f"/v1/campaigns/{codes[1]}/pledges"), 200)["items"][0]["id"]
    for d, amount, text, ref in rows:
        day, month, year = d.split("/")
        f.contribution(
            client,
            codes[1],
            amount,
            received_on=f"{year}-{month}-{day}",
            bank_reference=ref,
            description=text,
            **({"pledge_id": pledge_id} if "KS-AAAA" in text else {}),
        )

    def chain(code: str) -> list[Any]:
        entries = f.ok(client.get(f"/v1/campaigns/{code}/ledger", params={"limit": 500}), 200)
        result = []
        for e in entries["items"]:
            detail = json.loads(e["detail_json"])
            for key in ("contribution_id", "receipt_code", "pledge_id", "campaign"):
                detail.pop(key, None)
            postings = sorted(
                (p["account"], p["asset"], p["amount"], p["balance_after"]) for p in e["postings"]
            )
            result.append((e["seq"], e["kind"], detail, postings, e["contributions_count"]))
        return result

    assert chain(codes[0]) == chain(codes[1])
    for code in codes:
        body = f.reconciliation(client, code, verify="full")
        assert f.checks_ok(body), body["checks"]
    first, second = (f.money(f.reconciliation(client, code)) for code in codes)
    assert first == second


# --------------------------------------------------------------------------- amounts


def _grouped(n: int, separator: str) -> str:
    return f"{n:,}".replace(",", separator)


@given(st.integers(min_value=0, max_value=10**15), st.sampled_from([".", ",", " ", ""]))
def test_vnd_amounts_in_every_grouping(n, separator):
    assert parse_amount(_grouped(n, separator), "VND", 0) == n
    assert parse_amount("-" + _grouped(n, separator), "VND", 0) == -n


@given(st.integers(min_value=0, max_value=10**15), st.sampled_from([".", ",", ""]))
def test_vnd_amounts_with_a_zero_decimal_part_are_refused(n, separator):
    # Decimals only where the currency has them: "1,500,000.00" is not a VND amount.
    decimal_mark = "," if separator == "." else "."
    with pytest.raises(ValueError):
        parse_amount(_grouped(n, separator) + decimal_mark + "00", "VND", 0)


@given(st.integers(min_value=1, max_value=10**15), st.sampled_from([".", ",", " "]))
def test_a_leading_zero_group_is_refused(n, separator):
    with pytest.raises(ValueError, match="zero group"):
        parse_amount("0" + _grouped(n, separator), "VND", 0)
    with pytest.raises(ValueError, match="zero group"):
        parse_amount("0" + separator + _grouped(n, separator), "VND", 0)


@given(st.integers(min_value=0, max_value=10**15), st.integers(min_value=1, max_value=99))
def test_vnd_refuses_a_fraction(n, cents):
    with pytest.raises(ValueError):
        parse_amount(f"{_grouped(n, '.')},{cents:02d}", "VND", 0)


@given(st.integers(min_value=0, max_value=10**13), st.integers(min_value=0, max_value=99))
def test_usd_amounts_both_ways_round(whole, cents):
    expected = Decimal(whole) + Decimal(cents) / 100
    us = f"{whole:,}.{cents:02d}"
    european = us.replace(",", "_").replace(".", ",").replace("_", ".")
    assert parse_amount(us, "USD", 2) == expected
    assert parse_amount(european, "USD", 2) == expected
    assert parse_amount(f"{whole}.{cents:02d}", "USD", 2) == expected


@given(st.integers(min_value=1, max_value=999), st.integers(min_value=0, max_value=999))
def test_usd_refuses_what_could_be_thousands_or_decimals(head, tail):
    for mark in (".", ","):
        with pytest.raises(ValueError, match="ambiguous"):
            parse_amount(f"{head}{mark}{tail:03d}", "USD", 2)


@given(st.text(max_size=30))
def test_any_text_is_an_amount_or_a_reason(text):
    try:
        value = parse_amount(text, "VND", 0)
    except ValueError as exc:
        assert str(exc)
    else:
        assert value == value.to_integral_value()


def test_amount_parser_edge_cases():
    assert parse_amount("1.500", "VND", 0) == 1500
    assert parse_amount(" 1\u00a0500\u00a0000 ", "VND", 0) == 1_500_000
    assert parse_amount("0.50", "USD", 2) == Decimal("0.5")
    for text in ("1.50", "1,5", "1.2.3", "1,50,000", "1.500,000.000", "", "--1", "1e6", "١٢٣"):
        with pytest.raises(ValueError):
            parse_amount(text, "VND", 0)


def test_csv_helper_reads_what_it_writes():
    # The tests' own expectations rest on csv reading quoted cells with commas.
    assert next(csv.reader(io.StringIO('a,"1,500,000",c'))) == ["a", "1,500,000", "c"]
