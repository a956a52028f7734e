from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.schemas import InputModel
from app.text import Text

AccountNumber = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        examples=["0011 0040 12345"],
        description="Spaces, dashes and dots are ignored; 6 to 20 digits.",
    ),
]


class ReceivingAccountCreate(InputModel):
    bank: Annotated[Text, Field(max_length=200, examples=["Vietcombank – CN Nghệ An"])]
    number: AccountNumber
    holder: Annotated[Text, Field(max_length=300, examples=["Ủy ban MTTQ Việt Nam tỉnh Nghệ An"])]


class ReceivingAccount(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    campaign_code: str
    bank: str
    number: str
    holder: str
    created_at: datetime


class OfficialCampaign(BaseModel):
    code: str
    title: str
    bank: str
    holder: str


class AccountCheck(BaseModel):
    """Whether a number is an official receiving account, and of which campaigns."""

    number: str
    official: bool
    campaigns: list[OfficialCampaign]
