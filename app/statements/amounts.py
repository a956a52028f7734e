"""Amounts as Vietnamese bank statements write them.

For a currency without minor units (VND, JPY, KRW) every `.`, `,` or space between
digit groups is a thousands separator: `1.500.000`, `1,500,000` and `1 500 000` all mean
1500000, and a decimal part is accepted only when it is zero (`1,500,000.00`).

For a currency with minor units (USD, EUR) the rules stay unambiguous:
- `.` and `,` both present: the last one is the decimal separator (`1,500.25`, `1.500,25`);
- one separator used several times: thousands (`1,500,000`);
- one separator used once: decimal when followed by 1–2 digits (`12.50`, `12,5`);
  followed by exactly 3 digits it could be either (`1.500`), so it is refused;
- spaces only ever group thousands (`1 500,25`).
"""

from __future__ import annotations

import re
from decimal import Decimal

from app.money import MAX_AMOUNT, canonical, fits_currency

# Digit runs separated by single `.`, `,` or space; an optional sign in front.
_SHAPE = re.compile(r"^([+-]?)([0-9]+(?:[., ][0-9]+)*)$")
_SPLIT = re.compile(r"([., ])")
# No-break and narrow no-break spaces (spreadsheets) group thousands like a space.
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " "})


def _grouped(groups: list[str]) -> bool:
    return 1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])


def parse_amount(text: str, currency: str, minor_units: int) -> Decimal:
    """The exact, signed amount `text` writes; `ValueError` (with the reason) when it is not one."""
    match = _SHAPE.match(text.strip().translate(_SPACES))
    if match is None:
        raise ValueError(f"{text.strip()[:40]!r} is not an amount such as 1.500.000")
    sign, body = match.groups()
    parts = _SPLIT.split(body)
    groups, separators = parts[0::2], parts[1::2]
    marks = {s for s in separators if s != " "}
    fraction = ""
    if len(marks) == 2:
        decimal_mark = separators[-1]
        if decimal_mark == " " or separators.count(decimal_mark) != 1:
            raise ValueError(f"{body!r} mixes separators: write 1.500.000 or 1,500,000.00")
        fraction = groups.pop()
        separators.pop()
    elif len(marks) == 1:
        (mark,) = marks
        if separators.count(mark) == 1 and separators[-1] == mark:
            looks_grouped = len(groups[-1]) == 3 and _grouped(groups[:1] + groups[-1:])
            if minor_units == 0 and looks_grouped and " " not in separators:
                pass  # 1.500 VND is one thousand five hundred
            elif minor_units > 0 and looks_grouped and " " not in separators:
                raise ValueError(
                    f"{body!r} is ambiguous in {currency}: write {body.replace(mark, '')} "
                    f"or {groups[0]}.{groups[-1]}"
                )
            else:
                fraction = groups.pop()
                separators.pop()
    if len(set(separators)) > 1:
        raise ValueError(f"{body!r} mixes thousands separators")
    if separators and not _grouped(groups):
        raise ValueError(f"{body!r} does not group its digits by thousands")
    value = Decimal("".join(groups) + ("." + fraction if fraction else ""))
    if not fits_currency(value, currency):
        places = "no minor units" if minor_units == 0 else f"{minor_units} decimal places"
        raise ValueError(f"{body!r} is not a whole amount of {currency}, which has {places}")
    if value >= MAX_AMOUNT:
        raise ValueError(f"{body[:40]!r} is too large")
    value = Decimal(canonical(value))  # 1,500,000.00 is stored as 1500000
    return -value if sign == "-" else value
