"""Who is calling, and may they act here at all.

Every router declares one of the dependencies below at router level, so no endpoint can
be added without a rule: `Authorized` (any key reads; admins and officers write),
`AdminOnly`, `AuditorsOnly`. Which campaigns and donors a key reaches is decided where
those are loaded (`app.keys.scope`).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from app.audit import log as audit_log
from app.db import Database, SessionDep, before_commit, on_finish
from app.errors import DomainError
from app.idempotency import service as idempotency
from app.keys import scope, service
from app.keys.models import Role
from app.keys.scope import Principal
from app.units import service as units

_READS = {"GET", "HEAD", "OPTIONS"}
REQUEST_ID_HEADER = "X-Request-ID"


class Unauthenticated(DomainError):
    status = 401
    headers = {"WWW-Authenticate": 'Bearer realm="relief-ledger"'}  # noqa: RUF012


class Forbidden(DomainError):
    status = 403


# Declared as a security scheme, so /docs offers "Authorize" and the OpenAPI names it.
_bearer = HTTPBearer(auto_error=False, description="An API key: `relief keys create`.")
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _request_id(request: Request) -> str:
    given = request.headers.get(REQUEST_ID_HEADER, "")
    # A client's id is kept when it is short and printable; otherwise we make one.
    if 0 < len(given) <= 100 and given.isascii() and given.isprintable():
        return given
    return uuid.uuid4().hex


def authenticate(
    request: Request, response: Response, session: SessionDep, credentials: BearerDep
) -> Principal:
    """The key holder of this request (401 without a valid, unrevoked key)."""
    token = credentials.credentials.strip() if credentials else None
    if not token:
        raise Unauthenticated("api_key_required", "Send an API key: `Authorization: Bearer <key>`.")
    key = service.find_by_token(session, token)
    if key is None or key.revoked_at is not None:
        raise Unauthenticated("api_key_invalid", "The API key is unknown or revoked.")
    principal = Principal(
        key_id=key.id,
        role=Role(key.role),
        unit_id=key.unit_id,
        unit_path=units.path_of(session, key.unit_id) if key.unit_id else None,
        name=key.name,
        request_id=_request_id(request),
        method=request.method,
        path=request.url.path,
    )
    scope.bind(session, principal)
    request.state.principal = principal
    # Echoed so a client can quote it; the audit log records the same id.
    response.headers[REQUEST_ID_HEADER] = principal.request_id or ""
    if request.method not in _READS:
        before_commit(request, audit_log.append_pending)
    if service.due_for_touch(key):
        database: Database = request.app.state.database
        key_id = key.id  # read now: the key's row object expires with the transaction
        on_finish(request, lambda: service.touch(database, key_id))
    return principal


PrincipalDep = Annotated[Principal, Depends(authenticate)]


def _allowed(request: Request, session: Session, principal: Principal) -> Principal:
    # Authorised: a POST may now replay (or claim) its Idempotency-Key.
    if request.method == "POST" and principal.key_id is not None:
        idempotency.claim(request, session, principal.key_id)
    return principal


def authorize(request: Request, session: SessionDep, principal: PrincipalDep) -> Principal:
    """Any key reads; only admins and officers write (auditors change nothing)."""
    if request.method not in _READS and principal.role == Role.auditor:
        raise Forbidden("role_may_not_write", "Auditor keys read everything and change nothing.")
    return _allowed(request, session, principal)


def admin_only(request: Request, session: SessionDep, principal: PrincipalDep) -> Principal:
    if principal.role != Role.admin:
        raise Forbidden("admin_role_required", "Only an admin key may do this.")
    return _allowed(request, session, principal)


def auditors_only(principal: PrincipalDep) -> Principal:
    if principal.role not in (Role.admin, Role.auditor):
        raise Forbidden("auditor_role_required", "Only auditor and admin keys may read this.")
    return principal


Authorized = Depends(authorize)
AdminOnly = Depends(admin_only)
AuditorsOnly = Depends(auditors_only)
