"""The request id: taken from the client's `X-Request-ID` when it is short and printable,
made up otherwise, echoed on every response, and recorded by the audit log and every
log line of the request. And each request's access line and metrics (`AccessMiddleware`)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import structlog
from fastapi import Request
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import logs, metrics

REQUEST_ID_HEADER = "X-Request-ID"
_STATE_KEY = "request_id"
_KEY_ID = "key_id"


def _chosen(given: str) -> str:
    # A client's id is kept when it is short and printable; otherwise we make one.
    if 0 < len(given) <= 100 and given.isascii() and given.isprintable():
        return given
    return uuid.uuid4().hex


def request_id(request: Request) -> str:
    """This request's id (set by `RequestIdMiddleware`; made up if it did not run)."""
    found = getattr(request.state, _STATE_KEY, None)
    return found if isinstance(found, str) else _chosen("")


class RequestIdMiddleware:
    """Gives each HTTP request its id and echoes it, so a client can quote it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = ""
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                given = value.decode("latin-1")
                break
        chosen = _chosen(given)
        scope.setdefault("state", {})[_STATE_KEY] = chosen

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = chosen
            await send(message)

        # Every log line written while the request runs carries its id.
        with structlog.contextvars.bound_contextvars(request_id=chosen):
            await self.app(scope, receive, send_with_id)


def note_key(request: Request, key_id: int) -> None:
    """Remember which key made this request, for its access line (the id, never the token)."""
    setattr(request.state, _KEY_ID, key_id)


def _route_of(scope: Scope) -> str:
    # The route's template (`/v1/campaigns/{code}`), set in the scope by the router; a
    # path that matched nothing is `unmatched`, so a scan of random paths adds no series.
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return template if isinstance(template, str) and template else "unmatched"


class AccessMiddleware:
    """Times each HTTP request, counts it by route template and status (app.metrics) and
    writes its one access line (app.logs): request id, key id, campaign code when the
    path has one, method, route, path, status and duration."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # an exception that escapes becomes a 500 outside this middleware

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            seconds = time.perf_counter() - started
            route = _route_of(scope)
            method = scope["method"]
            metrics.observe_request(method, route, status, seconds)
            state: dict[str, Any] = scope.get("state", {})
            params: dict[str, Any] = scope.get("path_params", {})
            logs.access(
                request_id=state.get(_STATE_KEY),
                key_id=state.get(_KEY_ID),
                campaign=params.get("code") if "/campaigns/{code}" in route else None,
                method=method,
                route=route,
                path=scope["path"],
                status=status,
                duration_ms=round(seconds * 1000, 2),
            )
