from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, UrlConstraints

from app.allocations.models import AllocationStatus
from app.campaigns.schemas import Currency
from app.ids import Id
from app.items.schemas import ItemCode
from app.money import DecimalString, PositiveDecimal
from app.schemas import InputModel
from app.text import LongText, Text


class AllocationCreate(InputModel):
    """Money (`amount`) or goods (`item_code`, `quantity`): one of the two."""

    location_id: Id
    amount: PositiveDecimal | None = Field(None, description="Money, in the campaign's currency.")
    currency: Currency | None = Field(None, description="Must be the campaign's currency if given.")
    item_code: ItemCode | None = Field(None, description="Goods: the item …")
    quantity: PositiveDecimal | None = Field(None, description="… and how many of its unit.")
    purpose: Annotated[Text, Field(max_length=500, examples=["Hỗ trợ làm nhà cho hộ mất nhà"])]
    beneficiary: Annotated[Text | None, Field(max_length=300)] = None
    allocated_on: date | None = Field(
        None,
        description="The day it was allocated (default: today in Vietnam); not in the future, "
        "not before the campaign starts.",
    )


DeliveryNote = Annotated[LongText | None, Field(max_length=5000)]


class AllocationDeliver(InputModel):
    delivered_on: date = Field(
        description="Not in the future, not before the allocation's `allocated_on` or the "
        "campaign's `starts_on`."
    )
    evidence_url: Annotated[AnyHttpUrl, UrlConstraints(max_length=2000)] | None = None
    delivery_note: DeliveryNote = Field(None, description="Answered under the same name.")
    note: DeliveryNote = Field(
        None,
        description="Deprecated: the old name of `delivery_note`, still read; send one of the two.",
        json_schema_extra={"deprecated": True},
    )


class AllocationCancel(InputModel):
    reason: Annotated[Text | None, Field(max_length=500)] = None


class Allocation(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    campaign_code: str
    location_id: Id
    kind: Literal["money", "goods"]
    amount: DecimalString | None
    currency: str | None
    item_code: str | None
    quantity: DecimalString | None
    purpose: str
    beneficiary: str | None
    status: AllocationStatus
    allocated_on: date
    delivered_on: date | None
    evidence_url: str | None
    delivery_note: str | None
    cancel_reason: str | None
    created_at: datetime
    delivered_at: datetime | None
    cancelled_at: datetime | None
