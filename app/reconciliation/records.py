"""Do the records say what the chain hashed? Rows against entries, chain head against audit log.

The hash chain proves the entries were not edited, but the contribution, pledge and
allocation rows beside it are ordinary rows: `UPDATE contributions SET amount = …` or a
swapped `donor_id` touches no entry. So `verify=full` and `/v1/audit/verify` compare every
row with the detail of the entry that recorded it (and with the entries that changed its
status), and the chain's head with the audit log's last event for the campaign: a chain
cut short (entries deleted, head and balances rewound) still leaves the audit log naming
a record the chain no longer has.

Everything is read in one streaming query per table; the entries' details come from the
replay that `verify_campaign` does anyway, so the cost stays one pass over the campaign.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.allocations.models import Allocation
from app.audit.models import AuditEvent, campaign_chain
from app.audit.schemas import BrokenLink
from app.campaigns.models import Campaign
from app.contributions.models import Contribution, ContributionReversal
from app.items.models import Item
from app.ledger.verify import Verification
from app.money import canonical
from app.pledges.models import Pledge

# Rows per round trip while streaming a table.
_BATCH = 5_000


@dataclass(frozen=True)
class Mismatch:
    """The first record that disagrees with the chain: which row, which field, both values."""

    table: str
    id: int
    field: str
    expected: str | None
    found: str | None

    @property
    def detail(self) -> str:
        return (
            f"{self.table} {self.id}: {self.field} is {self.found!r} in the row, "
            f"{self.expected!r} in the chain"
        )


def _text(value: Any) -> str | None:
    """A value as the chain writes it: amounts canonical, dates ISO, ids as text."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return canonical(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


class _Unreadable(Exception):
    """An entry whose detail names no record (or is not JSON): itself the first mismatch."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class _Details:
    """The replayed entries' details, parsed once per kind, by the record id they name
    (the rows' check and the audit log's check both read them)."""

    def __init__(self, texts: Mapping[str, list[str]]) -> None:
        self._texts = texts
        self._parsed: dict[tuple[str, str], dict[int, dict[str, Any]]] = {}

    def by_id(self, kind: str, key: str) -> dict[int, dict[str, Any]]:
        """Don't change what this returns: it is shared."""
        parsed = self._parsed.get((kind, key))
        if parsed is None:
            parsed = self._parsed[(kind, key)] = _by_id(self._texts.get(kind, ()), key)
        return parsed


def _by_id(texts: Iterable[str], key: str) -> dict[int, dict[str, Any]]:
    details: dict[int, dict[str, Any]] = {}
    loads = json.loads
    for text in texts:
        try:
            detail = loads(text)
            record_id = detail[key]
        except (ValueError, KeyError, TypeError) as exc:
            raise _Unreadable(key) from exc
        if not isinstance(record_id, int):
            raise _Unreadable(key)
        details[record_id] = detail
    return details


# How the chain writes the fields that are not plain ids or text: read back for comparing.
_AMOUNTS = frozenset({"amount", "settled_amount", "quantity", "estimated_value"})
_DATES = frozenset({"received_on", "allocated_on", "delivered_on"})


def _read(name: str, value: Any) -> Any:
    """A detail's value as the row holds it (amounts as Decimal, dates as date)."""
    if value is None:
        return None
    if name in _AMOUNTS:
        return Decimal(value)
    if name in _DATES:
        return date.fromisoformat(value)
    return value


def _compare(
    table: str,
    names: tuple[str, ...],
    rows: Iterable[tuple[Any, ...]],
    expected_of: Callable[[int], tuple[Any, ...] | None],
    recorded: Mapping[int, dict[str, Any]],
) -> Mismatch | None:
    """Each row (its id, then the values of `names`) against what the chain says of it
    (`expected_of`: the detail's values of `names`, as the chain writes them); then the
    entries no row is left for. Names the first field that differs, in `names` order."""
    amounts = [i for i, name in enumerate(names) if name in _AMOUNTS]
    dates = [i for i, name in enumerate(names) if name in _DATES]
    fromisoformat = date.fromisoformat
    seen: set[int] = set()
    for row_id, *found in rows:
        raw = expected_of(row_id) if row_id not in seen else None  # one row per entry
        if raw is None:
            return Mismatch(table, row_id, "entry", "no entry", "a row")
        seen.add(row_id)
        expected = list(raw)
        for i in amounts:
            if expected[i] is not None:
                expected[i] = Decimal(expected[i])
        for i in dates:
            if type(expected[i]) is str:
                expected[i] = fromisoformat(expected[i])
        if found != expected:  # rare: work out which field, and say it as the chain does
            for name, value, held in zip(names, raw, found, strict=True):
                if held is not value and held != _read(name, value):
                    return Mismatch(table, row_id, name, _text(value), _text(held))
    missing = [record_id for record_id in recorded if record_id not in seen]
    if missing:
        return Mismatch(table, min(missing), "row", "a row", "no row")
    return None


def _stream(session: Session, stmt: Any) -> Iterator[tuple[Any, ...]]:
    """The statement's rows as plain tuples, streamed (Core rows: no ORM result layer)."""
    return iter(session.connection().execute(stmt.execution_options(yield_per=_BATCH)))


def _contributions(
    session: Session, campaign_id: int, currency: str, details: _Details
) -> Mismatch | None:
    recorded = details.by_id("contribution_recorded", "contribution_id")
    reversed_ids = details.by_id("contribution_reversed", "contribution_id")
    names = (
        "donor_id",
        "pledge_id",
        "received_on",
        "item_code",
        "quantity",
        "estimated_value",
        "amount",
        "currency",
        "settled_amount",
        "status",
    )
    stmt = (
        select(
            Contribution.id,
            Contribution.donor_id,
            Contribution.pledge_id,
            Contribution.received_on,
            Item.code.label("item_code"),
            Contribution.quantity,
            Contribution.estimated_value,
            Contribution.amount,
            Contribution.currency,
            Contribution.settled_amount,
            ContributionReversal.id.label("reversal_id"),
        )
        .outerjoin(Item, Item.id == Contribution.item_id)
        .outerjoin(ContributionReversal, ContributionReversal.contribution_id == Contribution.id)
        .where(Contribution.campaign_id == campaign_id)
        .order_by(Contribution.id)
    )

    def expected_of(row_id: int) -> tuple[Any, ...] | None:
        detail = recorded.get(row_id)
        if detail is None:
            return None
        status = "reversed" if row_id in reversed_ids else "recorded"
        if "item_code" in detail:  # goods
            return (
                detail["donor_id"],
                detail["pledge_id"],
                detail["received_on"],
                detail["item_code"],
                detail.get("quantity"),
                detail.get("estimated_value"),
                None,
                None,
                None,
                status,
            )
        return (
            detail["donor_id"],
            detail["pledge_id"],
            detail["received_on"],
            None,
            detail.get("quantity"),
            detail.get("estimated_value"),
            detail["amount"],
            detail["currency"],
            detail["settled_amount"],
            status,
        )

    rows = (
        (*row[:-1], "reversed" if row[-1] is not None else "recorded")
        for row in _stream(session, stmt)
    )
    return _compare("contributions", names, rows, expected_of, recorded)


def _pledges(
    session: Session, campaign_id: int, currency: str, details: _Details
) -> Mismatch | None:
    recorded = details.by_id("pledge_recorded", "pledge_id")
    cancelled = details.by_id("pledge_cancelled", "pledge_id")
    names = ("donor_id", "reference", "item_code", "quantity", "amount", "currency", "status")
    stmt = (
        select(
            Pledge.id,
            Pledge.donor_id,
            Pledge.reference,
            Item.code.label("item_code"),
            Pledge.quantity,
            Pledge.amount,
            Pledge.currency,
            Pledge.cancelled_at,
        )
        .outerjoin(Item, Item.id == Pledge.item_id)
        .where(Pledge.campaign_id == campaign_id)
        .order_by(Pledge.id)
    )

    def expected_of(row_id: int) -> tuple[Any, ...] | None:
        detail = recorded.get(row_id)
        if detail is None:
            return None
        goods = "item_code" in detail
        return (
            detail["donor_id"],
            detail["reference"],
            detail.get("item_code"),
            detail.get("quantity"),
            None if goods else detail["amount"],
            # Entries written before pledges had their own currency were in the campaign's.
            None if goods else detail.get("currency", currency),
            "cancelled" if row_id in cancelled else "not cancelled",
        )

    rows = (
        (*row[:-1], "cancelled" if row[-1] is not None else "not cancelled")
        for row in _stream(session, stmt)
    )
    return _compare("pledges", names, rows, expected_of, recorded)


def _allocations(
    session: Session, campaign_id: int, currency: str, details: _Details
) -> Mismatch | None:
    recorded = details.by_id("allocation_recorded", "allocation_id")
    delivered = details.by_id("allocation_delivered", "allocation_id")
    cancelled = details.by_id("allocation_cancelled", "allocation_id")
    names = (
        "location_id",
        "item_code",
        "quantity",
        "amount",
        "currency",
        "status",
        "delivered_on",
        "allocated_on",
    )
    stmt = (
        select(
            Allocation.id,
            Allocation.location_id,
            Item.code.label("item_code"),
            Allocation.quantity,
            Allocation.amount,
            Allocation.currency,
            Allocation.status,
            Allocation.delivered_on,
            Allocation.allocated_on,
        )
        .outerjoin(Item, Item.id == Allocation.item_id)
        .where(Allocation.campaign_id == campaign_id)
        .order_by(Allocation.id)
    )
    # Entries written before allocations had a date lack it: their rows' date is not checked.
    undated = object()

    def expected_of(row_id: int) -> tuple[Any, ...] | None:
        detail = recorded.get(row_id)
        if detail is None:
            return None
        goods = "item_code" in detail
        status = (
            "delivered"
            if row_id in delivered
            else "cancelled"
            if row_id in cancelled
            else "allocated"
        )
        return (
            detail["location_id"],
            detail.get("item_code"),
            detail.get("quantity"),
            None if goods else detail["amount"],
            None if goods else currency,
            status,
            delivered[row_id]["delivered_on"] if row_id in delivered else None,
            detail.get("allocated_on", undated),
        )

    def rows() -> Iterator[tuple[Any, ...]]:
        for row in _stream(session, stmt):
            allocated_on = row[-1]
            if recorded.get(row[0], {}).get("allocated_on", undated) is undated:
                allocated_on = undated
            yield (*row[:6], str(row[6]), row[7], allocated_on)

    return _compare("allocations", names, rows(), expected_of, recorded)


def records_mismatch(
    session: Session,
    campaign_id: int,
    currency: str,
    verification: Verification,
    details: _Details | None = None,
) -> Mismatch | None:
    """The first contribution, pledge or allocation row of the campaign that disagrees with
    the entries `verification` replayed (made with `keep_details=True`), if any."""
    details = details or _Details(verification.details)
    try:
        for check in (_contributions, _pledges, _allocations):
            mismatch = check(session, campaign_id, currency, details)
            if mismatch is not None:
                return mismatch
    except _Unreadable as unreadable:
        return Mismatch("ledger_entries", 0, unreadable.key, "a record id", "none")
    return None


# The audit log's events that come with a ledger entry: (table, action, changed column) →
# the entry's kind and the detail field naming the record. None: any change.
_ENTRY_OF_EVENT: dict[tuple[str, str, str | None], tuple[str, str]] = {
    ("contributions", "created", None): ("contribution_recorded", "contribution_id"),
    ("contribution_reversals", "created", None): ("contribution_reversed", "reversal_id"),
    ("pledges", "created", None): ("pledge_recorded", "pledge_id"),
    ("pledges", "updated", "cancelled_at"): ("pledge_cancelled", "pledge_id"),
    ("allocations", "created", None): ("allocation_recorded", "allocation_id"),
    ("allocations", "updated", "delivered_at"): ("allocation_delivered", "allocation_id"),
    ("allocations", "updated", "cancelled_at"): ("allocation_cancelled", "allocation_id"),
}
_AUDITED_TABLES = sorted({table for table, _, _ in _ENTRY_OF_EVENT})


def _entry_of(event: AuditEvent) -> tuple[str, str] | None:
    if event.action == "created":
        return _ENTRY_OF_EVENT.get((event.entity_type, "created", None))
    changed = json.loads(event.changes)
    for (table, action, column), entry in _ENTRY_OF_EVENT.items():
        if (table, action) == (event.entity_type, event.action) and column in changed:
            return entry
    return None


def head_mismatch(
    session: Session,
    campaign_id: int,
    verification: Verification,
    details: _Details | None = None,
) -> Mismatch | None:
    """The audit log's last event for the campaign that came with a ledger entry must find
    that entry in the chain (made with `keep_details=True`): else the chain was cut short."""
    details = details or _Details(verification.details)
    events = session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.chain == campaign_chain(campaign_id),
            AuditEvent.entity_type.in_(_AUDITED_TABLES),
        )
        .order_by(AuditEvent.seq.desc())
        .execution_options(yield_per=100)
    )
    for event in events:
        entry = _entry_of(event)
        if entry is None:
            continue  # a pledge's fulfilled amount moving: its entry is the contribution's
        kind, key = entry
        try:
            ids: Mapping[int, Any] = details.by_id(kind, key)
        except _Unreadable:
            ids = {}
        if event.entity_id in ids:
            return None
        return Mismatch(
            "ledger_heads",
            campaign_id,
            "last_entry",
            f"{kind} of {event.entity_type} {event.entity_id} (audit event {event.seq})",
            "no such entry in the chain",
        )
    return None


def first_mismatch(
    session: Session, campaign: Campaign, verification: Verification
) -> Mismatch | None:
    """Rows against entries, then the chain's head against the audit log."""
    details = _Details(verification.details)  # parsed once for both
    return records_mismatch(
        session, campaign.id, campaign.currency, verification, details
    ) or head_mismatch(session, campaign.id, verification, details)


def broken_link(
    session: Session, campaign: Campaign, verification: Verification
) -> BrokenLink | None:
    """`first_mismatch` as `/v1/audit/verify` names it (a `RecordsCheck`)."""
    mismatch = first_mismatch(session, campaign, verification)
    if mismatch is None:
        return None
    return BrokenLink(
        log="records",
        chain=campaign_chain(campaign.id),
        campaign_code=campaign.code,
        seq=verification.entries,
        entry_id=None,
        rule="head_matches_audit_log"
        if mismatch.table == "ledger_heads"
        else "record_matches_entry",
        detail=mismatch.detail,
        table=mismatch.table,
        record_id=mismatch.id,
        field=mismatch.field,
        expected=mismatch.expected,
        found=mismatch.found,
    )
