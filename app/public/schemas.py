"""What anyone may see, with no key: never an email, a phone, an anonymous donor's real
name, a beneficiary or a key. These schemas are separate from the officers' on purpose:
a field added to an officer's view can never leak here by accident."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.campaigns.models import CampaignKind
from app.distribution.schemas import Place
from app.donors.models import ANONYMOUS_DONOR
from app.transparency.schemas import InclusionProof


class GoodsTotal(BaseModel):
    item_code: str
    item_name: str
    unit: str
    received: str
    delivered: str


class PublicCampaign(BaseModel):
    code: str
    title: str
    kind: CampaignKind
    status: Literal["open", "closed"]
    currency: str
    parent_code: str | None
    starts_on: date | None
    ends_on: date | None
    target_amount: str | None
    received: str
    allocated: str
    delivered: str
    available: str
    progress: str | None = Field(
        description="received ÷ target_amount, to 4 decimal places (0.6122 is 61.22 %); "
        "null without a target."
    )
    contributions_count: int


class OfficialAccount(BaseModel):
    bank: str
    number: str
    holder: str


class PublicCampaignDetail(PublicCampaign):
    description: str | None
    as_of: str
    distribution: list[Place] = Field(description="Where the money and goods went, by place.")
    goods: list[GoodsTotal] = Field(description="Goods received and delivered, per item.")
    accounts: list[OfficialAccount] = Field(
        description="The official receiving bank accounts: money sent anywhere else is not "
        "this appeal's (check any number at /v1/public/accounts/{number})."
    )


class PublicContribution(BaseModel):
    """One line of the public statement (sao kê)."""

    id: int
    received_on: date
    recorded_at: datetime
    kind: Literal["money", "goods"]
    amount: str | None
    currency: str | None
    settled_amount: str | None
    item_code: str | None
    quantity: str | None
    donor_name: str | None = Field(
        description=f"The donor's public name, {ANONYMOUS_DONOR!r} for anonymous donors, "
        "null when the donor is not known."
    )
    description: str | None = Field(
        description="The bank transfer message; withheld (null) for anonymous donors."
    )
    status: Literal["recorded", "reversed"]


class PublicReceipt(BaseModel):
    """What a donor sees when checking their contribution by its receipt code."""

    receipt_code: str
    contribution: PublicContribution
    campaign: PublicCampaignDetail
    proof: InclusionProof | None = Field(
        description="The contribution's ledger entry in the campaign's latest checkpoint "
        "(GET /v1/public/campaigns/{code}/checkpoints/{tree_size}); null until one covers it."
    )
