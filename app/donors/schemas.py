from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Annotated

from babel import Locale
from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field

from app.donors.models import DonorKind
from app.schemas import InputModel
from app.text import Text


@lru_cache
def _countries() -> frozenset[str]:
    territories = Locale("en").territories
    return frozenset(c for c in territories if isinstance(c, str) and c.isalpha() and len(c) == 2)


def _country(value: str) -> str:
    code = value.upper()
    if code not in _countries():
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
    return code


Country = Annotated[
    str, Field(min_length=2, max_length=2, examples=["VN"]), AfterValidator(_country)
]
Phone = Annotated[str, Field(min_length=3, max_length=40, pattern=r"^\+?[0-9 .()-]+$")]


class DonorCreate(InputModel):
    name: Annotated[Text, Field(max_length=300, examples=["Công ty CP Sữa Việt Nam"])]
    kind: DonorKind
    country: Country = "VN"
    email: EmailStr | None = None
    phone: Phone | None = None
    anonymous: bool = False
    display_name: Annotated[Text | None, Field(max_length=300)] = None


class Donor(BaseModel):
    """A donor as officers and auditors see it, private fields included."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    kind: DonorKind
    country: str
    email: str | None
    phone: str | None
    anonymous: bool
    display_name: str | None
    created_at: datetime
