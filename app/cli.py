"""The `relief` command."""

from __future__ import annotations

import typer

from app import models  # noqa: F401 - every table, so foreign keys resolve
from app.keys.cli import app as keys_app

app = typer.Typer(help="Relief Ledger administration.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")

if __name__ == "__main__":  # pragma: no cover
    app()
