"""`relief locations …`: load Vietnam's official administrative units into the tree.

Only Typer is imported up front: `relief --help` must not load the database layer.
"""

from __future__ import annotations

import time
from typing import Annotated

import typer

app = typer.Typer(help="The location tree.", no_args_is_help=True)


@app.command(
    "import",
    epilog="\b\nExamples:\n"
    "  relief locations import\n"
    "  relief locations import --database-url postgresql+psycopg://postgres@127.0.0.1/relief",
)
def import_units(
    database_url: Annotated[
        str | None,
        typer.Option(help="The database to load into; DATABASE_URL by default."),
    ] = None,
) -> None:
    """Load the 34 provinces and their communes, wards and special zones (2025), with codes.

    One transaction; re-running changes nothing. Run `alembic upgrade head` first.
    """
    from rich.console import Console
    from rich.table import Table
    from sqlalchemy import inspect

    from app import models  # noqa: F401 - every table, so foreign keys resolve
    from app.config import get_settings
    from app.db import Database
    from app.keys import scope
    from app.keys.scope import Principal
    from app.locations import official

    console = Console()
    database = Database(database_url or get_settings().database_url)
    try:
        if not inspect(database.engine).has_table("locations"):
            console.print("[red]No locations table: run `alembic upgrade head` first.[/red]")
            raise typer.Exit(1)
        started = time.perf_counter()
        with (
            console.status(f"Loading vietnam-provinces {official.PACKAGE_VERSION} …"),
            scope.acting_as(database, Principal.system("relief locations import")) as session,
        ):
            report = official.import_units(session)
        elapsed = time.perf_counter() - started
    finally:
        database.dispose()
    table = Table(
        title=f"Official units (vietnam-provinces {official.PACKAGE_VERSION}, "
        f"data of {official.DATA_VERSION})"
    )
    for column in ("level", "created", "already present", "of which matched by name"):
        table.add_column(column, justify="left" if column == "level" else "right")
    for level, counts in report.levels.items():
        present = counts.present + counts.matched
        table.add_row(level.value, str(counts.created), str(present), str(counts.matched))
    console.print(table)
    console.print(
        f"created {report.created}, already present {report.already_present} in {elapsed:.2f} s"
    )
