"""Reading a bank statement CSV into rows, and every bad line into a reason.

Headers are matched ignoring case, diacritics and spacing, so the English layout
(`date,amount,description,bank_reference`), the common Vietnamese one (`Ngày giao dịch`,
`Số tiền`, `Nội dung`, `Số tham chiếu`) and Vietcombank's (`Ngày GD`, `Số CT`,
`Số tiền ghi nợ`, `Số tiền ghi có`, `Số dư`, `Nội dung chi tiết`) all read the same.
Columns we do not know (a running balance, a row number) are ignored.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

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
    "bankreference": "bank_reference",
    "sothamchieu": "bank_reference",
    "soct": "bank_reference",
}
_HEADER_NOISE = re.compile(r"[\s_]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2})?)?$")
MAX_DESCRIPTION = 1000
MAX_BANK_REFERENCE = 100


@dataclass(frozen=True)
class StatementRow:
    line: int
    received_on: date
    # Positive; `credit` says whether it came in (a contribution) or went out (skipped).
    amount: Decimal
    credit: bool
    description: str | None
    bank_reference: str


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
    missing = [name for name in ("date", "bank_reference") if name not in found]
    if "amount" not in found and "credit" not in found:
        missing.append("amount (or credit)")
    if missing:
        problems.append(
            "missing column(s) "
            + ", ".join(missing)
            + "; expected a header such as date,amount,description,bank_reference"
        )
    return found, problems


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
    # Cells may hold line breaks (quoted); a statement line is one line of text.
    result = " ".join(nfc(value).split())
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
    reference = _text(row[columns["bank_reference"]], "bank_reference", MAX_BANK_REFERENCE)
    if not reference and credit:
        raise ValueError("bank_reference is empty: without it a re-import would count it twice")
    return StatementRow(line, received_on, amount, credit, description or None, reference)


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
