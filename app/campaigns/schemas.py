from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.campaigns.models import CampaignKind, CampaignStatus
from app.ids import Id
from app.money import DecimalString, PositiveDecimal
from app.schemas import InputModel
from app.text import LongText, Text
from app.units.schemas import UnitCode

CODE_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
CampaignCode = Annotated[
    str,
    Field(
        min_length=3,
        max_length=64,
        pattern=CODE_PATTERN,
        examples=["ky-son-flood-2022"],
        description="Lower-case letters, digits and dashes; used in every campaign path.",
    ),
]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["VND"])]


def _dates_in_order(starts_on: date | None, ends_on: date | None) -> None:
    if starts_on and ends_on and ends_on < starts_on:
        raise ValueError("ends_on must not be before starts_on")


class CampaignCreate(InputModel):
    code: CampaignCode
    title: Annotated[Text, Field(max_length=300, examples=["Ủng hộ đồng bào Kỳ Sơn bị lũ quét"])]
    kind: CampaignKind
    currency: Currency = "VND"
    target_amount: PositiveDecimal | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    location_id: Id | None = None
    parent_code: CampaignCode | None = None
    description: Annotated[LongText | None, Field(max_length=10_000)] = None
    unit_code: UnitCode | None = Field(
        None,
        description="The unit running the campaign: yours or one below it. Default: your own unit (root for admins).",
    )

    @field_validator("currency", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _check_dates(self) -> Self:
        _dates_in_order(self.starts_on, self.ends_on)
        return self


class CampaignUpdate(InputModel):
    """Fields an officer may change. Code and currency are fixed once recorded."""

    title: Annotated[Text | None, Field(max_length=300)] = None
    status: CampaignStatus | None = None
    target_amount: PositiveDecimal | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    location_id: Id | None = None
    description: Annotated[LongText | None, Field(max_length=10_000)] = None


class Campaign(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    title: str
    kind: CampaignKind
    currency: str
    target_amount: DecimalString | None
    starts_on: date | None
    ends_on: date | None
    location_id: int | None
    parent_code: str | None
    unit_code: str
    description: str | None
    status: CampaignStatus
    created_at: datetime
    updated_at: datetime
