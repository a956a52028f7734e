"""Vietnamese text rules: stored NFC, searched without case or diacritics.

Text arrives from officers' phones in NFC or NFD (macOS, some keyboards); we normalise
before measuring length, so a limit means the same thing for both. Control characters
(NUL above all, which PostgreSQL cannot store) are refused.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any

from fastapi import Query
from pydantic import AfterValidator, BeforeValidator, StringConstraints

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# For query strings and path segments, where a validator cannot run first.
NO_CONTROL_PATTERN = r"^[^\x00-\x1f\x7f]*$"


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
        raise ValueError("must be one line without control characters")
    return " ".join(nfc(value).split())


def _paragraphs(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return nfc(value).strip()


def _no_control(value: str) -> str:
    if _LINE_CONTROL.search(value):
        raise ValueError("must not contain control characters")
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
