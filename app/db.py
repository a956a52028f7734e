"""Engine, declarative base, SQL types and the one-transaction-per-request rule.

Every request runs in exactly one database transaction, opened and committed by
`TransactionalRoute` (the only place that commits). Services flush, never commit.
A transaction that loses a race (deadlock, serialization failure, SQLite lock
time-out) is rolled back and the whole request is run again, so clients never see
those errors.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy import (
    DateTime,
    Dialect,
    Engine,
    MetaData,
    Numeric,
    String,
    create_engine,
    event,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, NullPool
from sqlalchemy.types import TypeDecorator
from starlette.concurrency import run_in_threadpool

from app.config import get_settings
from app.errors import DomainError

log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Amount(TypeDecorator[Decimal]):
    """An exact decimal: NUMERIC on PostgreSQL, text on SQLite (which has no exact decimal type).

    Amounts are never summed in SQL; the ledger keeps balances in Python `Decimal`.
    """

    impl = Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(64))
        return dialect.type_descriptor(Numeric(asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"Amount columns take Decimal, not {type(value).__name__}")
        return format(value, "f") if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return value if isinstance(value, Decimal) else Decimal(value)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# FastAPI runs sync endpoints on 40 worker threads; one connection each means a request
# never waits for the pool, only for the database.
_WORKER_THREADS = 40


def make_engine(url: str) -> Engine:
    """Create the engine; SQLite gets WAL, a busy timeout and explicit BEGIN handling."""
    if url.startswith("sqlite"):
        # A connection per transaction: SQLite writers queue on the database's own lock
        # (busy_timeout, then a retry), never on a pool that times out under load.
        engine = create_engine(url, connect_args={"check_same_thread": False}, poolclass=NullPool)
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=_WORKER_THREADS - 10)


def _configure_sqlite(engine: Engine) -> None:
    busy_ms = get_settings().sqlite_busy_timeout_ms

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the write lock up front (BEGIN IMMEDIATE): a read-then-write
        # transaction can then never fail half-way on a lock upgrade, and writers queue.
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")


class Database:
    """The engine and the session factories of one database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._writer = sessionmaker(self.engine, expire_on_commit=False, autoflush=True)
        reader_engine = (
            self.engine.execution_options(sqlite_begin="DEFERRED")
            if self.is_sqlite
            else self.engine
        )
        self._reader = sessionmaker(reader_engine, expire_on_commit=False, autoflush=True)

    def session(self, *, read_only: bool = False) -> Session:
        return (self._reader if read_only else self._writer)()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write transaction for scripts and tests: commits on success, rolls back on error."""
        with self.session() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        self.engine.dispose()


# PostgreSQL SQLSTATEs worth a retry: serialization_failure, deadlock_detected, lock_not_available.
_RETRYABLE_SQLSTATES = {"40001", "40P01", "55P03"}


def is_retryable(exc: BaseException) -> bool:
    if not isinstance(exc, DBAPIError):
        return False
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate in _RETRYABLE_SQLSTATES:
        return True
    return isinstance(exc, OperationalError) and "database is locked" in str(exc.orig)


def get_session(request: Request) -> Session:
    """The session of the request's transaction (opened by `TransactionalRoute`)."""
    session: Session = request.state.db_session
    return session


SessionDep = Annotated[Session, Depends(get_session)]


class DecimalJSONRequest(Request):
    """Parses JSON numbers as `Decimal`, so `1000.1` in a body never passes through a float."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = json.loads(await self.body(), parse_float=Decimal)
        return self._json


_READ_ONLY_METHODS = {"GET", "HEAD", "OPTIONS"}
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
            read_only = request.method in _READ_ONLY_METHODS
            retries = get_settings().transaction_retries
            attempt = 0
            request.state.on_finish = []
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
                        log.info("retrying %s %s after %s", request.method, request.url.path, exc)
                        await asyncio.sleep(0.005 * 2**attempt)
                    finally:
                        await run_in_threadpool(session.close)
            finally:
                for done in request.state.on_finish:
                    await run_in_threadpool(done)

        return run_in_transaction
