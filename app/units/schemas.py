from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.schemas import InputModel
from app.text import Text

# Like campaign codes: lower-case letters, digits and dashes; a unit path joins them with `/`.
CODE_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
UnitCode = Annotated[
    str, Field(min_length=2, max_length=64, pattern=CODE_PATTERN, examples=["ky-son"])
]


class UnitCreate(InputModel):
    code: UnitCode
    name: Annotated[Text, Field(max_length=300, examples=["Ủy ban MTTQ huyện Kỳ Sơn"])]
    parent_code: UnitCode | None = Field(None, description="Defaults to the root unit.")


class Unit(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    parent_code: str | None
    path: str
    created_at: datetime
