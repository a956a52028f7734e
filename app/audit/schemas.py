from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class BrokenLink(BaseModel):
    """The first link that does not verify: in a campaign's ledger chain, an audit chain, or
    a record (`log` `records`) that disagrees with the entry that recorded it."""

    log: Literal["ledger", "audit", "records"]
    chain: str
    campaign_code: str | None
    seq: int
    entry_id: int | None
    rule: str
    detail: str
    table: str | None = Field(None, description="`records` only: the table of the row …")
    record_id: int | None = Field(None, description="… its id …")
    field: str | None = Field(None, description="… the field that differs …")
    expected: str | None = Field(None, description="… what the hashed entry says …")
    found: str | None = Field(None, description="… and what the row (or chain) holds.")


class VerifyReport(BaseModel):
    ok: bool
    checked: int
    campaigns: int
    ledger_entries: int
    audit_events: int
    first_broken: BrokenLink | None


class AuditEvent(BaseModel):
    model_config = {"from_attributes": True}

    id: int
    chain: str
    seq: int
    campaign_code: str | None
    actor_key_id: int | None
    actor_role: str | None
    actor_unit_id: int | None
    request_id: str | None
    method: str | None
    path: str | None
    entity_type: str
    entity_id: int
    action: str
    changes: dict[str, Any]
    recorded_at: datetime
    prev_hash: str
    hash: str
