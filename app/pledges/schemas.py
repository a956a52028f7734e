from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.campaigns.schemas import Currency
from app.ids import Id
from app.items.schemas import ItemCode
from app.money import DecimalString, PositiveDecimal
from app.pledges.models import PledgeStatus
from app.schemas import InputModel
from app.text import Text

Reference = Annotated[
    str,
    Field(
        min_length=4,
        max_length=32,
        pattern=r"^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$",
        examples=["KS-9PLD"],
        description="Code the donor writes in the bank-transfer message; generated when omitted.",
    ),
]


class PledgeCreate(InputModel):
    """Money (`amount`, `currency`) or goods (`item_code`, `quantity`): one of the two."""

    donor_id: Id
    amount: PositiveDecimal | None = Field(None, description="Money pledged.")
    currency: Currency | None = Field(
        None,
        description="The pledge's own currency (default: the campaign's); only contributions "
        "in it fulfil the pledge, by their original amount.",
    )
    item_code: ItemCode | None = Field(None, description="Goods pledged: the item …")
    quantity: PositiveDecimal | None = Field(None, description="… and how many of its unit.")
    due_on: date | None = None
    reference: Reference | None = None

    @field_validator("reference", "currency", mode="after")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        return value.upper() if value else value


class PledgeCancel(InputModel):
    reason: Annotated[Text | None, Field(max_length=500)] = None


class Pledge(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    campaign_code: str
    donor_id: Id
    reference: str
    kind: Literal["money", "goods"]
    amount: DecimalString | None
    currency: str | None
    item_code: str | None
    quantity: DecimalString | None
    due_on: date | None
    fulfilled_amount: DecimalString = Field(
        description="Received against the pledge: money by original amount in the pledge's "
        "currency, goods in the item's unit."
    )
    outstanding_amount: DecimalString
    over_fulfilled_amount: DecimalString
    status: PledgeStatus
    cancelled_at: datetime | None
    cancel_reason: str | None
    created_at: datetime
