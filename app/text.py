"""Vietnamese text rules: stored NFC, searched without case or diacritics."""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, StringConstraints


def nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value)


def fold(value: str) -> str:
    """Search key: NFD, combining marks removed, `đ` → `d`, lower case, spaces collapsed."""
    decomposed = unicodedata.normalize("NFD", value)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    stripped = stripped.replace("đ", "d").replace("Đ", "D")
    return " ".join(stripped.casefold().split())


def _clean(value: str) -> str:
    return " ".join(nfc(value).split())


# Free text from users: NFC-normalised, inner whitespace collapsed, never blank.
Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1), AfterValidator(_clean)
]
