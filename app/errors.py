"""Domain errors and their RFC 9457 problem+json rendering.

A domain error names the rule it protects (`allocation_exceeds_available`) and carries
its HTTP status; the rule name is the last segment of the problem `type` and is also
given as `code`.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

PROBLEM_BASE = "https://relief-ledger.org/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"
# Field error types that name a rule of their own: a 422 made only of one of them carries
# it as its `code` (e.g. `amount_not_canonical`, raised by `app.money`'s amount type).
NAMED_VALIDATION_TYPES = frozenset({"amount_not_canonical"})


class DomainError(Exception):
    """A broken business rule. Subclasses fix the status; `code` names the rule."""

    status = 400
    headers: dict[str, str] | None = None

    def __init__(
        self,
        code: str,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.errors = errors
        # More members of the problem body, e.g. the id of the record a conflict names.
        self.extra = extra or {}


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    """The request is well-formed but the current state forbids it (409)."""

    status = 409


class Invalid(DomainError):
    """The request is well-formed JSON but breaks a rule about its values (422)."""

    status = 422

    @classmethod
    def field(cls, field: str, code: str, message: str) -> Invalid:
        return cls(code, message, errors=[{"field": field, "message": message, "type": code}])


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    instance: str | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + code,
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE)


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    for err in exc.errors():
        message = str(err.get("msg", "invalid"))
        if err.get("type") == "extra_forbidden":
            message = "unknown field"
        elif err.get("type") == "json_invalid":
            message = f"the body is not valid JSON: {err.get('ctx', {}).get('error', '')}".strip()
        loc = tuple(err.get("loc", ()))
        errors.append(
            {
                "field": _field_name(loc),
                "in": str(loc[0]) if loc else "body",
                "message": message.removeprefix("Value error, "),
                "type": err.get("type"),
            }
        )
    return errors


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        response = problem(
            exc.status,
            exc.code,
            exc.detail,
            instance=request.url.path,
            errors=exc.errors,
            **exc.extra,
        )
        response.headers.update(exc.headers or {})
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        types = {e["type"] for e in errors}
        named = types <= NAMED_VALIDATION_TYPES and len(types) == 1
        return problem(
            422,
            str(types.pop()) if named else "validation_failed",
            f"The request is not valid: {summary}",
            instance=request.url.path,
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        phrase = HTTPStatus(exc.status_code).phrase
        code = phrase.lower().replace(" ", "_").replace("-", "_")
        detail = exc.detail if isinstance(exc.detail, str) else phrase
        return problem(exc.status_code, code, detail, instance=request.url.path)

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        # Services check the rules first; this catches the race where two requests
        # pass the check together and the database constraint decides.
        log.warning("integrity error on %s: %s", request.url.path, exc.orig)
        return problem(
            409,
            "conflicting_write",
            "Another request recorded a conflicting value at the same time; nothing was written.",
            instance=request.url.path,
        )

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError) -> JSONResponse:
        # Validation should have caught it; the database's own range checks are the last guard.
        log.warning("data error on %s: %s", request.url.path, exc.orig)
        return problem(
            422,
            "value_out_of_range",
            "A value is outside what the database can store; nothing was written.",
            instance=request.url.path,
        )

    @app.exception_handler(PoolTimeout)
    async def _busy(request: Request, exc: PoolTimeout) -> JSONResponse:
        # Overload, not a bug: every database connection stayed busy for the pool's time-out.
        log.warning("no database connection for %s: %s", request.url.path, exc)
        response = problem(
            503,
            "service_busy",
            "The service is too busy to take this request now; nothing was written. Retry shortly.",
            instance=request.url.path,
        )
        response.headers["Retry-After"] = "1"
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(
            500,
            "internal_error",
            "An unexpected error occurred; nothing was written.",
            instance=request.url.path,
        )
