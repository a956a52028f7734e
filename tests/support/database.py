"""Test databases are built by the Alembic migrations, never by `create_all`.

`RELIEF_TEST_DATABASE=sqlite` (default): a migrated template file, copied for each test.
`RELIEF_TEST_DATABASE=postgresql`: a database created on `TEST_POSTGRES_URL`'s server for
the session, migrated once and emptied between tests; unreachable PostgreSQL is an error,
never a skip.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import URL

from app.models import Base

ROOT = Path(__file__).resolve().parents[2]
BACKEND = os.environ.get("RELIEF_TEST_DATABASE", "sqlite")
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def alembic_config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = url
    return config


def migrate(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


class PostgresServer:
    """Creates and drops throw-away databases on the server of TEST_POSTGRES_URL."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self.admin = create_engine(self.url, isolation_level="AUTOCOMMIT")

    def create(self) -> URL:
        name = f"relief_test_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        return self.url.set(database=name)

    def drop(self, url: URL) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer(os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES))
    try:
        with server.admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        pytest.fail(
            f"PostgreSQL at {server.url.render_as_string()} is unreachable: {exc}", pytrace=False
        )
    yield server
    server.admin.dispose()


@pytest.fixture(scope="session")
def template_url(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[str]:
    """A database migrated to head once per test session."""
    if BACKEND == "postgresql":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        url = server.create()
        rendered = url.render_as_string(hide_password=False)
        migrate(rendered)
        yield rendered
        server.drop(url)
    else:
        path = tmp_path_factory.mktemp("template") / "template.db"
        url = f"sqlite:///{path}"
        migrate(url)
        yield url


def _empty_postgres(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        # Tests only: replica mode switches off the append-only triggers for this one statement.
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        # The root unit comes from migration 0004; put it back as the migration made it.
        conn.execute(
            text("INSERT INTO units (code, name, path, created_at) VALUES (:c, :n, :p, now())"),
            {"c": "root", "n": "Root", "p": "/root/"},
        )
    engine.dispose()


@pytest.fixture
def database_url(template_url: str, tmp_path: Path) -> str:
    """A migrated, empty database for one test."""
    if BACKEND == "postgresql":
        _empty_postgres(template_url)
        return template_url
    path = tmp_path / "relief.db"
    shutil.copyfile(make_url(template_url).database or "", path)
    return f"sqlite:///{path}"


def without_append_only_triggers(db: Any, conn: Any) -> None:
    """What a database administrator could do: switch the ledger's append-only triggers off
    (for the rest of `conn`'s transaction on PostgreSQL)."""
    if db.is_sqlite:
        for table in ("ledger_entries", "ledger_postings"):
            for action in ("update", "delete"):
                conn.execute(text(f"DROP TRIGGER {table}_no_{action}"))
    else:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
