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


class PledgeLine(BaseModel):
    """Money pledges in one currency: never added to another currency's."""

    currency: str
    pledged: str
    fulfilled: str = Field(description="Received against these pledges, by original amount.")
    outstanding: str
    over_fulfilled: str


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
    pledges_by_currency: list[PledgeLine] = Field(
        description="Pledged, fulfilled and outstanding per pledge currency, the campaign's "
        "first; `pledged` and `outstanding_pledges` above are its currency's line only."
    )
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
    as_of: str = Field(description="Recording time: what the books said then.")
    until: str | None = Field(
        None,
        description="With ?until=: the business date (a Vietnamese day, inclusive) the figures "
        "are cut at. Absent otherwise.",
    )
    money: Money
    goods: list[GoodsLine]
    checks: list[Check]
    ledger: LedgerState
    children: list[ChildLedger] | None = Field(
        None,
        description="With include_children=true: the sub-campaigns added in, each with its "
        "own chain; `ledger` stays the parent's. Absent otherwise.",
    )
