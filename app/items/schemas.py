from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.schemas import InputModel
from app.text import Text

ITEM_CODE_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"

ItemCode = Annotated[
    str,
    Field(
        min_length=2,
        max_length=64,
        pattern=ITEM_CODE_PATTERN,
        examples=["breeding-goat"],
        description="Lower-case letters, digits and single dashes.",
    ),
]


class ItemCreate(InputModel):
    code: ItemCode
    name: Annotated[Text, Field(max_length=200, examples=["Dê giống"])]
    unit: Annotated[
        Text,
        Field(
            max_length=20,
            examples=["con"],
            description="Counted in whole things (con, bộ, thùng, chiếc, …) or measured "
            "(kg, lít, tấn, …: up to three decimals); any other unit is 422 `unit_unknown`.",
        ),
    ]


class Item(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    unit: str
    quantity_decimals: int = Field(
        description="Decimals a quantity of this item may have: 0 (counted) or 3 (measured)."
    )
    created_at: datetime
