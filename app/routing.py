"""The router preset and the one-transaction-per-request rule.

Every router is made by `router(...)`, so every route is a `TransactionalRoute`: each
request runs in exactly one database transaction, opened here and committed here once
(services flush, never commit); a transaction that loses a race (deadlock,
serialization failure, SQLite lock time-out) is rolled back and the whole request is run
again, so clients never see those errors.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Coroutine, Sequence
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.params import Depends
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.config import get_settings
from app.db import Database, is_retryable
from app.errors import DomainError

log = logging.getLogger(__name__)


def router(
    *, tags: list[str], prefix: str = "/v1", dependencies: Sequence[Depends] = ()
) -> APIRouter:
    """A router whose every route runs in one transaction (`TransactionalRoute`).

    `dependencies` are the router's access rule (`Authorized`, `AdminOnly`, `AuditorsOnly`
    from `app.keys.auth`; none for public routes).
    """
    return APIRouter(
        prefix=prefix,
        tags=list(tags),
        route_class=TransactionalRoute,
        dependencies=list(dependencies),
    )


class DecimalJSONRequest(Request):
    """Parses JSON numbers as `Decimal`, so `1000.1` in a body never passes through a float."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = json.loads(await self.body(), parse_float=Decimal)
        return self._json


# Methods that change nothing: run on a read-only session; a key may read with them.
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_BODY_METHODS = {"POST", "PUT", "PATCH"}
MAX_BODY_EXTRA = "x-max-body-bytes"


class BodyTooLarge(DomainError):
    status = 413


async def read_body(request: Request, limit: int) -> None:
    """Read the body up front, refusing (413) more than `limit` bytes whether or not the
    client declared a Content-Length; handlers then read the cached bytes."""
    declared = request.headers.get("content-length", "")
    too_large = BodyTooLarge(
        "request_body_too_large", f"The request body must not exceed {limit} bytes."
    )
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    request._body = request.state.body = b"".join(chunks)


Hook = Callable[[Session, Response], None]


def before_commit(request: Request, hook: Hook) -> None:
    """Run `hook(session, response)` in the request's transaction, just before it commits
    (only when the response is a success); registered anew by each attempt."""
    request.state.before_commit.append(hook)


def on_finish(request: Request, done: Callable[[], None]) -> None:
    """Run `done()` once the request's transaction has ended, whatever its outcome."""
    request.state.on_finish.append(done)


class TransactionalRoute(APIRoute):
    """Runs each request in one transaction, commits it once, and retries lost races.

    A route's body limit is `max_body_bytes` (the setting) unless the route says otherwise
    with `openapi_extra={"x-max-body-bytes": n}` (shown in the OpenAPI document too).
    """

    @property
    def max_body_bytes(self) -> int:
        own = (self.openapi_extra or {}).get(MAX_BODY_EXTRA)
        return int(own) if own else get_settings().max_body_bytes

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run_in_transaction(request: Request) -> Response:
            request = DecimalJSONRequest(request.scope, request.receive)
            if request.method in _BODY_METHODS:
                await read_body(request, self.max_body_bytes)
            database: Database = request.app.state.database
            read_only = request.method in READ_ONLY_METHODS
            retries = get_settings().transaction_retries
            attempt = 0
            request.state.on_finish = []
            async with database.turn(read_only=read_only):
                try:
                    while True:
                        session = database.session(read_only=read_only)
                        request.state.db_session = session
                        request.state.before_commit = []
                        try:
                            response = await handler(request)
                            if response.status_code < 400:
                                for hook in request.state.before_commit:
                                    await run_in_threadpool(hook, session, response)
                                await run_in_threadpool(session.commit)
                            else:
                                await run_in_threadpool(session.rollback)
                            return response
                        except Exception as exc:
                            await run_in_threadpool(session.rollback)
                            if not is_retryable(exc) or attempt >= retries:
                                raise
                            attempt += 1
                            log.info(
                                "retrying %s %s after %s", request.method, request.url.path, exc
                            )
                            await asyncio.sleep(0.005 * 2**attempt)
                        finally:
                            await run_in_threadpool(session.close)
                finally:
                    for done in request.state.on_finish:
                        await run_in_threadpool(done)

        return run_in_transaction
