"""Record ids as they may appear in paths, queries and bodies: 1 … 2³¹−1 (a PostgreSQL INTEGER).

Bounding them here turns `GET /v1/pledges/99999999999999999999` into a 422 instead of a
database overflow.
"""

from typing import Annotated

from fastapi import Path, Query
from pydantic import Field

MAX_ID = 2**31 - 1

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
