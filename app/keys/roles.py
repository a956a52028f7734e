"""The roles a key can have (a module of its own so the command line can name them
without loading the database layer)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    admin = "admin"
    officer = "officer"
    auditor = "auditor"
