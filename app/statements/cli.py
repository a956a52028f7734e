"""`relief import-statement`: send a bank statement CSV to the service and show the report."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn
from rich.table import Table

from app.cli_common import ServerOption, TokenOption, client, errors, fail, problem, unreachable

CHUNK_BYTES = 256 * 1024

EPILOG = """
\b
Examples:
  relief import-statement sao-ke-vcb-10-2022.csv --campaign ky-son-flood-2022 \\
      --server http://127.0.0.1:8000 --token $RELIEF_TOKEN
  relief import-statement sao-ke.csv --campaign ky-son-flood-2022 --dry-run --json

A file with any bad line imports nothing: each bad line is printed and the exit
status is 1 (2 when the server cannot be reached).
"""


def _chunks(path: Path, progress: Progress, task: Any) -> Iterator[bytes]:
    with path.open("rb") as file:
        while chunk := file.read(CHUNK_BYTES):
            progress.update(task, advance=len(chunk))
            yield chunk


def _report_table(report: dict[str, Any]) -> Table:
    title = "Dry run: nothing was written" if report.get("dry_run") else "Statement imported"
    table = Table(title=title, show_header=True)
    table.add_column("rows", justify="right")
    table.add_column("count", justify="right")
    for name in ("rows", "imported", "matched", "unmatched", "duplicates", "skipped"):
        table.add_row(name, f"{report.get(name, 0):,}")
    return table


def import_statement(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, readable=True, help="The statement CSV (UTF-8)."
        ),
    ],
    campaign: Annotated[str, typer.Option("--campaign", help="The campaign code.")],
    server: ServerOption,
    token: TokenOption,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would be imported; write nothing.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the server's JSON answer as it is.")
    ] = False,
) -> None:
    """Import a bank statement CSV into a campaign, and print the report."""
    size = file.stat().st_size
    path = f"/v1/campaigns/{campaign}/statements"
    progress = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=errors,
        transient=True,
    )
    try:
        with client(server, token) as http, progress:
            task = progress.add_task(f"sending {file.name}", total=size)
            response = http.post(
                path,
                params={"dry_run": "true"} if dry_run else None,
                content=_chunks(file, progress, task),
                headers={"Content-Type": "text/csv", "Content-Length": str(size)},
            )
    except httpx.TransportError as exc:
        unreachable(server, exc)
    if as_json:
        print(response.text)
    if response.status_code != 200:
        body = problem(response)
        for bad in body.get("errors") or []:
            if isinstance(bad, dict) and "line" in bad:
                errors.print(f"line {bad['line']}: {bad.get('reason', '')}", highlight=False)
        fail(f"{response.status_code} {body.get('detail', '')}")
    if not as_json:
        Console().print(_report_table(response.json()))
