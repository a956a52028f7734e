"""`relief demo`: the seed story, loaded into the configured database."""

from __future__ import annotations

from typing import Annotated

import typer


def demo(
    database_url: Annotated[
        str | None, typer.Option(help="The database to load into; DATABASE_URL by default.")
    ] = None,
) -> None:
    """Load the seed story (Kỳ Sơn flood 2022, Covid-19 fund, Thanh Xuân, goats for Tân Kỳ).

    The Kỳ Sơn flood appeal of October 2022 with district sub-appeals, the Covid-19 fund,
    the Thanh Xuân poverty fund and 60 breeding goats for Tân Kỳ, with domestic, business
    and overseas donors (USD, EUR, JPY, AUD), allocations and deliveries.

    Idempotent: appeals already present are left alone. Run `alembic upgrade head` first.

    Example:

        relief demo
        DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/relief relief demo
    """
    from rich.console import Console
    from sqlalchemy import inspect

    from app import models  # noqa: F401 - every table, so foreign keys resolve
    from app.config import get_settings
    from app.db import Database
    from app.demo import story
    from app.keys import scope
    from app.keys.scope import Principal

    console = Console()
    database = Database(database_url or get_settings().database_url)
    try:
        if not inspect(database.engine).has_table("campaigns"):
            console.print(
                "[red]No schema: run `alembic upgrade head` (or `make migrate`) first.[/red]"
            )
            raise typer.Exit(1)
        with (
            console.status("Loading the seed story …"),
            scope.acting_as(database, Principal.system("relief demo")) as session,
        ):
            report = story.load(session)
    finally:
        database.dispose()
    for code in report.loaded:
        console.print(f"[green]loaded[/green] {code}")
    for code in report.already_present:
        console.print(f"[dim]already present[/dim] {code}")
    console.print(
        f"{len(report.loaded)} appeals loaded, {len(report.already_present)} already present."
    )
