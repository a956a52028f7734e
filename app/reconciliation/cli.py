"""`relief export reconciliation`: the auditor's JSON, byte for byte as the API sends it."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from app.cli_common import ServerOption, TokenOption, download


class Verify(StrEnum):
    kept = "kept"
    full = "full"


export_app = typer.Typer(
    help="Export records for auditors and archives.",
    no_args_is_help=True,
    epilog="\b\nExample:\n  relief export reconciliation ky-son-flood-2022 --server URL --token KEY",
)

EPILOG = """
\b
Examples:
  relief export reconciliation ky-son-flood-2022 --server http://127.0.0.1:8000 --token $RELIEF_TOKEN
  relief export reconciliation ky-son-flood-2022 --until 2022-10-31 \\
      --output ky-son-2022-10-31.json
  relief export reconciliation nghe-an-2024 --until 2024-09-30 --include-children --verify full
"""


@export_app.command("reconciliation", epilog=EPILOG)
def export_reconciliation(
    code: Annotated[str, typer.Argument(help="The campaign code.")],
    server: ServerOption,
    token: TokenOption,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help="Recording time, RFC 3339 with zone: what the books said then."
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(
            "--until",
            help="Business date YYYY-MM-DD (inclusive): count what was received, allocated "
            "and delivered on or before it.",
        ),
    ] = None,
    include_children: Annotated[
        bool,
        typer.Option("--include-children", help="Add in the figures of every sub-campaign."),
    ] = False,
    verify: Annotated[
        Verify,
        typer.Option(
            "--verify", help="`full` also replays the chain and compares every record with it."
        ),
    ] = Verify.kept,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", dir_okay=False, help="Write to this file, not stdout."),
    ] = None,
) -> None:
    """Write a campaign's reconciliation JSON (identical to the API's body)."""
    params: dict[str, str] = {}
    if as_of:
        params["as_of"] = as_of
    if until:
        params["until"] = until
    if include_children:
        params["include_children"] = "true"
    if verify is Verify.full:
        params["verify"] = "full"
    download(server, token, f"/v1/campaigns/{code}/reconciliation", output, params)
