"""Calendar rules. Our users' days are Vietnamese days (UTC+7)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from app.errors import Invalid

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def today_in_vietnam() -> date:
    return datetime.now(VIETNAM).date()


def not_in_future(value: date, field: str) -> None:
    if value > today_in_vietnam():
        raise Invalid.field(
            field, "date_in_future", f"{field} cannot be after today ({today_in_vietnam()})"
        )
