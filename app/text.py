"""Vietnamese text rules: stored NFC, searched without case or diacritics.

Text arrives from officers' phones in NFC or NFD (macOS, some keyboards); we normalise
before measuring length, so a limit means the same thing for both. Control characters
(NUL above all, which PostgreSQL cannot store; the C1 controls U+0080–U+009F), the
bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069, which can make a
name or reference display as something else) and unpaired surrogates are refused.

Every CSV the service writes goes through `csv_rows`: a UTF-8 BOM first (so Excel
reads Vietnamese right) and no cell that a spreadsheet would run as a formula.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Annotated, Any

from fastapi import Query
from pydantic import AfterValidator, BeforeValidator, StringConstraints

_UNSAFE = r"\x80-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_CONTROL = re.compile(rf"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f{_UNSAFE}]")
_LINE_CONTROL = re.compile(rf"[\x00-\x1f\x7f{_UNSAFE}]")
# For query strings and path segments, where a validator cannot run first.
NO_CONTROL_PATTERN = r"^[^\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]*$"


def nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value)


def fold(value: str) -> str:
    """Search key: NFD, combining marks removed, `đ` → `d`, lower case, spaces collapsed."""
    decomposed = unicodedata.normalize("NFD", value)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    stripped = stripped.replace("đ", "d").replace("Đ", "D")
    return " ".join(stripped.casefold().split())


def _line(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if _LINE_CONTROL.search(value.replace("\t", " ")):
        raise ValueError("must be one line without control characters or bidirectional overrides")
    return " ".join(nfc(value).split())


def _paragraphs(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters or bidirectional overrides")
    return nfc(value).strip()


def _no_control(value: str) -> str:
    if _LINE_CONTROL.search(value):
        raise ValueError("must not contain control characters or bidirectional overrides")
    return value


# A name or title: NFC, one line, inner whitespace collapsed, never blank.
Text = Annotated[str, BeforeValidator(_line), StringConstraints(min_length=1)]
# A description or note: NFC, line breaks kept, never blank.
LongText = Annotated[str, BeforeValidator(_paragraphs), StringConstraints(min_length=1)]
# An identifier typed by someone else (a bank's reference): kept as sent, minus control characters.
Token = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1), AfterValidator(_no_control)
]


SearchQuery = Annotated[
    str | None,
    Query(
        max_length=200,
        pattern=NO_CONTROL_PATTERN,
        description="Ignores case and Vietnamese diacritics.",
    ),
]


# OWASP CSV injection: a cell starting with one of these is run as a formula by Excel,
# LibreOffice or Google Sheets; prefixing a quote makes it text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A plain decimal (a negative amount included) is a number, never a formula: kept as is so
# numeric columns stay numbers.
_PLAIN_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
UTF8_BOM = "\ufeff"


def csv_cell(value: Any) -> str:
    """A value as a CSV cell a spreadsheet shows as text, never runs."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_rows(
    columns: Sequence[str],
    rows: Iterable[Iterable[Mapping[str, Any]]],
    *,
    hashtags: Sequence[str] | None = None,
) -> Iterator[str]:
    """CSV text in chunks: the BOM and header, then one chunk per batch of `rows`.

    The one CSV writer of the service (RFC 4180, CRLF line ends, cells made safe with
    `csv_cell`), so every export obeys the same rules. `hashtags`, one per column, is a
    second header row: HXL's hashtag row (`app.hxl`).
    """
    if hashtags is not None and len(hashtags) != len(columns):
        raise ValueError("one hashtag per column")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(UTF8_BOM)
    writer.writerow([csv_cell(c) for c in columns])
    if hashtags is not None:
        writer.writerow([csv_cell(tag) for tag in hashtags])
    yield buffer.getvalue()
    for batch in rows:
        buffer.seek(0)
        buffer.truncate()
        for row in batch:
            writer.writerow([csv_cell(row.get(c)) for c in columns])
        yield buffer.getvalue()
