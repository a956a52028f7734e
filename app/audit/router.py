from __future__ import annotations

from typing import Annotated

from fastapi import Query
from pydantic import AwareDatetime

from app import routing
from app.audit import schemas, service
from app.audit.models import AuditEvent
from app.campaigns.schemas import CODE_PATTERN
from app.db import SessionDep
from app.ids import IdQuery
from app.keys.auth import AuditorsOnly
from app.pagination import Page, PageDep, paginate

router = routing.router(tags=["audit"], prefix="/v1/audit", dependencies=[AuditorsOnly])


@router.get("", response_model=Page[schemas.AuditEvent])
def list_events(
    session: SessionDep,
    page: PageDep,
    campaign: Annotated[str | None, Query(max_length=64, pattern=CODE_PATTERN)] = None,
    entity: Annotated[
        str | None, Query(max_length=40, pattern=r"^[a-z_]+$", examples=["contributions"])
    ] = None,
    entity_id: IdQuery = None,
    actor: Annotated[IdQuery, Query(description="The acting API key's id.")] = None,
    from_: Annotated[
        AwareDatetime | None, Query(alias="from", description="RFC 3339, inclusive.")
    ] = None,
    to: Annotated[AwareDatetime | None, Query(description="RFC 3339, exclusive.")] = None,
) -> Page[schemas.AuditEvent]:
    """Every recorded write, oldest first: who (key, role, unit), when, which request, what."""
    stmt = service.search(
        session,
        campaign_code=campaign,
        entity_type=entity,
        entity_id=entity_id,
        actor_key_id=actor,
        recorded_from=from_,
        recorded_to=to,
    )
    return paginate(session, stmt, AuditEvent.id, page, lambda e: service.render(session, e))


# `GET /v1/audit/verify` is served by `app.reconciliation.router`: it also compares every
# campaign's records with its chain, which needs the record packages above this one.
