"""The chart of accounts every campaign has, per asset (a currency, or `item:<code>` for goods).

| account                       | normal side | balance means                                        |
| ----------------------------- | ----------- | ---------------------------------------------------- |
| `cash`                        | debit       | money received and not allocated (available)         |
| `on_hand` (asset item:CODE)   | debit       | goods received and not allocated                     |
| `donations:pledged:{CUR}`     | credit      | money received against pledges, by original currency |
| `donations:unpledged:{CUR}`   | credit      | money received without a pledge, by original currency|
| `donations:{side}:in_kind`    | credit      | goods received (asset item:CODE), pledged or not     |
| `in_kind_value:{CODE}`        | debit       | estimated value of goods received (campaign currency)|
| `in_kind_value:{CODE}:offset` | credit      | its memo counterpart                                 |
| `originals:{CUR}` (asset CUR) | debit       | foreign-currency amounts as the donor sent them      |
| `originals:{CUR}:offset`      | credit      | its memo counterpart                                 |
| `pledges:commitments`         | credit      | pledged (pledges not cancelled), per asset           |
| `pledges:receivable`          | debit       | outstanding: the unfulfilled part of those pledges   |
| `pledges:fulfilled`           | debit       | received against those pledges                       |
| `pledges:excess`              | credit      | received beyond what was pledged (over-fulfilment)   |
| `allocated:{location}`        | debit       | allocated to a location, not yet delivered           |
| `delivered:{location}`        | debit       | delivered to a location                              |

So `received = −Σ donations`, `allocated = Σ allocated + Σ delivered`, and because every
entry balances per asset, `cash = received − allocated` (and `on_hand` likewise per item):
an allocation that would exceed what was received would take `cash` or `on_hand` below
zero, which the ledger refuses. Goods never share an asset with money, so they can never
leak into cash totals; their estimated value lives in memo accounts beside them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

CASH = "cash"
ON_HAND = "on_hand"
IN_KIND = "in_kind"
IN_KIND_VALUE_PREFIX = "in_kind_value:"
GOODS_ASSET_PREFIX = "item:"
PLEDGE_COMMITMENTS = "pledges:commitments"
PLEDGE_RECEIVABLE = "pledges:receivable"
PLEDGE_FULFILLED = "pledges:fulfilled"
PLEDGE_EXCESS = "pledges:excess"
DONATIONS_PREFIX = "donations:"
ORIGINALS_PREFIX = "originals:"
ALLOCATED_PREFIX = "allocated:"
DELIVERED_PREFIX = "delivered:"


@dataclass(frozen=True)
class AccountKey:
    code: str
    asset: str
    location_id: int | None = None
    must_not_go_negative: bool = False
    # Keys are looked up a dozen times per entry: hash the fields once (the generated
    # `__hash__` would build and hash their tuple on every lookup).
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        fields = (self.code, self.asset, self.location_id, self.must_not_go_negative)
        object.__setattr__(self, "_hash", hash(fields))

    def __hash__(self) -> int:
        return self._hash


@dataclass(frozen=True)
class Posting:
    """Debit positive, credit negative."""

    account: AccountKey
    amount: Decimal


# Account keys are immutable values: the few a campaign posts to are made once and shared
# (a statement import posts to the same five, 100,000 times).
_shared = lru_cache(maxsize=1024)


def is_goods(asset: str) -> bool:
    return asset.startswith(GOODS_ASSET_PREFIX)


@_shared
def cash(asset: str) -> AccountKey:
    return AccountKey(CASH, asset, must_not_go_negative=True)


@_shared
def on_hand(asset: str) -> AccountKey:
    return AccountKey(ON_HAND, asset, must_not_go_negative=True)


def available(asset: str) -> AccountKey:
    """What is received and not yet allocated: `cash` for money, `on_hand` for goods."""
    return on_hand(asset) if is_goods(asset) else cash(asset)


@_shared
def donations(asset: str, *, pledged: bool, original_currency: str) -> AccountKey:
    side = "pledged" if pledged else "unpledged"
    return AccountKey(f"{DONATIONS_PREFIX}{side}:{original_currency}", asset)


def goods_donations(asset: str, *, pledged: bool) -> AccountKey:
    return donations(asset, pledged=pledged, original_currency=IN_KIND)


def in_kind_value(item_code: str, currency: str) -> tuple[AccountKey, AccountKey]:
    """The memo pair that records goods' estimated value without touching `cash`."""
    return (
        AccountKey(f"{IN_KIND_VALUE_PREFIX}{item_code}", currency),
        AccountKey(f"{IN_KIND_VALUE_PREFIX}{item_code}:offset", currency),
    )


@_shared
def originals(currency: str) -> tuple[AccountKey, AccountKey]:
    return (
        AccountKey(f"{ORIGINALS_PREFIX}{currency}", currency),
        AccountKey(f"{ORIGINALS_PREFIX}{currency}:offset", currency),
    )


@_shared
def pledge_account(code: str, asset: str) -> AccountKey:
    return AccountKey(code, asset)


def allocated(asset: str, location_id: int) -> AccountKey:
    return AccountKey(f"{ALLOCATED_PREFIX}{location_id}", asset, location_id=location_id)


def delivered(asset: str, location_id: int) -> AccountKey:
    return AccountKey(f"{DELIVERED_PREFIX}{location_id}", asset, location_id=location_id)


def debit(account: AccountKey, amount: Decimal) -> Posting:
    return Posting(account, amount)


def credit(account: AccountKey, amount: Decimal) -> Posting:
    return Posting(account, -amount)


def negated(postings: list[Posting]) -> list[Posting]:
    """The postings that undo `postings` (a reversing entry)."""
    return [Posting(p.account, -p.amount) for p in postings]
