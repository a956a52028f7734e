from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.ids import Id
from app.locations.models import LocationLevel
from app.text import Text


class LocationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[Text, Field(max_length=200, examples=["Huyện Kỳ Sơn"])]
    level: LocationLevel
    parent_id: Id | None = None
    code: Annotated[str | None, Field(max_length=40, pattern=r"^[A-Za-z0-9._-]+$")] = None


class Location(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    level: LocationLevel
    parent_id: int | None
    code: str | None
    created_at: datetime
