"""Idempotency-Key semantics (draft-ietf-httpapi-idempotency-key-header):

- same holder, same key, same request (method, path, body bytes) → the first response is
  replayed (status and body, with `Idempotent-Replayed: true`) and nothing more is written;
- same key, different request → 422 `idempotency_key_reused`;
- the same key while its first request is still running → 409 `idempotency_key_in_flight`
  (answered at once inside one process; across processes the duplicate waits on the
  record's unique index, then replays);
- keys are per API key holder, so two holders never collide;
- only successes are remembered: a 4xx or 5xx wrote nothing, so resending it simply runs
  it again (as the draft allows), e.g. once the campaign is open.

The record is inserted when the request starts and completed just before its transaction
commits, so it exists exactly when the effect does. Records are kept 7 days at least and
purged opportunistically afterwards.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
from datetime import timedelta
from typing import Any

from fastapi import FastAPI, Request, Response
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import Conflict, Invalid
from app.idempotency.models import IdempotencyRecord
from app.routing import before_commit, on_finish

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
RETENTION = timedelta(days=7)
# A route that must not replay (its answer holds a secret) says so in its OpenAPI extra.
UNSUPPORTED_EXTRA = "x-idempotency-unsupported"
_PURGE_EVERY = 200

_in_flight: set[tuple[int, str]] = set()
_in_flight_lock = threading.Lock()
_claims = itertools.count()


class Replay(Exception):
    """Raised to answer with a remembered response."""

    def __init__(self, record: IdempotencyRecord) -> None:
        super().__init__(record.idempotency_key)
        self.status_code = record.status_code or 200
        self.content_type = record.content_type or "application/json"
        self.body = record.response_body or ""


def install(app: FastAPI) -> None:
    @app.exception_handler(Replay)
    async def _replay(_: Request, exc: Replay) -> Response:
        return Response(
            exc.body,
            status_code=exc.status_code,
            media_type=exc.content_type,
            headers={REPLAYED_HEADER: "true"},
        )


def _key_of(request: Request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not (0 < len(key) <= 255 and key.isascii() and key.isprintable()):
        raise Invalid.field(
            HEADER, "idempotency_key_invalid", "must be 1 to 255 printable ASCII characters"
        )
    return key


def fingerprint(request: Request, body: bytes) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    digest = hashlib.sha256(f"{request.method}\n{target}\n".encode())
    digest.update(body)
    return digest.hexdigest()


def _find(session: Session, holder: int, key: str) -> IdempotencyRecord | None:
    stmt = select(IdempotencyRecord).where(
        IdempotencyRecord.api_key_id == holder, IdempotencyRecord.idempotency_key == key
    )
    return session.scalars(stmt.execution_options(populate_existing=True)).one_or_none()


def _replay_or_refuse(record: IdempotencyRecord, print_: str) -> None:
    if record.fingerprint != print_:
        raise Invalid.field(
            HEADER,
            "idempotency_key_reused",
            "this Idempotency-Key was used for a different request",
        )
    if record.status_code is None:  # pragma: no cover - only committed, completed rows are seen
        raise _in_flight_error()
    raise Replay(record)


def _in_flight_error() -> Conflict:
    return Conflict(
        "idempotency_key_in_flight",
        "A request with this Idempotency-Key is still being processed; retry shortly.",
    )


def _register(request: Request, holder: tuple[int, str]) -> None:
    if getattr(request.state, "idempotency_registered", False):
        return  # a retry of our own request
    with _in_flight_lock:
        if holder in _in_flight:
            raise _in_flight_error()
        _in_flight.add(holder)
    request.state.idempotency_registered = True

    def release() -> None:
        with _in_flight_lock:
            _in_flight.discard(holder)

    on_finish(request, release)


def claim(request: Request, session: Session, holder: int) -> None:
    """Replay, refuse, or claim the request's Idempotency-Key (no header: nothing to do)."""
    key = _key_of(request)
    route: Any = request.scope.get("route")
    if key is None or (route is not None and (route.openapi_extra or {}).get(UNSUPPORTED_EXTRA)):
        return
    print_ = fingerprint(request, request.state.body)
    record = _find(session, holder, key)
    if record is not None:
        _replay_or_refuse(record, print_)
    _register(request, (holder, key))
    record = IdempotencyRecord(api_key_id=holder, idempotency_key=key, fingerprint=print_)
    try:
        # A concurrent twin in another process holds the same unique key: wait for it here.
        with session.begin_nested():
            session.add(record)
    except IntegrityError:
        twin = _find(session, holder, key)
        if twin is None:  # pragma: no cover - the twin rolled back between our two reads
            raise _in_flight_error() from None
        _replay_or_refuse(twin, print_)
    if next(_claims) % _PURGE_EVERY == 0:
        purge(session)

    def complete(session: Session, response: Response) -> None:
        record.status_code = response.status_code
        record.content_type = response.headers.get("content-type")
        record.response_body = bytes(response.body).decode()
        session.flush()

    before_commit(request, complete)


def purge(session: Session) -> int:
    """Delete records older than the retention period; returns how many."""
    result = session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at < utcnow() - RETENTION)
    )
    return int(getattr(result, "rowcount", 0) or 0)
