"""Backups of the database of a `DATABASE_URL`, taken while the service runs.

SQLite: the online backup API (`sqlite3.Connection.backup`, in one step, so the copy is
one consistent snapshot even while writers commit in WAL mode), into a single database
file. PostgreSQL: `pg_dump --format=custom`, which reads one snapshot of the whole
database in one transaction; restored with `pg_restore`, which loads the rows before it
creates the append-only triggers. A restore goes only into an EMPTY database (no tables),
and is then checked: every ledger chain, kept balance, record and audit chain replayed
(the checks of `GET /v1/audit/verify`).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import URL, inspect, make_url

from app.audit import service as audit
from app.audit.schemas import VerifyReport
from app.db import Database
from app.reconciliation import records

PG_DUMP_MAGIC = b"PGDMP"
SQLITE_MAGIC = b"SQLite format 3\x00"


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class Copied:
    path: Path
    size: int
    database: str  # "sqlite" or "postgresql"


def _dialect(url: URL) -> str:
    name = url.get_backend_name()
    if name not in ("sqlite", "postgresql"):
        raise BackupError(f"cannot back up a {name} database: only SQLite and PostgreSQL")
    return name


def _sqlite_file(url: URL) -> Path:
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise BackupError(f"{url} is not a SQLite database file")
    return Path(url.database)


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """The URL for pg_dump/pg_restore (libpq's scheme) and their environment: the password
    goes in PGPASSWORD, never on the command line (where `ps` shows it)."""
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not installed (or not on PATH): install PostgreSQL's client tools "
            f"(Debian/Ubuntu: apt-get install postgresql-client), of the server's major "
            f"version or newer, and run the command again. Nothing was written."
        )
    return found


def _run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        tool = Path(command[0]).name
        raise BackupError(f"{tool} failed (exit {done.returncode}): {done.stderr.strip()}")


def backup(database_url: str, target: Path) -> Copied:
    """Copy the database of `database_url` into the new file `target`, consistently, while
    the service keeps writing. Refuses to overwrite an existing file."""
    url = make_url(database_url)
    dialect = _dialect(url)
    if target.exists():
        raise BackupError(f"{target} exists already: give the backup a new file name")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        if dialect == "sqlite":
            _backup_sqlite(_sqlite_file(url), partial)
        else:
            libpq, env = _libpq(url)
            command = [_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges"]
            _run([*command, f"--file={partial}", f"--dbname={libpq}"], env)
        partial.replace(target)  # a backup file is either whole or absent
    finally:
        partial.unlink(missing_ok=True)
    return Copied(target, target.stat().st_size, dialect)


def _backup_sqlite(source: Path, partial: Path) -> None:
    if not source.exists():
        raise BackupError(f"no SQLite database at {source}")
    src = sqlite3.connect(source)
    dst = sqlite3.connect(partial)
    try:
        src.execute("PRAGMA busy_timeout=30000")
        # pages=-1: the whole database in one step, under one read transaction: a
        # snapshot of one moment, while WAL writers go on committing.
        src.backup(dst, pages=-1)
        # One self-contained file (no -wal beside it); the service turns WAL back on.
        dst.execute("PRAGMA journal_mode=DELETE")
        (result,) = dst.execute("PRAGMA integrity_check").fetchone()
        if result != "ok":
            raise BackupError(f"the copy failed SQLite's integrity check: {result}")
    finally:
        dst.close()
        src.close()


def tables_in(database_url: str) -> list[str]:
    """The tables of the database (none: an empty database a backup may go into)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and not _sqlite_file(url).exists():
        return []
    database = Database(database_url)
    try:
        return sorted(inspect(database.engine).get_table_names())
    finally:
        database.dispose()


def restore(database_url: str, source: Path) -> Copied:
    """Restore the backup `source` into the EMPTY database of `database_url`."""
    url = make_url(database_url)
    dialect = _dialect(url)
    if not source.is_file():
        raise BackupError(f"no backup file at {source}")
    with source.open("rb") as file:
        head = file.read(len(SQLITE_MAGIC))
    kind = (
        "sqlite"
        if head.startswith(SQLITE_MAGIC)
        else "postgresql"
        if head.startswith(PG_DUMP_MAGIC)
        else None
    )
    if kind is None:
        raise BackupError(f"{source} is neither a SQLite backup nor a pg_dump custom archive")
    if kind != dialect:
        raise BackupError(
            f"{source} is a {kind} backup; restore it into a {kind} DATABASE_URL, not {dialect}"
        )
    present = tables_in(database_url)
    if present:
        raise BackupError(
            f"the database {url.render_as_string(hide_password=True)} is not empty "
            f"({len(present)} tables, e.g. {', '.join(present[:3])}); a backup is restored "
            f"only into a new, empty database (PostgreSQL: createdb; SQLite: a new file). "
            f"Nothing was changed."
        )
    if dialect == "sqlite":
        target = _sqlite_file(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        dst = sqlite3.connect(target)
        try:
            src.backup(dst, pages=-1)
        finally:
            dst.close()
            src.close()
    else:
        libpq, env = _libpq(url)
        command = [_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error"]
        _run([*command, "--single-transaction", f"--dbname={libpq}", str(source)], env)
    return Copied(source, source.stat().st_size, dialect)


def verify(database_url: str) -> VerifyReport:
    """Replay every chain and compare every record with its entry, as `GET
    /v1/audit/verify` does (ledger chains, kept balances, records, audit chains)."""
    database = Database(database_url)
    try:
        with database.session(read_only=True) as session:
            return audit.verify_all(session, records_check=records.broken_link)
    finally:
        database.dispose()
