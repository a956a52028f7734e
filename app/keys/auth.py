"""Who is calling, and may they act here at all — authentication and role rules only.

Every router declares one of the dependencies below at router level, so no endpoint can
be added without a rule: `Authorized` (any key reads; admins and officers write),
`AdminOnly`, `AuditorsOnly`. Which campaigns and donors a key reaches is decided where
those are loaded (`app.keys.scope`); the audit log attaches itself to the commit
(`app.audit.log`); the request id comes from `app.requests`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from app.db import Database, SessionDep
from app.errors import DomainError
from app.idempotency import service as idempotency
from app.keys import scope, service
from app.keys.roles import Role
from app.keys.scope import Principal
from app.requests import note_key, request_id
from app.routing import READ_ONLY_METHODS, on_finish
from app.units import service as units


class Unauthenticated(DomainError):
    status = 401
    headers = {"WWW-Authenticate": 'Bearer realm="relief-ledger"'}  # noqa: RUF012


class Forbidden(DomainError):
    status = 403


# Declared as a security scheme, so /docs offers "Authorize" and the OpenAPI names it.
_bearer = HTTPBearer(auto_error=False, description="An API key: `relief keys create`.")
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def authenticate(request: Request, session: SessionDep, credentials: BearerDep) -> Principal:
    """The key holder of this request (401 without a valid, unrevoked key), bound to the
    request's session."""
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
        request_id=request_id(request),
        method=request.method,
        path=request.url.path,
    )
    scope.bind(session, principal)
    note_key(request, key.id)
    if service.due_for_touch(key):
        if request.method in READ_ONLY_METHODS:
            # A read never writes in its own transaction (on SQLite that would make every
            # GET queue for the write lock): at most once a minute per key, after the answer.
            database: Database = request.app.state.database
            key_id = key.id
            on_finish(request, lambda: service.touch_later(database, key_id))
        else:
            # A write commits anyway: the key's use rides in the same commit.
            service.touch(session, key.id)
    return principal


def _allowed(request: Request, session: Session, principal: Principal) -> Principal:
    # Authorised: a POST may now replay (or claim) its Idempotency-Key.
    if request.method == "POST" and principal.key_id is not None:
        idempotency.claim(request, session, principal.key_id)
    return principal


# Each access rule authenticates itself (rather than depending on `authenticate`): FastAPI
# runs every plain function dependency in its own trip to a worker thread, and a request
# that waits for threads while holding the SQLite write turn or a campaign's lock holds
# everyone else up. One trip does both.


def authorize(request: Request, session: SessionDep, credentials: BearerDep) -> Principal:
    """Any key reads; only admins and officers write (auditors change nothing)."""
    principal = authenticate(request, session, credentials)
    if request.method not in READ_ONLY_METHODS and principal.role == Role.auditor:
        raise Forbidden("role_may_not_write", "Auditor keys read everything and change nothing.")
    return _allowed(request, session, principal)


def admin_only(request: Request, session: SessionDep, credentials: BearerDep) -> Principal:
    principal = authenticate(request, session, credentials)
    if principal.role != Role.admin:
        raise Forbidden("admin_role_required", "Only an admin key may do this.")
    return _allowed(request, session, principal)


def auditors_only(request: Request, session: SessionDep, credentials: BearerDep) -> Principal:
    principal = authenticate(request, session, credentials)
    if principal.role not in (Role.admin, Role.auditor):
        raise Forbidden("auditor_role_required", "Only auditor and admin keys may read this.")
    return principal


Authorized = Depends(authorize)
AdminOnly = Depends(admin_only)
AuditorsOnly = Depends(auditors_only)
