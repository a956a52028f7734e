"""The reconciliation JSON: DESIGN.md's auditor contract. All amounts are strings."""

from __future__ import annotations

from pydantic import BaseModel, Field


class CampaignHeader(BaseModel):
    code: str
    title: str
    currency: str
    status: str
    # Left out of the answer when there is none (the route excludes nulls): not required.
    target_amount: str | None = None


class CurrencyLine(BaseModel):
    currency: str
    amount: str
    settled_amount: str


class LocationLine(BaseModel):
    location_id: int
    location_name: str
    allocated: str
    delivered: str


class Money(BaseModel):
    pledged: str
    outstanding_pledges: str
    received: str
    unpledged_received: str
    allocated: str
    delivered: str
    available: str
    pledges_count: int
    contributions_count: int
    received_by_currency: list[CurrencyLine]
    by_location: list[LocationLine]


class GoodsLine(BaseModel):
    item_code: str
    item_name: str
    unit: str
    pledged: str
    received: str
    allocated: str
    delivered: str
    on_hand: str
    estimated_value: str = Field(
        description="Donors' estimate of the goods received, in the campaign's currency; "
        "never part of the money figures."
    )


class Check(BaseModel):
    name: str
    ok: bool
    detail: str


class LedgerState(BaseModel):
    entries: int
    head_hash: str


class ChildLedger(BaseModel):
    code: str
    entries: int
    head_hash: str


class Reconciliation(BaseModel):
    campaign: CampaignHeader
    as_of: str
    money: Money
    goods: list[GoodsLine]
    checks: list[Check]
    ledger: LedgerState
    children: list[ChildLedger] | None = Field(
        None,
        description="With include_children=true: the sub-campaigns added in, each with its "
        "own chain; `ledger` stays the parent's. Absent otherwise.",
    )
