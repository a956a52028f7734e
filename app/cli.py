"""The `relief` command line: a root Typer app that each domain adds its commands to.

Each domain's `cli` module imports only Typer (and the standard library) at the top and the
rest inside its commands, so `relief --help` and every command load only what they use.
"""

from __future__ import annotations

import typer

from app.backup import cli as backups
from app.demo.cli import demo
from app.feed.cli import app as feed_app
from app.iati.cli import EPILOG as IATI_EPILOG
from app.iati.cli import export_iati
from app.keys.cli import app as keys_app
from app.locations.cli import app as locations_app
from app.reconciliation.cli import export_app
from app.statements.cli import EPILOG as IMPORT_EPILOG
from app.statements.cli import import_statement
from app.transparency import cli as transparency

app = typer.Typer(
    name="relief",
    help="Relief Ledger from the command line: load places and demo data, import bank "
    "statements, export reconciliations and IATI activities, back up and restore the database.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    epilog=(
        "\b\nExamples:\n"
        "  relief keys create --role admin --name 'Nguyễn Văn An'\n"
        "  relief locations import\n"
        "  relief demo\n"
        "  relief import-statement sao-ke.csv --campaign ky-son-flood-2022 --server URL --token KEY\n"
        "  relief export reconciliation ky-son-flood-2022 --server URL --token KEY\n"
        "  relief export iati ky-son-flood-2022 --output ky-son-iati.xml\n"
        "  relief verify receipt RL-7K3M9Q --server URL --key VKEY\n"
        "  relief backup relief-2026-12-01.backup\n"
        "  relief feed secret 7 --server URL --token KEY\n"
        "  relief COMMAND --help"
    ),
)
app.add_typer(keys_app, name="keys")
app.add_typer(locations_app, name="locations")
app.command("demo")(demo)
app.command("import-statement", epilog=IMPORT_EPILOG)(import_statement)
export_app.command("iati", epilog=IATI_EPILOG)(export_iati)
app.add_typer(export_app, name="export")
app.command("checkpoint", epilog=transparency.CHECKPOINT_EPILOG)(transparency.checkpoint)
app.command("cosign", epilog=transparency.COSIGN_EPILOG)(transparency.cosign)
app.add_typer(transparency.signing_key_app, name="signing-key")
app.add_typer(transparency.verify_app, name="verify")
app.command("backup")(backups.backup)
app.command("restore")(backups.restore)
app.add_typer(feed_app, name="feed")

if __name__ == "__main__":
    app()
