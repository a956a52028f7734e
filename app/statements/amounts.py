"""Amounts as bank statements write them, read strictly.

A bank groups thousands its own way (Vietcombank `1.000.000`, Agribank `"500,000"`,
some exports `1 000 000`), and only that grouping is accepted:
- the integer part is plain digits, or groups of three separated by one kind of
  separator (`.`, `,` or a space) after a first group of one to three digits;
- no leading zero (`0.001`, `00.001`, `01.500` are refused), except a lone `0`;
- a decimal part only where the currency has minor units, with at most that many digits:
  `1.500.000` VND is one and a half million, while `1.0`, `1.00` and `1,500,000.00` in a
  VND file are refused, never read as 1 or 1500000 đồng.

For a currency with minor units (USD, EUR):
- `.` and `,` both present: the last one is the decimal separator (`1,500.25`, `1.500,25`);
- one separator used several times: thousands (`1,500,000`);
- one separator used once: decimal when followed by 1–2 digits (`12.50`, `12,5`);
  followed by exactly 3 digits it could be either (`1.500`), so it is refused;
- spaces only ever group thousands (`1 500,25`).

Any other shape is a bad line, with its reason: the import is refused as a whole.
"""

from __future__ import annotations

import re
from decimal import Decimal

from app.money import MAX_AMOUNT

# Digit runs separated by single `.`, `,` or space; an optional sign in front.
_SHAPE = re.compile(r"^([+-]?)([0-9]+(?:[., ][0-9]+)*)$")
_SPLIT = re.compile(r"([., ])")
# Whole amounts without a sign or leading zero: grouped with dots (1), with commas (2), or
# plain digits (3).
_PLAIN = re.compile(
    r"([1-9][0-9]{0,2}(?:\.[0-9]{3})+)|([1-9][0-9]{0,2}(?:,[0-9]{3})+)|([1-9][0-9]*)"
)
# No-break and narrow no-break spaces (spreadsheets) group thousands like a space.
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " "})


def _grouped(groups: list[str]) -> bool:
    return 1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])


def _fraction(
    body: str, groups: list[str], separators: list[str], currency: str, minor_units: int
) -> str:
    """Split off (and return) the decimal part, if the text has one; '' otherwise."""
    marks = {s for s in separators if s != " "}
    if len(marks) == 2:
        decimal_mark = separators[-1]
        if decimal_mark == " " or separators.count(decimal_mark) != 1:
            raise ValueError(f"{body!r} mixes separators: write 1.500.000 or 1,500,000.00")
    elif len(marks) == 1:
        (decimal_mark,) = marks
        if separators.count(decimal_mark) != 1 or separators[-1] != decimal_mark:
            return ""
        if minor_units == 0:
            return ""  # 1.500 VND is one thousand five hundred; 1.50 is refused below
        if len(groups[-1]) == 3 and " " not in separators and _grouped(groups):
            raise ValueError(
                f"{body!r} is ambiguous in {currency}: write {body.replace(decimal_mark, '')} "
                f"or {groups[0]}.{groups[-1]}"
            )
    else:
        return ""
    separators.pop()
    return groups.pop()


def parse_amount(text: str, currency: str, minor_units: int) -> Decimal:
    """The exact, signed amount `text` writes; `ValueError` (with the reason) when it is not one."""
    plain = _PLAIN.fullmatch(text.strip())
    if plain is not None and (minor_units == 0 or plain.lastindex == 3):
        # Whole, unsigned, grouped by three with `.` or `,` (or not at all): what nearly
        # every line of a VND statement holds, read without the general analysis below.
        value = Decimal(plain.group().replace(".", "").replace(",", ""))
        if value >= MAX_AMOUNT:
            raise ValueError(f"{plain.group()[:40]!r} is too large")
        return value
    match = _SHAPE.match(text.strip().translate(_SPACES))
    if match is None:
        raise ValueError(f"{text.strip()[:40]!r} is not an amount such as 1.500.000")
    sign, body = match.groups()
    parts = _SPLIT.split(body)
    groups, separators = parts[0::2], parts[1::2]
    fraction = _fraction(body, groups, separators, currency, minor_units)
    if len(set(separators)) > 1:
        places = "has no decimal places" if minor_units == 0 else "mixes thousands separators"
        raise ValueError(f"{body!r}: {currency} {places}; write 1.500.000 or 1,500,000")
    if groups[0].startswith("0") and (len(groups) > 1 or len(groups[0]) > 1):
        raise ValueError(f"{body!r} starts with a zero group")
    if separators and not _grouped(groups):
        reason = f"{body!r} does not group its digits by three"
        if minor_units == 0:
            reason += f" ({currency} has no decimal places)"
        raise ValueError(reason)
    if len(fraction) > minor_units:
        raise ValueError(
            f"{body!r} has {len(fraction)} decimal places; {currency} has {minor_units}"
        )
    value = Decimal("".join(groups) + ("." + fraction if fraction else ""))
    if value >= MAX_AMOUNT:
        raise ValueError(f"{body[:40]!r} is too large")
    value = value.normalize() if fraction else value
    if value == value.to_integral_value():
        value = value.quantize(Decimal(1))
    return -value if sign == "-" else value
