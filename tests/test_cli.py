"""Every `relief` command answers --help, with examples."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import typer
from typer.testing import CliRunner

from app.cli import app

ROOT = Path(__file__).resolve().parents[1]


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


def test_help_loads_no_database_layer_or_web_framework():
    # `relief --help` (and every command's help) is read on slow field laptops: the domain
    # CLIs import what they use inside their commands, never at the top.
    probe = (
        "import sys, app.cli; "
        "loaded = sorted(m for m in ('sqlalchemy', 'fastapi', 'app.models', 'app.db') "
        "if m in sys.modules); print(','.join(loaded))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.strip() == ""
