"""What the benchmarks share: a migrated database to run on, an admin's client, timings.

`database()` gives a URL: an existing database, a throw-away one on a PostgreSQL server,
or a temporary SQLite file. `migrate()` brings it to head with the Alembic migrations,
as `make migrate` does, and `admin_client()` serves it through the whole app (FastAPI
TestClient) with an admin key on every request.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from app.db import Database
from app.keys import scope
from app.keys import service as keys
from app.keys.roles import Role
from app.keys.schemas import ApiKeyCreate
from app.keys.scope import Principal
from app.main import create_app

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRES_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


# --------------------------------------------------------------------------- databases


def argument_parser(doc: str | None, module: str) -> argparse.ArgumentParser:
    """A benchmark's parser: its docstring (usage lines kept as written) as the help, and
    the command that runs it as the program name."""
    return argparse.ArgumentParser(
        prog=f"python -m {module}", description=doc, formatter_class=argparse.RawTextHelpFormatter
    )


def add_postgres_option(parser: argparse.ArgumentParser | Any) -> None:
    """`--postgres [SERVER_URL]` on `parser` (or on one of its argument groups)."""
    parser.add_argument(
        "--postgres",
        nargs="?",
        const=os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_SERVER),
        metavar="SERVER_URL",
        help=f"create (and drop) a throw-away database on this server (default {DEFAULT_POSTGRES_SERVER})",
    )


@contextmanager
def database(
    *, url: str | None = None, postgres: str | None = None, keep: bool = False
) -> Iterator[str]:
    """The database a benchmark runs on: `url` as it is (kept), else a throw-away database
    on the `postgres` server, else a temporary SQLite file; `keep` keeps a temporary one."""
    if url:
        yield url
    elif postgres:
        with throwaway_postgres(postgres, keep) as throwaway:
            yield throwaway
    else:
        with temporary_sqlite(keep) as temporary:
            yield temporary


def migrate(url: str) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = url
    command.upgrade(config, "head")


@contextmanager
def throwaway_postgres(server_url: str, keep: bool) -> Iterator[str]:
    server = make_url(server_url)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"relief_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url: URL = server.set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        if keep:
            print(f"kept database {name}")
        else:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def temporary_sqlite(keep: bool) -> Iterator[str]:
    directory = Path(tempfile.mkdtemp(prefix="relief-bench-"))
    try:
        yield f"sqlite:///{directory / 'bench.db'}"
    finally:
        if keep:
            print(f"kept {directory / 'bench.db'}")
        else:
            shutil.rmtree(directory, ignore_errors=True)


# --------------------------------------------------------------------------- clients


def system_transaction(database: Database) -> AbstractContextManager[Session]:
    """A write transaction outside any request, audited under the system principal `bench`."""
    return scope.acting_as(database, Principal.system("bench"))


@contextmanager
def admin_client(url: str) -> Iterator[TestClient]:
    """A new app on `url`, started, behind a TestClient whose every request carries an
    admin key made directly in the database; `client.app.state.database` is its database."""
    with TestClient(create_app(url)) as client:
        app_database: Database = client.app.state.database  # type: ignore[attr-defined]
        with system_transaction(app_database) as session:
            _, token = keys.issue(session, key_in=ApiKeyCreate(role=Role.admin, name="bench"))
        client.headers["Authorization"] = f"Bearer {token}"
        yield client


def admin_headers(url: str) -> dict[str, str]:
    """An admin key made directly in the database at `url`, as request headers."""
    database = Database(url)
    try:
        with system_transaction(database) as session:
            _, token = keys.issue(session, key_in=ApiKeyCreate(role=Role.admin, name="bench"))
    finally:
        database.dispose()
    return {"Authorization": f"Bearer {token}"}


# --------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_healthy(
    base_url: str, process: subprocess.Popen[bytes], log: Path, timeout_s: float = 60.0
) -> None:
    """Wait until the server at `base_url` answers `/health`; fail with its log if not."""
    deadline = time.monotonic() + timeout_s
    with httpx.Client(base_url=base_url, timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"server exited with {process.returncode}:\n{log.read_text()}")
            try:
                if client.get("/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    raise SystemExit(f"server did not answer /health within {timeout_s:.0f} s:\n{log.read_text()}")


# --------------------------------------------------------------------------- timings


@dataclass
class Timing:
    samples_ms: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p95(self) -> float:
        ordered = sorted(self.samples_ms)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
