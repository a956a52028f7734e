"""`relief export iati`: a campaign's IATI activities, byte for byte as the API sends them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from app.cli_common import ServerOption, TokenOption, download

EPILOG = """
\b
Examples:
  relief export iati ky-son-flood-2022 --server http://127.0.0.1:8000 --token $RELIEF_TOKEN
  relief export iati nghe-an-2024 --output nghe-an-2024-iati.xml
"""


def export_iati(
    code: Annotated[str, typer.Argument(help="The campaign code.")],
    server: ServerOption,
    token: TokenOption,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", dir_okay=False, help="Write to this file, not stdout."),
    ] = None,
) -> None:
    """Write a campaign (and its sub-appeals) as IATI 2.03 activities (XML)."""
    download(server, token, f"/v1/campaigns/{code}/iati.xml", output)
