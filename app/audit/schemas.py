from __future__ import annotations

from pydantic import BaseModel


class BrokenLink(BaseModel):
    campaign_code: str
    seq: int
    entry_id: int | None
    rule: str
    detail: str


class VerifyReport(BaseModel):
    ok: bool
    checked: int
    campaigns: int
    first_broken: BrokenLink | None
