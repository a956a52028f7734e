from __future__ import annotations

from fastapi import APIRouter

from app.audit import schemas, service
from app.db import SessionDep, TransactionalRoute
from app.keys.auth import AuditorsOnly

router = APIRouter(
    prefix="/v1/audit",
    tags=["audit"],
    route_class=TransactionalRoute,
    dependencies=[AuditorsOnly],
)


@router.get("/verify", response_model=schemas.VerifyReport)
def verify(session: SessionDep) -> schemas.VerifyReport:
    """Recompute every ledger chain and every kept balance from the entries."""
    return service.verify_all(session)
