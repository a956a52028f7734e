from __future__ import annotations

from pydantic import BaseModel


class BadLine(BaseModel):
    line: int
    reason: str


class StatementReport(BaseModel):
    """What an import did (or, with `dry_run`, would do): rows = imported + duplicates + skipped."""

    rows: int
    imported: int
    matched: int
    unmatched: int
    duplicates: int
    skipped: int
    errors: list[BadLine]
    dry_run: bool
