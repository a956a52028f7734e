"""Every `relief` command answers --help, with examples."""

from __future__ import annotations

from typing import Any

import typer
from typer.testing import CliRunner

from app.cli import app


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for name, command in group.commands.items():
        if hasattr(command, "commands"):  # a group of commands
            found += _commands(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


def test_every_command_has_help_with_examples():
    commands = _commands(typer.main.get_command(app))
    assert {" ".join(c) for c in commands} >= {
        "demo",
        "import-statement",
        "export reconciliation",
        "keys create",
        "locations import",
        "checkpoint",
        "cosign",
        "signing-key create",
        "verify receipt",
        "verify consistency",
    }
    runner = CliRunner()
    for command in commands:
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0, (command, result.output)
        assert "Example" in result.output, command
