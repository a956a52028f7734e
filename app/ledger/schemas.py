from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from app.money import DecimalString


class PostingOut(BaseModel):
    account: str
    asset: str
    location_id: int | None
    amount: DecimalString
    balance_after: DecimalString


class EntryOut(BaseModel):
    """One ledger entry as an auditor recomputes it (see docs/auditors.md, "Verifying the chain yourself")."""

    campaign_id: int
    seq: int
    kind: str
    recorded_at: str
    detail: dict[str, Any]
    detail_json: str
    pledges_count: int
    contributions_count: int
    prev_hash: str
    hash: str
    postings: list[PostingOut]
