"""The `relief` command line (installed with the package)."""

from __future__ import annotations

import typer

from app.reconciliation.cli import export_app
from app.statements.cli import EPILOG as IMPORT_EPILOG
from app.statements.cli import import_statement

app = typer.Typer(
    name="relief",
    help="Relief Ledger from the command line: import bank statements, export reconciliations.",
    no_args_is_help=True,
    rich_markup_mode=None,
    epilog=(
        "\b\nExamples:\n"
        "  relief import-statement sao-ke.csv --campaign ky-son-flood-2022 --server URL --token KEY\n"
        "  relief export reconciliation ky-son-flood-2022 --server URL --token KEY\n"
        "  relief COMMAND --help"
    ),
)
app.command("import-statement", epilog=IMPORT_EPILOG)(import_statement)
app.add_typer(export_app, name="export")

if __name__ == "__main__":
    app()
