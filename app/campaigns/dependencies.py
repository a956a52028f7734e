"""FastAPI dependencies for routes under `/campaigns/{code}`: load the campaign once."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from app.campaigns import service
from app.campaigns.models import Campaign
from app.campaigns.schemas import CODE_PATTERN
from app.db import SessionDep


def valid_campaign(
    code: Annotated[str, Path(max_length=64, pattern=CODE_PATTERN)], session: SessionDep
) -> Campaign:
    """Load the campaign named in the path, or answer 404 (also when out of the key's reach)."""
    return service.get_by_code(session, code)


CampaignDep = Annotated[Campaign, Depends(valid_campaign)]
