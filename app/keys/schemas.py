from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.keys.roles import Role
from app.schemas import InputModel
from app.text import Text
from app.units.schemas import UnitCode


class ApiKeyCreate(InputModel):
    role: Role
    unit_code: UnitCode | None = Field(
        None, description="Required for officers, refused otherwise."
    )
    name: Annotated[Text, Field(max_length=300, examples=["Cán bộ MTTQ huyện Kỳ Sơn"])]


class ApiKey(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    role: Role
    unit_code: str | None
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class IssuedApiKey(ApiKey):
    token: str = Field(description="Shown once: only its hash is kept.")
