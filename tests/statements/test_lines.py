"""A bank line is booked once, and every real line is booked (issue 10, item 2).

A line's identity is everything the bank says about it, counted as a multiset over the
campaigns that may hold the same money (the campaign tree, shared receiving accounts).
Expected figures come from the files through the csv module alone.
"""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.statements.test_import import (
    DATA,
    bad_lines,
    contributions,
    imported,
    post_statement,
)
from tests.support import factories as f

VCB_ENGLISH = DATA / "statement-vcb-english.csv"
AGRIBANK_2024 = DATA / "statement-agribank-2024.csv"
VIETINBANK_2024 = DATA / "statement-vietinbank-2024.csv"
# file → (credit column, debit column, thousands separator), as each bank writes them
LAYOUTS = {
    VCB_ENGLISH: ("Credit", "Debit", "."),
    AGRIBANK_2024: ("CreditAmount", "DebitAmount", ","),
    VIETINBANK_2024: ("CreditAmount", "DebitAmount", ","),
}
HEADER = "date,amount,description,bank_reference\n"


def expected(path: Path) -> tuple[int, int, int]:
    """(rows, credits, sum of credits) of a 2024 export, read with the csv module."""
    credit, _debit, separator = LAYOUTS[path]
    rows = list(csv.DictReader(path.open(encoding="utf-8-sig", newline="")))
    amounts = [int(r[credit].replace(separator, "")) for r in rows if r[credit].strip()]
    return len(rows), len(amounts), sum(amounts)


@pytest.mark.parametrize(
    "path", list(LAYOUTS), ids=["vcb-english", "agribank-2024", "vietinbank-2024"]
)
def test_each_2024_layout_books_every_line_once(client, path):
    code = f.campaign(client)["code"]
    rows, credits, total = expected(path)
    report = imported(client, code, path.read_bytes())
    assert (report["rows"], report["imported"], report["duplicates"]) == (rows, credits, 0)
    assert report["skipped"] == rows - credits
    money = f.money(f.reconciliation(client, code, verify="full"))
    assert (money["received"], money["contributions_count"]) == (str(total), credits)
    again = imported(client, code, path.read_bytes())
    assert (again["imported"], again["duplicates"]) == (0, credits)
    assert f.money(f.reconciliation(client, code))["received"] == str(total)


def test_the_2024_files_are_what_the_tests_say(client):
    # Worked out by hand once: the English export has one bank-fee debit.
    assert expected(VCB_ENGLISH) == (400, 399, 238_990_000)
    assert expected(AGRIBANK_2024) == (300, 300, 209_122_000)
    assert expected(VIETINBANK_2024) == (300, 300, 215_580_000)
    docnos = [r["DocNo"] for r in csv.DictReader(VCB_ENGLISH.open(encoding="utf-8-sig"))]
    # 9 document numbers recur, on 12 more lines than there are numbers
    assert (len({d for d in docnos if docnos.count(d) > 1}), len(docnos) - len(set(docnos))) == (
        9,
        12,
    )


def test_recurring_document_numbers_are_different_gifts(client):
    code = f.campaign(client)["code"]
    report = imported(
        client,
        code,
        "TNXDate,DocNo,Debit,Credit,Balance,Transactions in Detail\n"
        "01/09/2024,5213.33816,,2.000.000,,HO THANH HUONG ung ho bao Yagi\n"
        "01/09/2024,5213.33816,,50.000,,DANG THU HUONG ung ho bao Yagi\n"
        "01/09/2024,5213.33816,,50.000,,LY QUANG GIANG cam on to quoc\n",
    )
    assert (report["imported"], report["duplicates"]) == (3, 0)
    assert f.money(f.reconciliation(client, code))["received"] == "2100000"


def test_a_line_listed_twice_is_two_gifts_and_a_reimport_adds_only_what_is_new(client):
    code = f.campaign(client)["code"]
    line = "01/10/2022,100.000,ung ho,FT001\n"
    assert imported(client, code, HEADER + line + line)["imported"] == 2
    # The same file again books nothing; a longer one books only the third occurrence.
    assert imported(client, code, HEADER + line + line)["duplicates"] == 2
    report = imported(client, code, HEADER + line * 3 + "02/10/2022,200.000,ung ho,FT002\n")
    assert (report["imported"], report["duplicates"]) == (2, 2)
    assert f.money(f.reconciliation(client, code))["received"] == "500000"


def test_a_multi_line_cell_is_one_message(client):
    code = f.campaign(client)["code"]
    imported(
        client,
        code,
        "PageId,Date,Time,DocumentNumber,ReferenceNumber,TransactionDetails,DebitAmount,"
        'CreditAmount,Balance,OffsetAccount\n1,10/09/2024,10:06:34,,,"CT nhanh 247 den: TR\n'
        'AN KIM PHUONG cam on",,"5,000,000",,TRAN KIM PHUONG – A/C\n',
    )
    (c,) = contributions(client, code)
    assert (c["description"], c["bank_reference"]) == (
        "CT nhanh 247 den: TRAN KIM PHUONG cam on",
        None,
    )
    assert c["receipt_code"].startswith("RL-")


def test_a_line_without_number_needs_its_time(client):
    code = f.campaign(client)["code"]
    errors = bad_lines(
        post_statement(
            client,
            code,
            "Date,Time,DocumentNumber,ReferenceNumber,TransactionDetails,CreditAmount\n"
            '10/09/2024,,,,ung ho,"5,000"\n'
            '10/09/2024,25:00,,,ung ho,"5,000"\n',
        )
    )
    assert [e["line"] for e in errors] == [2, 3]
    assert "bank_reference is empty" in errors[0]["reason"] and "time" in errors[1]["reason"]


def _tree(client) -> tuple[str, str]:
    parent = f.campaign(client)["code"]
    child = f.campaign(client, parent_code=parent)["code"]
    return parent, child


def test_a_statement_is_booked_once_across_a_campaign_tree(client):
    parent, child = _tree(client)
    sibling = f.campaign(client, parent_code=parent)["code"]
    data = VCB_ENGLISH.read_bytes()
    first = imported(client, parent, data)
    for code in (child, sibling):
        report = imported(client, code, data)
        assert (report["imported"], report["duplicates"]) == (0, first["imported"])
    body = f.reconciliation(client, parent, include_children="true")
    assert f.money(body)["received"] == "238990000"
    check = next(c for c in body["checks"] if c["name"] == "bank_lines_counted_once")
    assert check["ok"], check


def test_a_shared_receiving_account_shares_its_lines(client):
    one, two = f.campaign(client)["code"], f.campaign(client)["code"]
    for code in (one, two):
        account = {"bank": "Vietcombank", "number": "0011001932418", "holder": "MTTQ VN"}
        f.ok(client.post(f"/v1/campaigns/{code}/accounts", json=account))
    other = f.campaign(client)["code"]
    data = AGRIBANK_2024.read_bytes()
    assert imported(client, one, data)["imported"] == 300
    assert imported(client, two, data, dry_run="true")["imported"] == 0
    assert imported(client, two, data)["imported"] == 0
    assert imported(client, other, data)["imported"] == 300  # no link: its own money


def test_a_single_contribution_of_a_booked_line_is_refused_across_the_tree(client):
    parent, child = _tree(client)
    imported(client, parent, HEADER + "01/10/2022,100.000,ung ho,FT001\n")
    body = {"received_on": "2022-10-01", "method": "bank_transfer", "bank_reference": "FT001"}
    response = client.post(
        f"/v1/campaigns/{child}/contributions", json={**body, "amount": "100000"}
    )
    assert (response.status_code, response.json()["code"]) == (
        409,
        "bank_reference_already_recorded",
    )
    # Another gift under the same document number (another amount or message) is booked.
    f.contribution(client, child, 50_000, **{**body, "description": "ung ho"})
    f.contribution(client, child, 100_000, **{**body, "description": "NGUYEN VAN AN ung ho"})
    # And a line typed in by hand first is not booked again by the statement.
    f.contribution(client, child, 300_000, received_on="2022-10-02", bank_reference="FT003")
    report = imported(client, parent, HEADER + "02/10/2022,300.000,ung ho,FT003\n")
    assert (report["imported"], report["duplicates"]) == (0, 1)


def test_include_children_finds_a_line_booked_twice(client, db):
    # As before this rule, or by an edit of the database: one line in parent and child.
    parent = f.campaign(client)["code"]
    child = f.campaign(client)["code"]
    line = HEADER + "01/10/2022,100.000,ung ho,FT001\n"
    imported(client, parent, line)
    imported(client, child, line)
    with db.engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE campaigns SET parent_id = (SELECT id FROM campaigns WHERE code = :p)"
                " WHERE code = :c"
            ),
            {"p": parent, "c": child},
        )
    body = f.reconciliation(client, parent, include_children="true")
    check = next(c for c in body["checks"] if c["name"] == "bank_lines_counted_once")
    assert not check["ok"] and parent in check["detail"] and child in check["detail"], check
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE contributions SET line_fingerprint = NULL"))
    body = f.reconciliation(client, parent, include_children="true")
    check = next(c for c in body["checks"] if c["name"] == "bank_lines_counted_once")
    assert not check["ok"] and "FT001" in check["detail"], check


# ------------------------------------------------------------------ 100,000 lines


def generated_statement(lines: int, *, seed: int) -> tuple[bytes, int, int]:
    """A Vietcombank statement where 4% of document numbers recur for different gifts.

    Returns the bytes, the number of lines and their total."""
    rng = random.Random(seed)
    start = date(2024, 9, 1)
    out = ["Ngày GD,Số CT,Số tiền ghi nợ,Số tiền ghi có,Số dư,Nội dung chi tiết"]
    total = 0
    docno = 0
    recurring = 0
    i = 0
    while i < lines:
        day = (start + timedelta(days=i * 30 // lines)).strftime("%d/%m/%Y")
        docno += 1
        copies = 2 if rng.random() < 0.04 else 1  # 4% of numbers: two different gifts
        recurring += copies == 2
        for copy in range(min(copies, lines - i)):
            amount = rng.randrange(1, 2000) * 1000 + copy  # a different gift each time
            total += amount
            grouped = f"{amount:,}".replace(",", ".")
            out.append(f"{day},5{docno:09d},,{grouped},,NGUYEN VAN {i} ung ho")
            i += 1
    assert recurring > lines * 0.03
    return ("\n".join(out) + "\n").encode(), lines, total


def test_generated_statement_of_100000_lines(client):
    data, lines, total = generated_statement(100_000, seed=10)
    # Independent of the service: every line has its own (number, amount) pair.
    rows = list(csv.reader(data.decode().splitlines()))[1:]
    assert len(rows) == lines and len({(r[1], r[3]) for r in rows}) == lines
    assert len({r[1] for r in rows}) < lines * 0.97
    code = f.campaign(client)["code"]
    report = imported(client, code, data)
    assert (report["imported"], report["duplicates"]) == (lines, 0)
    again = imported(client, code, data)
    assert (again["imported"], again["duplicates"]) == (0, lines)
    money = f.money(f.reconciliation(client, code))
    assert (money["received"], money["contributions_count"]) == (str(total), lines)


def test_the_generated_lines_read_as_written():
    data, _, total = generated_statement(50, seed=1)
    rows = list(csv.reader(data.decode().splitlines()[1:]))
    assert sum(int(r[3].replace(".", "")) for r in rows) == total
    assert all(r[0].endswith("/2024") and r[2] == r[4] == "" for r in rows)
