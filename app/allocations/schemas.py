from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, UrlConstraints

from app.allocations.models import AllocationStatus
from app.campaigns.schemas import Currency
from app.ids import Id
from app.money import DecimalString, PositiveDecimal
from app.text import LongText, Text


class AllocationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    location_id: Id
    amount: PositiveDecimal
    currency: Currency | None = Field(None, description="Must be the campaign's currency if given.")
    purpose: Annotated[Text, Field(max_length=500, examples=["Hỗ trợ làm nhà cho hộ mất nhà"])]
    beneficiary: Annotated[Text | None, Field(max_length=300)] = None


class AllocationDeliver(BaseModel):
    model_config = ConfigDict(extra="forbid")

    delivered_on: date
    evidence_url: Annotated[AnyHttpUrl, UrlConstraints(max_length=2000)] | None = None
    note: Annotated[LongText | None, Field(max_length=5000)] = None


class AllocationCancel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[Text | None, Field(max_length=500)] = None


class Allocation(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    campaign_code: str
    location_id: Id
    amount: DecimalString
    currency: str
    purpose: str
    beneficiary: str | None
    status: AllocationStatus
    delivered_on: date | None
    evidence_url: str | None
    delivery_note: str | None
    cancel_reason: str | None
    created_at: datetime
    delivered_at: datetime | None
    cancelled_at: datetime | None
