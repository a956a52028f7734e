"""The request id: taken from the client's `X-Request-ID` when it is short and printable,
made up otherwise, echoed on every response, and recorded by the audit log."""

from __future__ import annotations

import uuid

from fastapi import Request
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "X-Request-ID"
_STATE_KEY = "request_id"


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

        await self.app(scope, receive, send_with_id)
