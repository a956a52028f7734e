"""The router preset and the one-transaction-per-request rule.

Every router is made by `router(...)`, so every route is a `TransactionalRoute`: each
request runs in exactly one database transaction, opened here and committed here once
(services flush, never commit); a transaction that loses a race (deadlock,
serialization failure, SQLite lock time-out) is rolled back and the whole request is run
again, so clients never see those errors.
"""

from __future__ import annotations

import asyncio
import email.message
import inspect
import json
import logging
import re
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.params import Depends
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.config import get_settings
from app.db import Database, is_retryable
from app.errors import PROBLEM_MEDIA_TYPE, DomainError, Invalid, Unavailable, is_disconnect

log = logging.getLogger(__name__)


def router(
    *,
    tags: list[str],
    prefix: str = "/v1",
    dependencies: Sequence[Depends] = (),
    route_class: type[TransactionalRoute] | None = None,
) -> APIRouter:
    """A router whose every route runs in one transaction (`TransactionalRoute`).

    `dependencies` are the router's access rule (`Authorized`, `AdminOnly`, `AuditorsOnly`
    from `app.keys.auth`; none for public routes). `route_class` may be a subclass of
    `TransactionalRoute` that adds to it (the bank feed counts its refusals).
    """
    return APIRouter(
        prefix=prefix,
        tags=list(tags),
        route_class=route_class or TransactionalRoute,
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


class UnsupportedMediaType(DomainError):
    status = 415


# The errors every operation may answer, documented once here for every route (see
# `error_responses`); each is `application/problem+json` with the `Problem` schema.
PROBLEM_SCHEMA_REF = "#/components/schemas/Problem"
_ERROR_DESCRIPTIONS = {
    401: "No API key, or an unknown or revoked one (`api_key_required`, `api_key_invalid`).",
    403: "The key's role may not do this (`role_may_not_write`, `admin_role_required`, …).",
    404: "No such record, or one outside the units the key reaches (answered alike).",
    409: "The current state forbids it (a named rule), a conflicting concurrent write, or an "
    "Idempotency-Key reused with another body.",
    413: "The body is larger than the operation accepts (`request_body_too_large`).",
    415: "The body is not of the media type the operation takes (`unsupported_media_type`).",
    422: "The input breaks a rule: `validation_failed` with every field listed, "
    "`unknown_query_parameter`, `duplicate_json_key`, `body_not_utf8`, or the rule's own code.",
    503: "The service cannot answer now (`service_busy`, `database_unavailable`, "
    "`database_not_migrated`); nothing was written. Retry after `Retry-After` seconds.",
}


def problem_response(status: int, description: str | None = None) -> dict[str, Any]:
    """An OpenAPI response object for an error: problem+json with the `Problem` schema."""
    response: dict[str, Any] = {
        "description": description or _ERROR_DESCRIPTIONS[status],
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": PROBLEM_SCHEMA_REF}}},
    }
    if status == 503:
        response["headers"] = {
            "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}
        }
    return response


def error_responses(
    path: str, methods: Sequence[str], *, guarded: bool, takes_body: bool
) -> dict[int | str, dict[str, Any]]:
    """The error statuses a route can answer, from its shape: an access rule (401, 403),
    a path parameter (404), a write (409), a JSON body (413, 415); every route may refuse
    its input (422) or be unable to answer now (503)."""
    statuses = [422, 503]
    if guarded:
        statuses += [401, 403]
    if "{" in path:
        statuses.append(404)
    if set(methods) - READ_ONLY_METHODS:
        statuses.append(409)
        statuses.append(413)
    if takes_body:
        statuses.append(415)
    return {status: problem_response(status) for status in sorted(statuses)}


def body_example(example: dict[str, Any]) -> dict[str, Any]:
    """`openapi_extra` giving a route's JSON body one example, shown by /docs instead of
    one assembled field by field (which mixes money and goods). Every example must be
    accepted: tests/test_openapi.py posts each one."""
    return {"requestBody": {"content": {"application/json": {"example": example}}}}


def check_query(request: Request, allowed: frozenset[str]) -> None:
    """Refuse query parameters the operation does not define (422), as unknown body fields
    are refused: a misspelt filter must not silently return everything."""
    unknown = sorted(set(request.query_params.keys()) - allowed)
    if unknown:
        names = ", ".join(unknown)
        raise Invalid(
            "unknown_query_parameter",
            f"This operation takes no query parameter named {names}.",
            errors=[
                {
                    "field": name,
                    "in": "query",
                    "message": "unknown query parameter",
                    "type": "unknown_query_parameter",
                }
                for name in unknown
            ],
        )


_UNPAIRED_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _json_media(content_type: str | None) -> bool | None:
    """True for JSON, False for another media type, None when none was declared (FastAPI
    then reads the body as JSON too)."""
    if not content_type:
        return None
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise Invalid.field(
                key, "duplicate_json_key", f"the member {key!r} appears more than once"
            )
        seen[key] = value
    return seen


def _check_text(value: Any) -> None:
    """Refuse unpaired surrogates in any string of a parsed body (walked without recursion)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _UNPAIRED_SURROGATE.search(item):
                raise Invalid(
                    "invalid_unicode",
                    "The body contains an unpaired UTF-16 surrogate (such as \\udc00), which "
                    "is not a character; send valid Unicode text.",
                )
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


def parse_json_body(request: Request) -> None:
    """Read a JSON body strictly, once: UTF-8 only, every member name once, no unpaired
    surrogates, numbers as `Decimal`. Syntax errors are left to FastAPI (422
    `validation_failed`); a body in another media type is 415."""
    body: bytes = request.state.body
    if not body:
        return
    is_json = _json_media(request.headers.get("content-type"))
    if is_json is False:
        raise UnsupportedMediaType(
            "unsupported_media_type",
            "Send the body as Content-Type: application/json (UTF-8).",
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Invalid(
            "body_not_utf8", "The body must be JSON encoded as UTF-8 (not UTF-16 or Latin-1)."
        ) from exc
    try:
        parsed = json.loads(text, parse_float=Decimal, object_pairs_hook=_refuse_duplicates)
    except json.JSONDecodeError:
        return  # FastAPI reads it again and answers 422 json_invalid, with the position
    except RecursionError as exc:
        raise Invalid("json_too_deep", "The JSON body is nested too deeply.") from exc
    _check_text(parsed)
    request._json = parsed


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


# Who may call a route, by its access rule (the dependencies of app.keys.auth).
_WHO_MAY_CALL = {
    "authorize": "any API key reads; admin and officer keys write (an officer only within "
    "the units below their own); auditor keys change nothing",
    "admin_only": "admin keys only",
    "auditors_only": "auditor and admin keys only",
}


def _describe(endpoint: Callable[..., Any], kwargs: dict[str, Any]) -> None:
    """Summary and description for people, from the endpoint's docstring (first line: the
    summary), plus who may call it, from the route's access rule."""
    doc = inspect.cleandoc(endpoint.__doc__ or "")
    first, _, rest = doc.partition("\n\n")
    if doc and kwargs.get("summary") is None and "\n" not in first and len(first) <= 90:
        kwargs["summary"] = first
        doc = rest
    if kwargs.get("description") is None:
        rules = [
            _WHO_MAY_CALL[name]
            for dep in kwargs.get("dependencies") or ()
            if (name := getattr(getattr(dep, "dependency", None), "__name__", "")) in _WHO_MAY_CALL
        ]
        who = rules[0] if rules else "anyone, without a key"
        kwargs["description"] = "\n\n".join(filter(None, [doc, f"**Who may call:** {who}."]))


def _query_names(dependant: Dependant) -> frozenset[str]:
    """Every query parameter a route reads, its dependencies' included."""
    names = {param.alias or param.name for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return frozenset(names)


def _roll_back(session: Session) -> None:
    # After a lost connection the rollback has nothing to talk to; the session is reset anyway.
    try:
        session.rollback()
    except Exception:
        log.warning("rollback failed after an error", exc_info=True)


@dataclass
class _Ending:
    committing: bool = False  # the commit was sent: its outcome is unknown if it fails


def _end(session: Session, response: Response, hooks: list[Hook], ending: _Ending) -> None:
    """Commit a success (its before-commit hooks first) or roll back a refusal, then close
    the session: in one trip to a worker thread, not one per step."""
    if response.status_code < 400:
        for hook in hooks:
            hook(session, response)
        ending.committing = True
        session.commit()
    else:
        session.rollback()
    session.close()


def _abandon(session: Session) -> None:
    _roll_back(session)
    session.close()


def _lost_at_commit() -> Unavailable:
    return Unavailable(
        "database_connection_lost",
        "The connection to the database was lost while this request was being committed, "
        "so it may or may not have been recorded. Retry with the same Idempotency-Key to "
        "be sure it is recorded once.",
    )


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
    Its error responses are documented from its shape (`error_responses`); a route's own
    `responses=` add to them or override them.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        _describe(endpoint, kwargs)
        own = kwargs.get("responses") or {}
        kwargs["responses"] = {
            **error_responses(
                path,
                kwargs.get("methods") or ["GET"],
                guarded=bool(kwargs.get("dependencies")),
                takes_body=False,
            ),
            **own,
        }
        super().__init__(path, endpoint, **kwargs)
        if self.body_field is not None or "requestBody" in (self.openapi_extra or {}):
            self.responses = {415: problem_response(415), **self.responses}
        self.query_names = _query_names(self.dependant)

    @property
    def max_body_bytes(self) -> int:
        own = (self.openapi_extra or {}).get(MAX_BODY_EXTRA)
        return int(own) if own else get_settings().max_body_bytes

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run_in_transaction(request: Request) -> Response:
            request = DecimalJSONRequest(request.scope, request.receive)
            check_query(request, self.query_names)
            if request.method in _BODY_METHODS:
                await read_body(request, self.max_body_bytes)
                if self.body_field is not None:
                    parse_json_body(request)
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
                        ending = _Ending()
                        try:
                            response = await handler(request)
                            hooks = request.state.before_commit
                            await run_in_threadpool(_end, session, response, hooks, ending)
                            return response
                        except Exception as exc:
                            await run_in_threadpool(_abandon, session)
                            if ending.committing and is_disconnect(exc):
                                # The commit may have reached the database: never run twice.
                                raise _lost_at_commit() from exc
                            if not is_retryable(exc) or attempt >= retries:
                                raise
                            attempt += 1
                            log.info(
                                "retrying %s %s after %s", request.method, request.url.path, exc
                            )
                            await asyncio.sleep(0.005 * 2**attempt)
                        except BaseException:  # cancelled: the client went away
                            await run_in_threadpool(session.close)
                            raise
                finally:
                    for done in request.state.on_finish:
                        await run_in_threadpool(done)

        return run_in_transaction
