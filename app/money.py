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
from pydantic_core import PydanticCustomError

from app.errors import Invalid

# Sums of many 18-digit amounts with 18 decimals need more than the default 28 digits.
# DefaultContext is the template of every thread's context (FastAPI runs endpoints in threads).
decimal.DefaultContext.prec = 60
decimal.setcontext(decimal.Context(prec=60))

# The one way the API writes an amount: digits, no leading zero, `.` only before decimals.
# Up to 10^18 in the integer part and 18 decimals: far beyond 10^15 VND, and still exact.
_DECIMAL_TEXT = re.compile(r"^-?(0|[1-9][0-9]{0,18})(\.[0-9]{1,18})?$")
MAX_AMOUNT = Decimal(10) ** 18
NOT_CANONICAL = "amount_not_canonical"
# Shapes people write that still name one number, so the refusal can say how to write it.
_GROUPED = re.compile(r"^[1-9][0-9]{0,2}(?:([., \u00a0])[0-9]{3})(?:\1[0-9]{3})*$")
_DECIMAL_COMMA = re.compile(r"^[0-9]+,[0-9]{1,2}$")
_LOOSE = re.compile(r"^\+?[0-9]*\.?[0-9]*$")


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
    """Whether the value (however written) is a whole number of the currency's minor unit."""
    return decimal_places(value) <= minor_units(currency)


def written_places(value: Decimal) -> int:
    """Decimals as written: 3 for `Decimal("10.500")`, which `decimal_places` counts as 1."""
    return max(0, -int(value.as_tuple().exponent))


class NotCanonical(ValueError):
    """A number written in a shape the API does not read (`1.000.000`, `00.5`, `1,5`)."""

    def __init__(self, text: str, hint: str) -> None:
        super().__init__(
            f"{text[:40]!r} is not a plain decimal: write {hint} "
            "(digits only, no thousands separators, '.' only before decimals)"
        )


def _hint(text: str) -> str | None:
    """The plain decimal a non-canonical text most likely means, if it names one number."""
    if _GROUPED.match(text):
        return re.sub(r"[^0-9]", "", text)
    if _DECIMAL_COMMA.match(text):
        text = text.replace(",", ".")
    if _LOOSE.match(text) and any(c.isdigit() for c in text):
        return canonical(Decimal(text.lstrip("+").rstrip(".") or "0"))
    return None


def check_amount(value: Decimal, currency: str, field: str) -> None:
    """Refuse (422) an amount written with more decimals than `currency` has.

    Only zeros beyond the minor unit (`"500.000"` or `"1.0"` VND, `"10.500"` USD) is
    `amount_not_canonical`: the value fits, its writing does not, and the message shows how
    to write it (for VND `"500.000"`: 500000, since a Vietnamese reader means that). A real
    fraction the currency cannot hold (`"1000.5"` VND) is `amount_precision_exceeds_currency`.
    Trailing zeros up to the minor unit are fine: `"10.50"`, `"10.5"` and `"10"` USD.
    """
    allowed = minor_units(currency)
    if written_places(value) <= allowed:
        return
    text = format(value, "f")
    whole, _, fraction = text.partition(".")
    grouped = whole.lstrip("-") + fraction if allowed == 0 and len(fraction) == 3 else None
    places = "no decimal places" if allowed == 0 else f"{allowed} decimal places"
    if decimal_places(value) <= allowed:
        options = [grouped, canonical(value)] if grouped else [canonical(value)]
        raise Invalid.field(
            field,
            NOT_CANONICAL,
            f"{text!r} is not how the API writes {currency} ({currency} has {places}, and "
            f"thousands are never grouped): write {' or '.join(options)}",
        )
    raise Invalid.field(
        field,
        "amount_precision_exceeds_currency",
        f"{currency} allows {allowed} decimal places"
        + (f": if '.' groups thousands in {text!r}, write {grouped}" if grouped else ""),
    )


@lru_cache(maxsize=65_536)  # a function of the value: equal decimals have one canonical text
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
        hint = _hint(text) if len(text) <= 40 else None
        if hint is not None:
            raise NotCanonical(text, hint)
        raise ValueError('must be a plain decimal such as "150000000" or "12.50"')
    try:
        result = Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the regex already guards this
        raise ValueError("is not a decimal number") from exc
    if abs(result) >= MAX_AMOUNT:
        raise ValueError("is too large")
    return result


def _positive(value: Any) -> Decimal:
    try:
        result = parse_decimal(value)
    except NotCanonical as exc:
        # Its own error type, so the problem's `code` names the rule (`app.errors`).
        raise PydanticCustomError(NOT_CANONICAL, str(exc)) from None
    if result <= 0:
        raise ValueError("must be greater than zero")
    return result


_DECIMAL_SCHEMA = WithJsonSchema(
    {"type": "string", "pattern": r"^(0|[1-9]\d*)(\.\d+)?$", "examples": ["150000000"]}
)

# An amount or quantity coming in: exact, positive, written plainly (`NotCanonical`
# otherwise); its decimals against the currency are checked by services (`check_amount`).
PositiveDecimal = Annotated[Decimal, BeforeValidator(_positive), _DECIMAL_SCHEMA]
# A decimal going out: as an exact string.
DecimalString = Annotated[
    Decimal,
    PlainSerializer(canonical, return_type=str, when_used="always"),
    WithJsonSchema({"type": "string", "examples": ["150000000"]}),
]
