"""What every request body schema shares."""

from __future__ import annotations

import re
import types
from datetime import date, datetime
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

# The earliest day a body may name: the service records relief given from 2000 on, so
# 1900-01-01 (a spreadsheet's empty date) or 0001-01-01 is a typing slip, not a gift.
EARLIEST_DATE = date(2000, 1, 1)
_PLAIN_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _is_date(annotation: Any) -> bool:
    """`date`, `date | None` …, but not `datetime` (which is a `date` subclass)."""
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_is_date(arg) for arg in get_args(annotation))
    if get_origin(annotation) is not None and get_args(annotation):
        return _is_date(get_args(annotation)[0])  # Annotated[date, ...]
    return annotation is date


class InputModel(BaseModel):
    """A request body: unknown fields are refused (422), never silently dropped, so a
    client cannot set what the server sets (ids, statuses, recorded times).

    Every date field takes exactly `YYYY-MM-DD` (a datetime is refused, not truncated:
    `date_not_plain`) on or after `EARLIEST_DATE` (`date_too_early`)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _plain_date(cls, value: Any, info: ValidationInfo) -> Any:
        if info.field_name is None or not _is_date(cls.model_fields[info.field_name].annotation):
            return value
        if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
            return value
        if not isinstance(value, str) or not _PLAIN_DATE.fullmatch(value):
            raise PydanticCustomError(
                "date_not_plain", "a date is written YYYY-MM-DD, without a time or zone"
            )
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _date_in_range(cls, value: Any) -> Any:
        if isinstance(value, date) and not isinstance(value, datetime) and value < EARLIEST_DATE:
            raise PydanticCustomError(
                "date_too_early",
                "a date must be on or after {earliest}",
                {"earliest": EARLIEST_DATE.isoformat()},
            )
        return value
