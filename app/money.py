"""Exact money and quantity rules.

Currencies and their ISO 4217 minor units come from Babel's CLDR data, never from a
hand-written table. Amounts are `Decimal` everywhere; a float never touches one.
"""

from __future__ import annotations

import decimal
import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Annotated, Any

from babel import Locale
from babel.numbers import get_currency_precision, get_territory_currencies
from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

# Sums of many 18-digit amounts with 18 decimals need more than the default 28 digits.
# DefaultContext is the template of every thread's context (FastAPI runs endpoints in threads).
decimal.DefaultContext.prec = 60
decimal.setcontext(decimal.Context(prec=60))

# Up to 10^18 in the integer part and 18 decimals: far beyond 10^15 VND, and still exact.
_DECIMAL_TEXT = re.compile(r"^[+-]?[0-9]{1,19}(\.[0-9]{1,18})?$")
MAX_AMOUNT = Decimal(10) ** 18


@lru_cache
def currencies_in_use() -> frozenset[str]:
    """ISO 4217 codes that are legal tender somewhere today (CLDR via Babel)."""
    today = datetime.now(UTC).date()
    codes: set[str] = set()
    for territory in Locale("en").territories:
        if isinstance(territory, str) and territory.isalpha():
            codes.update(get_territory_currencies(territory, start_date=today))
    return frozenset(codes)


def is_known_currency(code: str) -> bool:
    return code in currencies_in_use()


def minor_units(currency: str) -> int:
    """Digits after the decimal point the currency allows (VND 0, USD 2, KWD 3)."""
    return int(get_currency_precision(currency))


def decimal_places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -int(exponent))


def fits_currency(value: Decimal, currency: str) -> bool:
    return decimal_places(value) <= minor_units(currency)


def canonical(value: Decimal) -> str:
    """The shortest exact text of a decimal: no exponent, no trailing zeros, no '-0'."""
    if value == 0:
        return "0"
    text = format(value.normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def parse_decimal(value: Any) -> Decimal:
    """Accept a JSON string or number as an exact decimal; refuse floats, NaN and exponents."""
    if isinstance(value, bool):
        raise ValueError("must be a number or a decimal string, not a boolean")
    if isinstance(value, float):
        raise ValueError("must be sent as a decimal string or exact JSON number")
    if isinstance(value, int):
        value = Decimal(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("must be a finite number")
        text = format(value, "f")
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise ValueError('must be a decimal string such as "150000000"')
    if not _DECIMAL_TEXT.match(text):
        raise ValueError('must be a plain decimal such as "150000000" or "12.50"')
    try:
        result = Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the regex already guards this
        raise ValueError("is not a decimal number") from exc
    if abs(result) >= MAX_AMOUNT:
        raise ValueError("is too large")
    return result


def _positive(value: Any) -> Decimal:
    result = parse_decimal(value)
    if result <= 0:
        raise ValueError("must be greater than zero")
    return result


_DECIMAL_SCHEMA = WithJsonSchema(
    {"type": "string", "pattern": r"^\d+(\.\d+)?$", "examples": ["150000000"]}
)

# An amount or quantity coming in: exact, positive; currency precision is checked by services.
PositiveDecimal = Annotated[Decimal, BeforeValidator(_positive), _DECIMAL_SCHEMA]
# A decimal going out: as an exact string.
DecimalString = Annotated[
    Decimal,
    PlainSerializer(canonical, return_type=str, when_used="always"),
    WithJsonSchema({"type": "string", "examples": ["150000000"]}),
]
