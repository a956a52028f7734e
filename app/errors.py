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
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError, ProgrammingError
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


class Unavailable(DomainError):
    """The service cannot answer now (database unreachable or not migrated): 503, retry later."""

    status = 503
    headers = {"Retry-After": "5"}  # noqa: RUF012


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


class ProblemFieldError(BaseModel):
    """One refused input: where it was, what is wrong, and the rule's name."""

    field: str = Field(examples=["amount"])
    message: str = Field(examples=["write 500000"])
    type: str | None = Field(default=None, examples=["amount_not_canonical"])
    # Where the input was: body, query, path or header (validation errors only).
    in_: str | None = Field(default=None, alias="in", examples=["body"])


class ProblemLineError(BaseModel):
    """One bad line of an uploaded file (a bank statement): its number and what is wrong."""

    line: int = Field(ge=1, examples=[3])
    reason: str = Field(examples=["amount '1.0' is not a whole number of VND"])


class Problem(BaseModel):
    """An RFC 9457 problem, as every error of this service is answered
    (`application/problem+json`). `code` names the rule; a conflict may add members,
    such as the id of the record it names."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    type: str = Field(examples=[PROBLEM_BASE + "validation_failed"])
    title: str = Field(examples=["Unprocessable Content"])
    status: int = Field(ge=400, le=599, examples=[422])
    detail: str
    code: str = Field(examples=["validation_failed"])
    instance: str | None = Field(default=None, examples=["/v1/donors"])
    errors: list[ProblemFieldError | ProblemLineError] | None = None


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


def is_unmigrated(exc: BaseException) -> bool:
    """A query named a table the database does not have: migrations were not run."""
    if not isinstance(exc, OperationalError | ProgrammingError):
        return False
    text = f"{type(exc.orig).__name__} {exc.orig}".lower()
    return ("relation" in text and "does not exist" in text) or "no such table" in text


def is_disconnect(exc: BaseException) -> bool:
    """The database connection was lost (server restarted, backend terminated)."""
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def unavailable_problem(request: Request, code: str, detail: str) -> JSONResponse:
    response = problem(503, code, detail, instance=request.url.path)
    response.headers.update(Unavailable.headers or {})
    return response


def database_unavailable(exc: BaseException) -> Unavailable | None:
    """The 503 a database failure deserves, if it is not a bug: lost connection, unmigrated."""
    if is_unmigrated(exc):
        return Unavailable(
            "database_not_migrated",
            "The database has not been migrated to this version of the service; "
            "an operator must run `alembic upgrade head`. Nothing was written.",
        )
    if is_disconnect(exc) or (isinstance(exc, OperationalError) and _unreachable(exc)):
        return Unavailable(
            "database_unavailable",
            "The connection to the database was lost; nothing was written. Retry shortly.",
        )
    return None


def _unreachable(exc: OperationalError) -> bool:
    text = str(exc.orig).lower()
    return any(
        marker in text
        for marker in ("connection refused", "server closed the connection", "terminating")
    )


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

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        # A lost connection or an unmigrated database is an outage, not a bug: 503.
        outage = database_unavailable(exc)
        if outage is None:
            return await _unexpected(request, exc)
        log.warning("database unavailable for %s: %s", request.url.path, exc.orig)
        return unavailable_problem(request, outage.code, outage.detail)
