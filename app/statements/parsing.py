"""Reading a bank statement CSV into rows, and every bad line into a reason.

Headers are matched ignoring case, diacritics and spacing, so the English layout
(`date,amount,description,bank_reference`), the common Vietnamese one (`Ngày giao dịch`,
`Số tiền`, `Nội dung`, `Số tham chiếu`), Vietcombank's (`Ngày GD`, `Số CT`,
`Số tiền ghi nợ`, `Số tiền ghi có`, `Số dư`, `Nội dung chi tiết`), Vietcombank's English
export (`TNXDate, DocNo, Debit, Credit, Balance, Transactions in Detail`) and the 2024
Agribank and VietinBank exports (`PageId, Date, Time, DocumentNumber, ReferenceNumber,
TransactionDetails, DebitAmount, CreditAmount, Balance, OffsetAccount`) all read the same.
Columns we do not know (a running balance, a page or row number) are ignored.

A line's identity is what the bank says about it (`StatementRow.fingerprint`): date,
time (where the layout has one), document and reference numbers, amount, side, message
and offset account, never the document number alone, which real statements repeat for
different gifts.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache

from app.money import canonical
from app.statements.amounts import parse_amount
from app.text import fold, nfc

# Folded header (no spaces, no underscores) → the column it names.
HEADERS = {
    "date": "date",
    "ngaygiaodich": "date",
    "ngaygd": "date",
    "amount": "amount",
    "sotien": "amount",
    "credit": "credit",
    "sotienghico": "credit",
    "debit": "debit",
    "sotienghino": "debit",
    "description": "description",
    "noidung": "description",
    "noidungchitiet": "description",
    "bankreference": "reference",
    "sothamchieu": "reference",
    "soct": "document",
    # Vietcombank's English export
    "tnxdate": "date",
    "docno": "document",
    "transactionsindetail": "description",
    # Agribank and VietinBank, 2024
    "time": "time",
    "documentnumber": "document",
    "referencenumber": "reference",
    "transactiondetails": "description",
    "debitamount": "debit",
    "creditamount": "credit",
    "offsetaccount": "offset_account",
}
_HEADER_NOISE = re.compile(r"[\s_]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2})?)?$")
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d(?::[0-5]\d)?$")
# A bank's PDF-to-CSV export wraps long cells anywhere, mid-word too ("TR\nAN KIM"):
# a line break inside a cell is the wrap, not a space.
_LINE_BREAK = re.compile(r"\r?\n|\r")
MAX_DESCRIPTION = 1000
MAX_BANK_REFERENCE = 100
_LIMITS = {"offset_account": MAX_DESCRIPTION}


@dataclass(frozen=True)
class StatementRow:
    line: int
    received_on: date
    # Positive; `credit` says whether it came in (a contribution) or went out (skipped).
    amount: Decimal
    credit: bool
    description: str | None
    # The reference number, or else the document number; None where the bank gives neither.
    bank_reference: str | None
    # What the bank says about the line, hashed: equal lines are the same bank line.
    fingerprint: str


@dataclass
class ParsedStatement:
    rows: list[StatementRow] = field(default_factory=list)
    errors: list[dict[str, int | str]] = field(default_factory=list)

    def bad(self, line: int, reason: str) -> None:
        self.errors.append({"line": line, "reason": reason})


def header_key(cell: str) -> str:
    return _HEADER_NOISE.sub("", fold(cell))


def _columns(header: list[str]) -> tuple[dict[str, int], list[str]]:
    """Where each known column is, and what is wrong with the header."""
    found: dict[str, int] = {}
    problems = []
    for index, cell in enumerate(header):
        name = HEADERS.get(header_key(cell))
        if name is None:
            continue
        if name in found:
            problems.append(f"two columns mean {name}: {header[found[name]]!r} and {cell!r}")
        found[name] = index
    if "amount" in found and ("credit" in found or "debit" in found):
        problems.append("give either one amount column or credit/debit columns, not both")
    missing = ["date"] if "date" not in found else []
    if not {"document", "reference", "time"} & found.keys():
        missing.append("bank_reference (or a document number, or a time)")
    if "amount" not in found and "credit" not in found:
        missing.append("amount (or credit)")
    if missing:
        problems.append(
            "missing column(s) "
            + ", ".join(missing)
            + "; expected a header such as date,amount,description,bank_reference"
        )
    return found, problems


@lru_cache(maxsize=4096)  # a statement's lines share a few dozen dates
def parse_date(text: str, today: date) -> date:
    value = text.strip()
    dmy, iso = _DMY.match(value), _ISO.match(value)
    if dmy:
        day, month, year = (int(g) for g in dmy.groups())
    elif iso:
        year, month, day = (int(g) for g in iso.groups())
    else:
        raise ValueError(f"date {value[:40]!r} is neither dd/mm/yyyy nor yyyy-mm-dd")
    try:
        result = date(year, month, day)
    except ValueError:
        raise ValueError(f"date {value!r} does not exist") from None
    if result > today:
        raise ValueError(f"date {value!r} is after today ({today.isoformat()})")
    return result


def _text(value: str, name: str, limit: int) -> str:
    if value.isascii() and value.isprintable():
        # Most cells: no line break, no control character, nothing to normalise.
        result = " ".join(value.split())
    else:
        # Cells may hold line breaks (quoted, wrapped); a statement line is one line of text.
        result = " ".join(nfc(_LINE_BREAK.sub("", value)).split())
        if _CONTROL.search(result):
            raise ValueError(f"{name} contains control characters")
    if len(result) > limit:
        raise ValueError(f"{name} is longer than {limit} characters")
    return result


def _amount(
    row: list[str], columns: dict[str, int], currency: str, minor_units: int
) -> tuple[Decimal, bool]:
    """The row's amount and whether it is a credit."""
    if "amount" in columns:
        value = parse_amount(row[columns["amount"]], currency, minor_units)
        if value == 0:
            raise ValueError("amount is zero")
        return abs(value), value > 0
    sides = {}
    for side in ("credit", "debit"):
        cell = row[columns[side]].strip() if side in columns else ""
        value = parse_amount(cell, currency, minor_units) if cell else Decimal(0)
        if value < 0:
            raise ValueError(f"{side} amount {cell!r} is negative")
        sides[side] = value
    if sides["credit"] and sides["debit"]:
        raise ValueError("a row is either a credit or a debit, not both")
    if not sides["credit"] and not sides["debit"]:
        raise ValueError("neither a credit nor a debit amount")
    return (sides["credit"], True) if sides["credit"] else (sides["debit"], False)


def _row(
    line: int,
    row: list[str],
    columns: dict[str, int],
    width: int,
    currency: str,
    minor_units: int,
    today: date,
) -> StatementRow:
    if len(row) != width:
        raise ValueError(f"{len(row)} columns where the header has {width}")
    received_on = parse_date(row[columns["date"]], today)
    amount, credit = _amount(row, columns, currency, minor_units)
    description = (
        _text(row[columns["description"]], "description", MAX_DESCRIPTION)
        if "description" in columns
        else ""
    )
    cells = {
        name: _text(row[columns[name]], name, _LIMITS.get(name, MAX_BANK_REFERENCE))
        if name in columns
        else ""
        for name in ("document", "reference", "time", "offset_account")
    }
    if cells["time"] and not _TIME.match(cells["time"]):
        raise ValueError(f"time {cells['time'][:20]!r} is not hh:mm or hh:mm:ss")
    if credit and not (cells["document"] or cells["reference"] or cells["time"]):
        raise ValueError(
            "bank_reference is empty (and no time): without it a re-import would count it twice"
        )
    identity = "\x1f".join(
        (
            received_on.isoformat(),
            cells["time"],
            cells["document"],
            cells["reference"],
            canonical(amount),
            "C" if credit else "D",
            description,
            cells["offset_account"],
        )
    )
    return StatementRow(
        line,
        received_on,
        amount,
        credit,
        description or None,
        cells["reference"] or cells["document"] or None,
        hashlib.blake2b(identity.encode(), digest_size=16).hexdigest(),
    )


def parse_statement(
    data: bytes, *, currency: str, minor_units: int, today: date
) -> ParsedStatement:
    """Every row of the statement, or every bad line (the header is line 1)."""
    parsed = ParsedStatement()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        parsed.bad(data.count(b"\n", 0, exc.start) + 1, "the file is not UTF-8 text")
        return parsed
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    columns: dict[str, int] = {}
    line = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            # The rest of the file cannot be read reliably after broken quoting.
            parsed.bad(line, f"not valid CSV: {exc}")
            break
        if header is None:
            header = row
            columns, problems = _columns(row)
            for problem in problems:
                parsed.bad(1, problem)
            if problems:
                return parsed
        elif any(cell.strip() for cell in row):
            try:
                parsed.rows.append(
                    _row(line, row, columns, len(header), currency, minor_units, today)
                )
            except ValueError as exc:
                parsed.bad(line, str(exc))
        line = reader.line_num + 1
    if header is None:
        parsed.bad(
            1, "the file is empty: expected a header such as date,amount,description,bank_reference"
        )
    return parsed
