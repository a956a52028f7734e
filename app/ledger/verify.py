"""Full recomputation for auditors: replays a campaign's entries from the first one.

Checks invariants 5 and 6 of DESIGN.md: kept balances equal the balances recomputed
from entries, and the hash chain verifies. Its cost grows with the number of entries,
which is why reconciliation runs it only when asked (`?verify=full`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Dialect, Numeric, String, select, type_coerce
from sqlalchemy.orm import Session

from app.ledger.chain import GENESIS_HASH, entry_hash_of_texts, rfc3339
from app.ledger.models import LedgerAccount, LedgerEntry, LedgerHead, LedgerPosting
from app.money import canonical

ZERO = Decimal(0)
# Rows per round trip while streaming.
_BATCH = 10_000


@dataclass
class Broken:
    campaign_id: int
    seq: int
    entry_id: int | None
    rule: str
    detail: str


@dataclass
class Verification:
    entries: int = 0
    chain_ok: bool = True
    balances_ok: bool = True
    problems: list[Broken] = field(default_factory=list)
    recomputed: dict[int, Decimal] = field(default_factory=dict)
    # With `keep_details`: every entry's detail text (canonical JSON), by kind, in chain order.
    details: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    @property
    def first_broken(self) -> Broken | None:
        return self.problems[0] if self.problems else None


def _as_stored(column: Any, dialect: Dialect) -> ColumnElement[Any]:
    """An amount column as the driver hands it back (text on SQLite, Decimal on PostgreSQL),
    without `app.db.Amount`'s per-value conversion: the replay makes the Decimal itself."""
    return type_coerce(column, String() if dialect.name == "sqlite" else Numeric(asdecimal=True))


def verify_campaign(
    session: Session, campaign_id: int, *, up_to_seq: int | None = None, keep_details: bool = False
) -> Verification:
    """Replay the campaign's chain (up to `up_to_seq`, or all of it) and compare; with
    `keep_details`, also hand back each entry's detail so the records can be compared
    with what the chain hashed (`app.reconciliation.records`)."""
    result = Verification()
    accounts = {
        a.id: a
        for a in session.scalars(
            select(LedgerAccount).where(LedgerAccount.campaign_id == campaign_id)
        )
    }
    # Plain tuples, not ORM objects or rows: building an object per entry and posting was
    # most of the replay's cost. Postings are grouped by entry up front (one query),
    # entries stream (a server-side cursor on PostgreSQL).
    core = session.connection()
    posting_stmt = (
        select(
            LedgerPosting.entry_id,
            LedgerPosting.id,
            LedgerPosting.account_id,
            _as_stored(LedgerPosting.amount, core.dialect),
            _as_stored(LedgerPosting.balance_after, core.dialect),
        )
        .join(LedgerAccount, LedgerAccount.id == LedgerPosting.account_id)
        .where(LedgerAccount.campaign_id == campaign_id)
        .order_by(LedgerPosting.seq, LedgerPosting.id)
    )
    entry_stmt = (
        select(
            LedgerEntry.id,
            LedgerEntry.seq,
            LedgerEntry.kind,
            LedgerEntry.recorded_at,
            LedgerEntry.detail,
            LedgerEntry.pledges_count,
            LedgerEntry.contributions_count,
            LedgerEntry.prev_hash,
            LedgerEntry.hash,
        )
        .where(LedgerEntry.campaign_id == campaign_id)
        .order_by(LedgerEntry.seq)
    )
    if up_to_seq is not None:
        posting_stmt = posting_stmt.where(LedgerPosting.seq <= up_to_seq)
        entry_stmt = entry_stmt.where(LedgerEntry.seq <= up_to_seq)
    # Core rows on the session's connection (same transaction): the ORM's result layer
    # costs more than the replay itself when all it hands back is columns.
    postings_by_entry: dict[int, list[tuple[int, int, Decimal, Decimal]]] = defaultdict(list)
    for entry_id, posting_id, account_id, amount, after in core.execute(
        posting_stmt.execution_options(yield_per=_BATCH)
    ):
        postings_by_entry[entry_id].append(
            (
                posting_id,
                account_id,
                amount if type(amount) is Decimal else Decimal(amount),
                after if type(after) is Decimal else Decimal(after),
            )
        )
    keys = {a.id: (a.code, a.asset) for a in accounts.values()}
    # Each amount's canonical text, computed once per distinct amount (equal amounts have
    # one canonical text, so keying by value is exact).
    texts: dict[Decimal, str] = {}
    details = result.details

    def broken(entry_id: int | None, seq: int, rule: str, detail: str) -> None:
        result.problems.append(Broken(campaign_id, seq, entry_id, rule, detail))

    running: dict[int, Decimal] = {}
    prev_hash, expected_seq, count = GENESIS_HASH, 1, 0
    no_postings: list[tuple[int, int, Decimal, Decimal]] = []
    rows = core.execute(entry_stmt.execution_options(yield_per=_BATCH))
    for entry_id, seq, kind, recorded_at, detail, pledges, contributions, prev, digest in rows:
        count += 1
        postings = postings_by_entry.pop(entry_id, no_postings)
        if keep_details:
            details[kind].append(detail)
        if seq != expected_seq:
            result.chain_ok = False
            broken(entry_id, seq, "chain_sequence", f"expected entry {expected_seq}, found {seq}")
        if prev != prev_hash:
            result.chain_ok = False
            broken(
                entry_id, seq, "chain_link", "prev_hash does not match the previous entry's hash"
            )
        # One pass over the postings: their hashed triples, per-asset sums, running balances.
        hashed = []
        per_asset: dict[str, Decimal] = {}
        wrong_balance = []
        for posting_id, account_id, amount, balance_after in postings:
            code, asset = keys[account_id]
            text = texts.get(amount)
            if text is None:
                text = texts[amount] = canonical(amount)
            hashed.append((code, asset, text))
            per_asset[asset] = per_asset.get(asset, ZERO) + amount
            balance = running[account_id] = running.get(account_id, ZERO) + amount
            if balance_after != balance:
                wrong_balance.append(posting_id)
        recomputed = entry_hash_of_texts(
            campaign_id=campaign_id,
            seq=seq,
            kind=kind,
            recorded_at=rfc3339(recorded_at),
            detail=detail,
            postings=hashed,
            pledges_count=pledges,
            contributions_count=contributions,
            prev_hash=prev,
        )
        if recomputed != digest:
            result.chain_ok = False
            broken(entry_id, seq, "entry_hash", "the entry's content does not match its hash")
        off = {a: total for a, total in per_asset.items() if total != 0}
        if off:
            result.balances_ok = False
            broken(entry_id, seq, "entry_balances", f"postings do not sum to zero: {off}")
        for posting_id in wrong_balance:
            result.balances_ok = False
            broken(
                entry_id,
                seq,
                "posting_balance_after",
                f"posting {posting_id} records a wrong running balance",
            )
        prev_hash, expected_seq = digest, seq + 1
    result.entries = count
    for entry_id in postings_by_entry:
        result.balances_ok = False
        broken(
            None,
            0,
            "orphan_posting",
            f"postings point at entry {entry_id}, which is not in the chain",
        )
    result.recomputed = dict(running)

    if up_to_seq is None:
        for account in accounts.values():
            if account.balance != running.get(account.id, Decimal(0)):
                result.balances_ok = False
                broken(
                    None,
                    expected_seq - 1,
                    "kept_balance",
                    f"account {account.code} ({account.asset}) keeps {account.balance}, entries give {running.get(account.id, 0)}",
                )
        head = session.get(LedgerHead, campaign_id)
        if head is not None and (head.seq != expected_seq - 1 or head.head_hash != prev_hash):
            result.chain_ok = False
            broken(None, head.seq, "chain_head", "the kept chain head is not the last entry")
    result.problems.sort(key=lambda b: b.seq)
    return result
