"""`relief keys …`: make the first admin key, and others, straight in the database.

Only Typer is imported up front: `relief --help` must not load the database layer.
"""

from __future__ import annotations

from typing import Annotated

import typer

from app.keys.roles import Role

app = typer.Typer(help="API keys: create them, and find out whether an admin key exists.")


@app.command(
    epilog="\b\nExamples:\n"
    "  relief keys create --role admin --name 'Nguyễn Văn An'\n"
    "  relief keys create --role officer --unit ky-son --name 'MTTQ huyện Kỳ Sơn'\n"
    "  relief keys create --role auditor --name 'Kiểm toán Nhà nước'\n"
    '  AUTH="Authorization: Bearer $(relief keys create --role admin --name me)"'
)
def create(
    role: Annotated[Role, typer.Option(help="admin, officer or auditor.")],
    name: Annotated[str, typer.Option(help="Who holds the key, for people reading the list.")],
    unit: Annotated[str | None, typer.Option(help="The officer's unit code.")] = None,
) -> None:
    """Create an API key and print it last (it is shown only once)."""
    from pydantic import ValidationError
    from rich.console import Console

    from app import models  # noqa: F401 - every table, so foreign keys resolve
    from app.config import get_settings
    from app.db import Database
    from app.errors import DomainError
    from app.keys import scope, service
    from app.keys.schemas import ApiKeyCreate
    from app.keys.scope import Principal

    err = Console(stderr=True)
    database = Database(get_settings().database_url)
    try:
        body = ApiKeyCreate(role=role, unit_code=unit, name=name)
        # Audited like any write: the actor is the command, not a key.
        with scope.acting_as(database, Principal.system("relief keys create")) as session:
            key, token = service.issue(session, key_in=body)
    except ValidationError as exc:
        err.print(f"[red]invalid:[/red] {exc}")
        raise typer.Exit(2) from exc
    except DomainError as exc:
        err.print(f"[red]{exc.code}:[/red] {exc.detail}")
        raise typer.Exit(1) from exc
    finally:
        database.dispose()
    err.print(f"Created key {key.id} ({key.role}{f', unit {unit}' if unit else ''}): {key.name}")
    err.print("Keep it safe: it is shown only this once.")
    typer.echo(token)


@app.command(epilog="\b\nExample:\n  relief keys hint")
def hint() -> None:
    """Say how to make the first admin key, if there is none yet."""
    from app import models  # noqa: F401 - every table, so foreign keys resolve
    from app.config import get_settings
    from app.db import Database
    from app.keys import service

    database = Database(get_settings().database_url)
    try:
        with database.session(read_only=True) as session:
            if not service.any_admin(session):
                typer.echo(service.FIRST_KEY_HINT, err=True)
    finally:
        database.dispose()
