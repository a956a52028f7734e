"""Where a campaign's money and goods went, place by place."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.locations.models import LocationLevel


class GoodsAtPlace(BaseModel):
    item_code: str
    item_name: str
    unit: str
    allocated: str
    delivered: str


class MoneyAtPlace(BaseModel):
    allocated: str
    delivered: str


class Place(BaseModel):
    location_id: int
    location_name: str
    path: str = Field(examples=["Tỉnh Nghệ An › Huyện Kỳ Sơn"])
    level: LocationLevel
    money: MoneyAtPlace = Field(description="In the campaign's currency.")
    goods: list[GoodsAtPlace]


class Distribution(BaseModel):
    campaign_code: str
    currency: str
    level: LocationLevel | None = Field(
        description="The level figures were rolled up to; places above it (or outside the "
        "tree's levels) keep their own line. Null: every place as allocated."
    )
    as_of: str
    until: str | None = Field(
        None, description="With ?until=: the business date the figures are cut at (inclusive)."
    )
    places: list[Place]
