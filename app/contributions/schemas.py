from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.campaigns.schemas import Currency
from app.contributions.models import PaymentMethod
from app.ids import Id
from app.items.schemas import ItemCode
from app.money import DecimalString, PositiveDecimal
from app.schemas import InputModel
from app.text import LongText, Text, Token


class ContributionCreate(InputModel):
    """Money (`amount`, `currency`, `settled_amount` or `fx_rate`, `method`, `bank_reference`)
    or goods (`item_code`, `quantity`, `estimated_value`): one of the two."""

    donor_id: Id | None = None
    pledge_id: Id | None = None
    amount: PositiveDecimal | None = Field(None, description="Money received, in `currency`.")
    currency: Currency | None = Field(None, description="Defaults to the campaign's currency.")
    settled_amount: PositiveDecimal | None = Field(
        None,
        description="Required when `currency` differs from the campaign's (unless `fx_rate` is given).",
    )
    fx_rate: PositiveDecimal | None = Field(
        None, description="Campaign currency per unit of `currency`; settled = amount × fx_rate."
    )
    item_code: ItemCode | None = Field(None, description="Goods received: the item …")
    quantity: PositiveDecimal | None = Field(None, description="… and how many of its unit.")
    estimated_value: PositiveDecimal | None = Field(
        None,
        description="Goods only: their estimated value in the campaign's currency, reported "
        "beside the money and never added to it.",
    )
    received_on: date
    method: PaymentMethod | None = Field(None, description="Required for money.")
    bank_reference: Annotated[Token | None, Field(max_length=100)] = None
    description: Annotated[
        LongText | None,
        Field(max_length=1000, description="The transfer message, as the bank statement shows it."),
    ] = None

    @field_validator("currency", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


class ContributionReverse(InputModel):
    reason: Annotated[Text, Field(max_length=500, examples=["Nhập sai số tiền"])]


class Reversal(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    reason: str
    recorded_at: datetime


class Contribution(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    campaign_code: str
    donor_id: int | None
    pledge_id: int | None
    kind: Literal["money", "goods"]
    amount: DecimalString | None
    currency: str | None
    settled_amount: DecimalString | None
    fx_rate: DecimalString | None
    item_code: str | None
    quantity: DecimalString | None
    estimated_value: DecimalString | None
    received_on: date
    method: PaymentMethod | None
    bank_reference: str | None
    description: str | None
    receipt_code: str
    recorded_at: datetime
    status: Literal["recorded", "reversed"]
    reversal: Reversal | None
