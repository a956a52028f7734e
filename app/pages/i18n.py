"""Languages of the pages: Vietnamese first, English on `?lang=en` or `Accept-Language`.

The message catalogs are the `.po` files under `locale/`, read once at start-up with
Babel's `read_po`: no compiled `.mo` file to rebuild or forget, so a newcomer edits a
`.po` file and restarts. Money and dates are written with Babel in the reader's
conventions: `1.000.000 ₫` and `05/10/2022` in Vietnamese, `₫1,000,000` and
`Oct 5, 2022` in English.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import cache
from importlib import resources
from io import BytesIO

from babel.core import Locale
from babel.dates import format_date, format_datetime, get_timezone
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, format_percent
from babel.support import Translations

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
DOMAIN = "messages"
TIME_ZONE = "Asia/Ho_Chi_Minh"


@cache
def locale(language: str) -> Locale:
    return Locale.parse(language)


@cache
def translations(language: str) -> Translations:
    """The catalog of `language`, read from its `.po` file (once per process)."""
    po = resources.files("app.pages") / "locale" / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with po.open("rb") as source:
        catalog = read_po(source, locale=language, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog)  # in memory: gettext's reader takes the binary form
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def negotiate(lang: str | None, accept_language: str | None) -> str:
    """`?lang=` when it names a language we have; otherwise the first of the reader's
    `Accept-Language` preferences we have (by quality); otherwise Vietnamese."""
    if lang in LANGUAGES:
        return lang
    preferences: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        name, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                continue
        primary = name.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            preferences.append((-quality, position, primary))
    return min(preferences)[2] if preferences else DEFAULT_LANGUAGE


def money(value: Decimal | str | None, currency: str, language: str) -> str:
    if value is None:
        return ""
    return format_currency(Decimal(value), currency, locale=locale(language))


def number(value: Decimal | str | int | None, language: str) -> str:
    if value is None:
        return ""
    return format_decimal(Decimal(value), locale=locale(language))


def percent(value: Decimal | str | None, language: str) -> str:
    if value is None:
        return ""
    return format_percent(Decimal(value), format="#,##0.#%", locale=locale(language))


def day(value: date | None, language: str) -> str:
    if value is None:
        return ""
    if language == "vi":
        return format_date(value, "dd/MM/yyyy", locale=locale("vi"))
    return format_date(value, "medium", locale=locale(language))


def moment(value: datetime | None, language: str) -> str:
    """A recording time in Vietnam's time zone (where the books are kept)."""
    if value is None:
        return ""
    pattern = "HH:mm dd/MM/yyyy" if language == "vi" else "medium"
    return format_datetime(value, pattern, tzinfo=get_timezone(TIME_ZONE), locale=locale(language))
