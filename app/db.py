"""Engine, declarative base, SQL types, and the request's session.

Every request runs in exactly one database transaction, opened and committed by
`app.routing.TransactionalRoute` (the only place that commits a request). Services flush,
never commit. `is_retryable` names the errors of a lost race (deadlock, serialization
failure, SQLite lock time-out), after which the whole request is run again.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from itertools import chain
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import (
    DateTime,
    Dialect,
    Engine,
    MetaData,
    Numeric,
    String,
    Table,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, QueuePool
from sqlalchemy.types import TypeDecorator

from app.config import get_settings

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


# FastAPI runs sync endpoints and dependencies on 40 worker threads (anyio's default).
_WORKER_THREADS = 40
# Requests that may hold a transaction at once. A request hops between worker threads
# (dependencies, the endpoint, the commit) while it holds its connection and its row
# locks; with fewer transactions than threads, the holder of a lock always finds a free
# thread to finish on, and with fewer transactions than pooled connections nobody waits
# on the pool. Without this bound 50 racing writers starved each other for 30 s.
_CONCURRENT_TRANSACTIONS = _WORKER_THREADS - 10
# How long a request waits for its turn before it is told the service is busy (503).
_TURN_TIMEOUT_S = 30.0


def make_engine(url: str) -> Engine:
    """Create the engine; SQLite gets WAL, a busy timeout and explicit BEGIN handling."""
    if url.startswith("sqlite"):
        # Pooled connections: opening one per transaction costs a connect, the PRAGMAs and,
        # when the last connection to a WAL database closes, a checkpoint of the WAL — about
        # half of a small write. `turn` keeps the transactions in flight below the pool.
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False},
            pool_size=_CONCURRENT_TRANSACTIONS,
            max_overflow=_WORKER_THREADS - _CONCURRENT_TRANSACTIONS,
        )
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
        # One set of turnstiles per event loop (asyncio primitives belong to one loop).
        self._turnstiles: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[bool, asyncio.Semaphore]
        ] = weakref.WeakKeyDictionary()
        # Requests holding a turn, and waiting for one, by kind (for `pool_use`).
        self._turns = {"writers_holding": 0, "writers_waiting": 0}
        self._turns |= {"readers_holding": 0, "readers_waiting": 0}

    def pool_use(self) -> dict[str, int]:
        """The connection pool's and the turnstiles' use now (app/metrics.py scrapes it)."""
        use = dict(self._turns)
        pool = self.engine.pool
        if isinstance(pool, QueuePool):
            use |= {
                "checked_out": pool.checkedout(),
                "idle": pool.checkedin(),
                "overflow": max(pool.overflow(), 0),
                "size": pool.size(),
            }
        return use

    @asynccontextmanager
    async def turn(self, *, read_only: bool) -> AsyncIterator[None]:
        """Wait for the request's turn to hold a transaction (see `_CONCURRENT_TRANSACTIONS`).

        On SQLite, which has one writer at a time, writers queue here one by one in
        arrival order instead of polling the database's lock; readers never wait on them.
        Raises `PoolTimeout` (answered 503 service_busy) after `_TURN_TIMEOUT_S`.
        """
        loop = asyncio.get_running_loop()
        turnstiles = self._turnstiles.get(loop)
        if turnstiles is None:
            writers = 1 if self.is_sqlite else _CONCURRENT_TRANSACTIONS
            shared = (
                asyncio.Semaphore(_CONCURRENT_TRANSACTIONS - writers) if self.is_sqlite else None
            )
            writer_gate = asyncio.Semaphore(writers)
            turnstiles = {False: writer_gate, True: shared or writer_gate}
            self._turnstiles[loop] = turnstiles
        gate = turnstiles[read_only]
        kind = "readers" if read_only else "writers"
        self._turns[f"{kind}_waiting"] += 1
        try:
            await asyncio.wait_for(gate.acquire(), _TURN_TIMEOUT_S)
        except TimeoutError:
            raise PoolTimeout(f"no turn at the database within {_TURN_TIMEOUT_S:.0f} s") from None
        finally:
            self._turns[f"{kind}_waiting"] -= 1
        self._turns[f"{kind}_holding"] += 1
        try:
            yield
        finally:
            self._turns[f"{kind}_holding"] -= 1
            gate.release()

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
    """A lost race, or a lost connection (retried on a fresh one; `TransactionalRoute`
    retries it only when the commit had not begun)."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate in _RETRYABLE_SQLSTATES:
        return True
    return isinstance(exc, OperationalError) and "database is locked" in str(exc.orig)


# Rows added in one go after which PostgreSQL's statistics are refreshed (see below).
BULK_ROWS = 5_000


def refresh_statistics(session: Session, *tables: str) -> None:
    """After a bulk load, let PostgreSQL's planner see the new rows now (ANALYZE samples a
    few thousand rows: well under a second) instead of when autovacuum next passes. With
    stale statistics a campaign that grew from 300 to 200,000 rows in one import is
    planned as if it were small, and its searches scan it. SQLite plans without them."""
    if session.get_bind().dialect.name == "postgresql":
        for table in tables:
            session.execute(text(f'ANALYZE "{table}"'))


async def get_session(request: Request) -> Session:
    """The session of the request's transaction (opened by `TransactionalRoute`).

    A coroutine although it does no I/O: FastAPI runs a plain function dependency in a
    worker thread, and every request needs this one — a trip to a thread and back for
    one attribute read, while a SQLite writer holds the database's only write turn."""
    session: Session = request.state.db_session
    return session


SessionDep = Annotated[Session, Depends(get_session)]


def reserve_ids(connection: Connection, table: Table, count: int) -> list[int]:
    """`count` new primary keys of `table` (its integer `id`), ascending, for rows written
    with `bulk_insert`. PostgreSQL draws them from the table's sequence in one query; on
    SQLite the caller holds the only write lock (BEGIN IMMEDIATE), so the ids after the
    largest one are free, exactly those SQLite would have given."""
    if count <= 0:
        return []
    name = table.name
    if connection.dialect.name == "postgresql":
        rows = connection.execute(
            text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
            {"t": name, "n": count},
        )
        return sorted(row[0] for row in rows)
    top = connection.exec_driver_sql(
        f'SELECT coalesce(max(id), 0) FROM "{name}"'  # noqa: S608 (a model's table name)
    ).scalar_one()
    return list(range(top + 1, top + 1 + count))


def bulk_insert(
    connection: Connection, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """Insert many rows at the database's own bulk pace: COPY on PostgreSQL, multi-row
    INSERTs of up to 1,000 rows on SQLite. Values are converted by the columns' SQL types, so rows read
    back exactly as ORM-inserted ones (Decimal amounts as text on SQLite, UTC stamps).

    No RETURNING: give the ids with `reserve_ids` when the caller needs them. SQLAlchemy's
    multi-row INSERT … RETURNING spends more time rendering parameters than the database
    spends inserting (bench/statement_import.py)."""
    if not rows:
        return
    dialect = connection.dialect
    by_column: list[Iterable[Any]] = list(zip(*rows, strict=True))
    for index, name in enumerate(columns):
        column_type = table.c[name].type
        process = column_type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None and isinstance(column_type, UTCDateTime):
            # A bulk write's rows share one recording time: convert each moment once.
            moments: dict[Any, Any] = {}
            by_column[index] = [
                moments[value] if value in moments else moments.setdefault(value, process(value))
                for value in by_column[index]
            ]
        elif process is not None:
            by_column[index] = list(map(process, by_column[index]))
    converted = list(zip(*by_column, strict=True))
    names = ", ".join(f'"{name}"' for name in columns)
    # The driver's own cursor: psycopg's has `copy`. Table and column names are the models'.
    cursor: Any = connection.connection.cursor()
    try:
        if dialect.name == "postgresql":
            with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
                for row in converted:
                    copy.write_row(row)
            return
        # Multi-row VALUES beat executemany by 1.5-3× (the public search index's trigger
        # most of all), within SQLite's 32,766 parameters per statement.
        per = max(1, min(1_000, 32_000 // len(columns)))
        one = "(" + ", ".join("?" for _ in columns) + ")"
        for start in range(0, len(converted), per):
            chunk = converted[start : start + per]
            values = ", ".join([one] * len(chunk))
            cursor.execute(
                f'INSERT INTO "{table.name}" ({names}) VALUES {values}',  # noqa: S608
                list(chain.from_iterable(chunk)),
            )
    finally:
        cursor.close()
