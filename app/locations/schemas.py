from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.ids import Id
from app.locations.models import LocationLevel
from app.schemas import InputModel
from app.text import Text


class LocationCreate(InputModel):
    name: Annotated[Text, Field(max_length=200, examples=["Huyện Kỳ Sơn"])]
    level: LocationLevel
    parent_id: Id | None = Field(
        None,
        description="A district hangs under a province; a commune under a district or a "
        "province; a village under a commune; `other` anywhere; a province under nothing.",
    )
    code: Annotated[
        str | None,
        Field(max_length=40, pattern=r"^[A-Za-z0-9._-]+$", description="Official code, if any."),
    ] = None


class Location(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    level: LocationLevel
    parent_id: int | None
    code: str | None
    path: str = Field(examples=["Tỉnh Nghệ An › Huyện Tân Kỳ"])
    depth: int = Field(description="How many ancestors it has: 0 for a root.")
    created_at: datetime
