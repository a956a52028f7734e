"""`relief backup FILE` and `relief restore FILE` (docs/operations.md, "Backups")."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

DatabaseOption = Annotated[str | None, typer.Option(help="The database; DATABASE_URL by default.")]


def _url(database_url: str | None) -> str:
    from app.config import get_settings

    return database_url or get_settings().database_url


def backup(
    file: Annotated[Path, typer.Argument(help="The new backup file (never overwritten).")],
    database_url: DatabaseOption = None,
) -> None:
    """Copy the database to FILE while the service runs: one consistent moment.

    SQLite: the online backup API, into a SQLite file. PostgreSQL: `pg_dump
    --format=custom` (PostgreSQL's client tools must be installed). Exit status 2 when
    the backup cannot be taken (the message says why).

    Example:

        relief backup /var/backups/relief/relief-$(date +%F).backup
        DATABASE_URL=postgresql+psycopg://relief@db/relief relief backup relief.dump
    """
    from app.backup import service

    try:
        copied = service.backup(_url(database_url), file)
    except service.BackupError as exc:
        typer.echo(f"backup refused: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"backed up the {copied.database} database to {copied.path} ({copied.size} bytes)")


def restore(
    file: Annotated[Path, typer.Argument(help="A file written by `relief backup`.")],
    database_url: DatabaseOption = None,
) -> None:
    """Restore FILE into an EMPTY database, then verify every chain and record.

    Refuses (exit status 2, nothing changed) a database that has any table: create a new
    one first (PostgreSQL: createdb; SQLite: a path where no database is). After the
    restore it replays every ledger and audit chain and compares every record with its
    entry, as GET /v1/audit/verify does: exit status 1 if anything is broken. Then run
    `alembic upgrade head` (a backup of an older version is upgraded) and start the service.

    Example:

        DATABASE_URL=sqlite:///./restored.db relief restore relief-2026-12-01.backup
        createdb relief_restored && relief restore relief.dump \\
            --database-url postgresql+psycopg://postgres@127.0.0.1/relief_restored
    """
    from app import models  # noqa: F401 - every table, so the verification's joins resolve
    from app.backup import service

    url = _url(database_url)
    try:
        service.restore(url, file)
    except service.BackupError as exc:
        typer.echo(f"restore refused: {exc}", err=True)
        raise typer.Exit(2) from exc
    report = service.verify(url)
    if not report.ok:
        typer.echo(f"restored, but verification FAILED: {report.first_broken}", err=True)
        raise typer.Exit(1)
    typer.echo(
        f"restored {file} and verified it: {report.campaigns} campaigns, "
        f"{report.ledger_entries} ledger entries, {report.audit_events} audit events, all ok"
    )
