"""The only code that writes ledger entries.

`lock` serialises writers of one campaign (on PostgreSQL a transaction-level advisory lock
queued in arrival order, then the head's row lock; SQLite's BEGIN IMMEDIATE already holds
the database write lock). `post_entry` then appends one
balanced, hash-chained entry and updates the kept balances in the same transaction;
`post_entries` appends many at once (a bank statement's thousands of rows) with the same
result, entry for entry.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, tuple_
from sqlalchemy.orm import Session

from app import metrics
from app.db import bulk_insert, reserve_ids, utcnow
from app.errors import Conflict
from app.ledger.accounts import AccountKey, Posting
from app.ledger.chain import GENESIS_HASH, canonical_json, entry_hash_of_texts, rfc3339
from app.ledger.models import LedgerAccount, LedgerEntry, LedgerHead, LedgerPosting
from app.money import canonical


class UnbalancedEntry(RuntimeError):
    """A programming error: code tried to post an entry whose postings do not sum to zero."""


def open_books(session: Session, campaign_id: int) -> LedgerHead:
    """Create the chain head of a new campaign."""
    head = LedgerHead(
        campaign_id=campaign_id,
        seq=0,
        head_hash=GENESIS_HASH,
        pledges_count=0,
        contributions_count=0,
    )
    session.add(head)
    session.flush()
    return head


@dataclass
class _Held:
    """A campaign whose lock this transaction holds: nobody else can change its head or accounts
    until we commit, so both are read once per transaction instead of once per entry."""

    head: LedgerHead
    accounts: dict[tuple[str, str], LedgerAccount | None] = field(default_factory=dict)


def _held_locks(session: Session) -> dict[int, _Held]:
    # Keyed by the transaction (and savepoint) in force: a new one starts with nothing held.
    scope = (session.get_transaction(), session.get_nested_transaction())
    cached = session.info.get("ledger_locks")
    if cached is None or cached[0] != scope:
        cached = (scope, {})
        session.info["ledger_locks"] = cached
    held: dict[int, _Held] = cached[1]
    return held


# The advisory lock space of campaign ledgers (`lock`): pg_advisory_xact_lock(class, campaign id).
_LEDGER_LOCKS = 0x524C  # "RL"


def lock(session: Session, campaign_id: int) -> LedgerHead:
    """Take the campaign's write lock (held to commit) and return its chain head, freshly read."""
    held = _held_locks(session).get(campaign_id)
    if held is not None:
        return held.head
    if session.get_bind().dialect.name == "postgresql":
        # Queue first on an advisory lock: PostgreSQL grants it in arrival order. Waiting
        # on the head row alone is not fair: every holder updates the row, so waiters queue
        # on different versions of it and race when the holder commits, and at 16 writers
        # on one campaign a few waited seconds while most waited tens of milliseconds
        # (bench/write_path.py: p99 1.7 s, p50 87 ms). The row lock below is then free.
        session.execute(select(func.pg_advisory_xact_lock(_LEDGER_LOCKS, campaign_id)))
    stmt = (
        select(LedgerHead)
        .where(LedgerHead.campaign_id == campaign_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    head = session.scalars(stmt).one()
    # The SELECT may have begun the transaction: register under the scope now in force.
    _held_locks(session)[campaign_id] = _Held(head)
    return head


def clock(head: LedgerHead) -> datetime:
    """The recording time of the next entry: now, but never before the chain's last entry.

    Services stamp their own records with it so records and entries agree on `as_of`.
    """
    now = utcnow()
    return max(now, head.recorded_at) if head.recorded_at else now


def balance(session: Session, campaign_id: int, key: AccountKey) -> Decimal:
    account = _find_account(session, campaign_id, key)
    return account.balance if account else Decimal(0)


def _find_account(session: Session, campaign_id: int, key: AccountKey) -> LedgerAccount | None:
    held = _held_locks(session).get(campaign_id)
    if held is not None and (key.code, key.asset) in held.accounts:
        return held.accounts[(key.code, key.asset)]
    stmt = select(LedgerAccount).where(
        LedgerAccount.campaign_id == campaign_id,
        LedgerAccount.code == key.code,
        LedgerAccount.asset == key.asset,
    )
    account = session.scalars(stmt).one_or_none()
    if held is not None:
        held.accounts[(key.code, key.asset)] = account
    return account


def _account(session: Session, campaign_id: int, key: AccountKey) -> LedgerAccount:
    account = _find_account(session, campaign_id, key)
    if account is None:
        account = LedgerAccount(
            campaign_id=campaign_id,
            code=key.code,
            asset=key.asset,
            location_id=key.location_id,
            must_not_go_negative=key.must_not_go_negative,
            balance=Decimal(0),
        )
        session.add(account)
        session.flush()
        held = _held_locks(session).get(campaign_id)
        if held is not None:
            held.accounts[(key.code, key.asset)] = account
    return account


def _accounts(
    session: Session, campaign_id: int, keys: Sequence[AccountKey]
) -> dict[AccountKey, LedgerAccount]:
    """The accounts of `keys` (in that order), read in one query, opened where missing."""
    held = _held_locks(session).get(campaign_id)
    known = held.accounts if held is not None else {}
    wanted = [key for key in keys if (key.code, key.asset) not in known]
    if wanted:
        found = {
            (account.code, account.asset): account
            for account in session.scalars(
                select(LedgerAccount).where(
                    LedgerAccount.campaign_id == campaign_id,
                    tuple_(LedgerAccount.code, LedgerAccount.asset).in_(
                        [(key.code, key.asset) for key in wanted]
                    ),
                )
            )
        }
        for key in wanted:
            known[(key.code, key.asset)] = found.get((key.code, key.asset))
    result: dict[AccountKey, LedgerAccount] = {}
    for key in keys:
        account = known.get((key.code, key.asset))
        result[key] = account if account is not None else _account(session, campaign_id, key)
    return result


_ZERO = Decimal(0)


def merge(postings: Iterable[Posting]) -> dict[AccountKey, Decimal]:
    """One net amount per account; accounts that net to zero are dropped."""
    totals: dict[AccountKey, Decimal] = {}
    for posting in postings:
        key = posting.account
        totals[key] = totals.get(key, _ZERO) + posting.amount
    return {key: amount for key, amount in totals.items() if amount != 0}


def unbalanced_assets(amounts: Iterable[tuple[str, Decimal]]) -> dict[str, Decimal]:
    per_asset: dict[str, Decimal] = {}
    for asset, amount in amounts:
        per_asset[asset] = per_asset.get(asset, _ZERO) + amount
    return {asset: total for asset, total in per_asset.items() if total != 0}


@dataclass
class Counters:
    pledges: int = 0
    contributions: int = 0


@dataclass(frozen=True)
class EntryDraft:
    """One entry to append with `post_entries`: what `post_entry` takes, as a value."""

    kind: str
    detail: Mapping[str, Any]
    postings: Sequence[Posting] = ()
    counters: Counters | None = None


@dataclass
class _Tip:
    """The chain head while entries are appended in memory; written back once."""

    campaign_id: int
    seq: int
    head_hash: str
    recorded_at: datetime | None
    pledges_count: int
    contributions_count: int
    # Running balances of the accounts touched so far.
    balances: dict[AccountKey, Decimal] = field(default_factory=dict)

    @classmethod
    def of(cls, head: LedgerHead) -> _Tip:
        return cls(
            head.campaign_id,
            head.seq,
            head.head_hash,
            head.recorded_at,
            head.pledges_count,
            head.contributions_count,
        )

    def write(self, head: LedgerHead, accounts: Mapping[AccountKey, LedgerAccount]) -> None:
        for key, balance in self.balances.items():
            accounts[key].balance = balance
        head.seq = self.seq
        head.head_hash = self.head_hash
        head.recorded_at = self.recorded_at
        head.pledges_count = self.pledges_count
        head.contributions_count = self.contributions_count


# One posting as written: the account, its amount, and the account's balance after it.
_Line = tuple[LedgerAccount, Decimal, Decimal]


def _balanced(kind: str, postings: Iterable[Posting]) -> dict[AccountKey, Decimal]:
    net = merge(postings)
    off = unbalanced_assets((key.asset, amount) for key, amount in net.items())
    if off:
        raise UnbalancedEntry(f"{kind} does not balance: {off}")
    return net


def _append(
    tip: _Tip,
    draft: EntryDraft,
    net: Mapping[AccountKey, Decimal],
    accounts: Mapping[AccountKey, LedgerAccount],
    recorded_at: datetime,
) -> tuple[dict[str, Any], list[_Line]]:
    """Chain one entry onto `tip`: check it, hash it, move the accounts' balances (in memory).

    Returns the entry's column values and its postings; nothing is written to the database
    (balances move in `tip.balances`, and reach the accounts with `tip.write`).
    """
    balances = tip.balances
    for key, amount in net.items():
        if key not in balances:
            balances[key] = accounts[key].balance
        if amount < 0 and accounts[key].must_not_go_negative and balances[key] + amount < 0:
            raise Conflict(
                "balance_must_not_go_negative",
                f"Account {key.code} ({key.asset}) would go below zero; nothing was written.",
            )
    delta = draft.counters or Counters()
    seq = tip.seq + 1
    pledges_count = tip.pledges_count + delta.pledges
    contributions_count = tip.contributions_count + delta.contributions
    detail = draft.detail
    detail_text = canonical_json(detail if type(detail) is dict else dict(detail))
    digest = entry_hash_of_texts(
        campaign_id=tip.campaign_id,
        seq=seq,
        kind=draft.kind,
        recorded_at=rfc3339(recorded_at),
        detail=detail_text,
        postings=[(key.code, key.asset, canonical(amount)) for key, amount in net.items()],
        pledges_count=pledges_count,
        contributions_count=contributions_count,
        prev_hash=tip.head_hash,
    )
    values = {
        "campaign_id": tip.campaign_id,
        "seq": seq,
        "kind": draft.kind,
        "recorded_at": recorded_at,
        "detail": detail_text,
        "pledges_count": pledges_count,
        "contributions_count": contributions_count,
        "prev_hash": tip.head_hash,
        "hash": digest,
    }
    lines: list[_Line] = []
    for key, amount in net.items():
        balances[key] += amount
        lines.append((accounts[key], amount, balances[key]))
    tip.seq, tip.head_hash, tip.recorded_at = seq, digest, recorded_at
    tip.pledges_count, tip.contributions_count = pledges_count, contributions_count
    return values, lines


def post_entry(
    session: Session,
    head: LedgerHead,
    *,
    kind: str,
    detail: Mapping[str, Any],
    postings: Iterable[Posting] = (),
    counters: Counters | None = None,
    recorded_at: datetime | None = None,
) -> int:
    """Append one entry to the campaign's chain and return its id. The caller must hold
    `lock(...)`.

    Refuses (409, nothing written) a posting that would take an account flagged
    `must_not_go_negative` below zero.
    """
    draft = EntryDraft(kind=kind, detail=detail, postings=tuple(postings), counters=counters)
    (entry_id,) = post_entries(session, head, [draft], recorded_at=recorded_at)
    return entry_id


# From this many entries on, `post_entries` writes with `app.db.bulk_insert`.
_BULK_ENTRIES = 100
_ENTRY_COLUMNS = (
    "campaign_id",
    "seq",
    "kind",
    "recorded_at",
    "detail",
    "pledges_count",
    "contributions_count",
    "prev_hash",
    "hash",
)


_POSTING_COLUMNS = ("entry_id", "account_id", "seq", "amount", "balance_after")


def _posting_rows(
    entry_ids: Sequence[int],
    entry_rows: Sequence[dict[str, Any]],
    entry_lines: Sequence[list[_Line]],
) -> list[tuple[Any, ...]]:
    """Each entry's postings as rows of `_POSTING_COLUMNS`, entries in order."""
    return [
        (entry_id, account.id, values["seq"], amount, balance_after)
        for entry_id, values, lines in zip(entry_ids, entry_rows, entry_lines, strict=True)
        for account, amount, balance_after in lines
    ]


def post_entries(
    session: Session,
    head: LedgerHead,
    drafts: Sequence[EntryDraft],
    *,
    recorded_at: datetime | None = None,
) -> list[int]:
    """Append many entries at once, in order; the caller must hold `lock(...)`.

    The chain is exactly what `post_entry` would build one draft at a time (same hashes,
    postings, balances after each posting, kept balances), but entries and postings go
    in with a few multi-row INSERTs and each account's balance is written once. All
    entries share one recording time. Returns the new entries' ids, in order; a draft
    that would take a `must_not_go_negative` account below zero refuses the lot (409).
    """
    nets = [_balanced(draft.kind, draft.postings) for draft in drafts]
    keys = {key: None for net in nets for key in net}  # first-seen order: stable account ids
    accounts = _accounts(session, head.campaign_id, list(keys))
    stamp = recorded_at or clock(head)
    tip = _Tip.of(head)
    entry_rows: list[dict[str, Any]] = []
    entry_lines: list[list[_Line]] = []
    for draft, net in zip(drafts, nets, strict=True):
        values, lines = _append(tip, draft, net, accounts, stamp)
        entry_rows.append(values)
        entry_lines.append(lines)
    if not entry_rows:
        return []
    connection = session.connection()
    if len(entry_rows) < _BULK_ENTRIES:
        # A few entries (a single request): multi-row INSERT … RETURNING, one round trip.
        # Ids are matched by seq, not row order: ordered RETURNING costs SQLite a row each.
        inserted = connection.execute(
            insert(LedgerEntry).returning(LedgerEntry.seq, LedgerEntry.id), entry_rows
        )
        ids_by_seq = {seq: entry_id for seq, entry_id in inserted}
        entry_ids = [ids_by_seq[values["seq"]] for values in entry_rows]
        postings = _posting_rows(entry_ids, entry_rows, entry_lines)
        if postings:  # an empty list would run one INSERT of defaults
            connection.execute(
                insert(LedgerPosting),
                [dict(zip(_POSTING_COLUMNS, row, strict=True)) for row in postings],
            )
    else:
        # A statement's thousands: the database's bulk path (COPY / executemany) with ids
        # reserved up front; SQLAlchemy's RETURNING batches cost more than the inserts.
        entry_table = cast(Table, LedgerEntry.__table__)
        entry_ids = reserve_ids(connection, entry_table, len(entry_rows))
        bulk_insert(
            connection,
            entry_table,
            ("id", *_ENTRY_COLUMNS),
            [
                (entry_id, *(values[name] for name in _ENTRY_COLUMNS))
                for entry_id, values in zip(entry_ids, entry_rows, strict=True)
            ],
        )
        bulk_insert(
            connection,
            cast(Table, LedgerPosting.__table__),
            _POSTING_COLUMNS,
            _posting_rows(entry_ids, entry_rows, entry_lines),
        )
    tip.write(head, accounts)
    session.flush()  # each account's new balance and the head: one UPDATE each
    metrics.entries_written(session, Counter(draft.kind for draft in drafts))
    return entry_ids


@dataclass
class Balances:
    """Account balances of one campaign at one point of its chain."""

    seq: int
    head_hash: str
    recorded_at: datetime | None
    pledges_count: int
    contributions_count: int
    accounts: list[tuple[LedgerAccount, Decimal]] = field(default_factory=list)


def balances(session: Session, campaign_id: int, *, as_of: datetime | None = None) -> Balances:
    """Kept balances, now or as recorded at `as_of`; cost independent of the number of entries."""
    accounts = session.scalars(
        select(LedgerAccount)
        .where(LedgerAccount.campaign_id == campaign_id)
        .order_by(LedgerAccount.id)
    ).all()
    if as_of is None:
        head = session.get_one(LedgerHead, campaign_id)
        return Balances(
            seq=head.seq,
            head_hash=head.head_hash,
            recorded_at=head.recorded_at,
            pledges_count=head.pledges_count,
            contributions_count=head.contributions_count,
            accounts=[(a, a.balance) for a in accounts],
        )
    last = session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.campaign_id == campaign_id, LedgerEntry.recorded_at <= as_of)
        # recorded_at never decreases along a chain, so this walks the index backwards.
        .order_by(LedgerEntry.recorded_at.desc(), LedgerEntry.seq.desc())
        .limit(1)
    ).one_or_none()
    if last is None:
        return Balances(
            seq=0, head_hash=GENESIS_HASH, recorded_at=None, pledges_count=0, contributions_count=0
        )
    result = Balances(
        seq=last.seq,
        head_hash=last.hash,
        recorded_at=last.recorded_at,
        pledges_count=last.pledges_count,
        contributions_count=last.contributions_count,
    )
    for account in accounts:
        balance_then = session.scalars(
            select(LedgerPosting.balance_after)
            .where(LedgerPosting.account_id == account.id, LedgerPosting.seq <= last.seq)
            .order_by(LedgerPosting.seq.desc())
            .limit(1)
        ).one_or_none()
        if balance_then is not None:
            result.accounts.append((account, balance_then))
    return result


def entries_page(
    session: Session, campaign_id: int, *, after_seq: int | None, limit: int
) -> tuple[list[tuple[LedgerEntry, list[tuple[LedgerPosting, LedgerAccount]]]], bool]:
    """A page of the campaign's chain in order, each entry with its postings."""
    stmt = select(LedgerEntry).where(LedgerEntry.campaign_id == campaign_id)
    if after_seq is not None:
        stmt = stmt.where(LedgerEntry.seq > after_seq)
    entries = list(session.scalars(stmt.order_by(LedgerEntry.seq).limit(limit + 1)))
    more = len(entries) > limit
    entries = entries[:limit]
    postings: dict[int, list[tuple[LedgerPosting, LedgerAccount]]] = defaultdict(list)
    if entries:
        rows = session.execute(
            select(LedgerPosting, LedgerAccount)
            .join(LedgerAccount, LedgerAccount.id == LedgerPosting.account_id)
            .where(LedgerPosting.entry_id.in_([e.id for e in entries]))
            .order_by(LedgerAccount.code, LedgerAccount.asset)
        )
        for posting, account in rows:
            postings[posting.entry_id].append((posting, account))
    return [(entry, postings[entry.id]) for entry in entries], more
