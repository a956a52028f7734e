"""The `relief` command line: a root Typer app that each domain adds its sub-app to."""

from __future__ import annotations

import typer

from app.demo.cli import demo
from app.locations.cli import app as locations_app

app = typer.Typer(
    name="relief",
    help="Relief Ledger's command line.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(locations_app, name="locations")
app.command("demo")(demo)
