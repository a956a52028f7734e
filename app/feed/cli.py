"""`relief feed secret ACCOUNT_ID`: issue (or rotate) a receiving account's feed secret."""

from __future__ import annotations

from typing import Annotated

import httpx
import typer

from app.cli_common import ServerOption, TokenOption, client, errors, fail, problem, unreachable

app = typer.Typer(
    help="The live bank feed: the secrets banks sign their posts with.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

EPILOG = """
\b
Example:
  relief feed secret 7 --server http://127.0.0.1:8000 --token $RELIEF_TOKEN

Prints the new secret last, once: give it to the bank. Secrets it replaces stay
valid for 24 hours. Exit status 1 when the service refuses, 2 when it cannot be reached.
"""


@app.command("secret", epilog=EPILOG)
def secret(
    account_id: Annotated[int, typer.Argument(min=1, help="The receiving account's id.")],
    server: ServerOption,
    token: TokenOption,
) -> None:
    """Issue (or rotate) a receiving account's feed secret, and print it."""
    try:
        with client(server, token) as http:
            response = http.post(f"/v1/receiving-accounts/{account_id}/feed-secrets")
    except httpx.TransportError as exc:
        unreachable(server, exc)
    if response.status_code != 201:
        fail(f"{response.status_code} {problem(response).get('detail', '')}")
    issued = response.json()
    errors.print(
        f"Feed secret {issued['id']} of receiving account {account_id} (shown once; "
        "secrets it replaces stay valid for 24 hours):",
        highlight=False,
    )
    print(issued["secret"])
