"""`relief export iati`: a campaign's IATI activities, byte for byte as the API sends them."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import httpx
import typer

from app.cli_common import ServerOption, TokenOption, client, errors, fail, problem, unreachable

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
    try:
        with client(server, token) as http:
            response = http.get(f"/v1/campaigns/{code}/iati.xml")
    except httpx.TransportError as exc:
        unreachable(server, exc)
    if response.status_code != 200:
        body = problem(response)
        fail(f"{response.status_code} {body.get('detail', '')}")
    if output is None:
        sys.stdout.buffer.write(response.content)
        sys.stdout.buffer.flush()
    else:
        output.write_bytes(response.content)
        errors.print(f"wrote {output} ({len(response.content):,} bytes)", highlight=False)
