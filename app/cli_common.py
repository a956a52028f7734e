"""What every `relief` command that talks to a server shares: options, client, errors."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import httpx
import typer
from rich.console import Console

ServerOption = Annotated[
    str,
    typer.Option(
        "--server",
        envvar="RELIEF_SERVER",
        help="Base URL of the service, e.g. http://127.0.0.1:8000",
    ),
]
TokenOption = Annotated[
    str,
    typer.Option(
        "--token", envvar="RELIEF_TOKEN", help="API key, sent as `Authorization: Bearer KEY`."
    ),
]

errors = Console(stderr=True)
# Connecting should be quick; a 100,000-row statement may take a while to answer.
TIMEOUT = httpx.Timeout(600.0, connect=10.0)


def client(server: str, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=server.rstrip("/"),
        headers={"Authorization": f"Bearer {token}"},
        timeout=TIMEOUT,
    )


def fail(message: str, code: int = 1) -> NoReturn:
    errors.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def unreachable(server: str, exc: httpx.TransportError) -> NoReturn:
    fail(f"could not reach {server}: {exc or type(exc).__name__}", code=2)


def problem(response: httpx.Response) -> dict[str, Any]:
    """The problem+json body of an error answer, or what we can say without one."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        return body
    return {"status": response.status_code, "detail": response.text[:500] or response.reason_phrase}


def download(
    server: str, token: str, path: str, output: Path | None, params: dict[str, str] | None = None
) -> None:
    """GET `path` and write the body byte for byte to `output` (stdout when None); any
    answer but 200 fails with its problem's detail."""
    try:
        with client(server, token) as http:
            response = http.get(path, params=params or None)
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
