"""A bank line is booked once, and every real line is booked.

A line's identity is what the bank says about it (`app.statements.parsing` hashes it into
`Contribution.line_fingerprint`), and lines are counted as a multiset: a statement that
lists the very same line twice records two gifts, and a re-import books only the
occurrences not recorded yet. Reversed contributions count nowhere, so a reversed line
may be booked again.

The rule reaches every campaign that may hold the same bank line (`line_scope`): the
whole campaign tree, and every campaign sharing a receiving account with one of them. A
contribution with no fingerprint (typed in by hand, posted by the bank feed, or imported
before revision 0006) is the same line as a bank line with its bank reference and settled amount, unless both
carry a transfer message and the messages differ.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection
from decimal import Decimal

from sqlalchemy import ColumnElement, select, union_all
from sqlalchemy.orm import Session, aliased

from app.campaigns.models import Campaign
from app.contributions.models import Contribution, ContributionReversal
from app.receiving_accounts.models import ReceivingAccount


def line_scope(session: Session, campaign_id: int) -> list[int]:
    """Ids (ascending) of the campaigns whose bank lines may be this campaign's: those
    linked to it through parent/sub-campaign links or shared receiving accounts, however
    many links away. One recursive query: every contribution asks, so it must not read
    every campaign and every receiving account into Python (as it once did)."""
    other = aliased(ReceivingAccount)
    links = union_all(
        select(Campaign.id.label("a"), Campaign.parent_id.label("b")).where(
            Campaign.parent_id.is_not(None)
        ),
        select(Campaign.parent_id, Campaign.id).where(Campaign.parent_id.is_not(None)),
        select(ReceivingAccount.campaign_id, other.campaign_id).join(
            other,
            (other.number == ReceivingAccount.number)
            & (other.campaign_id != ReceivingAccount.campaign_id),
        ),
    ).cte("links")
    # The campaign itself anchors the walk (its own id column, so both terms share a type);
    # UNION, not UNION ALL, stops at campaigns already reached, cycles included.
    reached = (
        select(Campaign.id.label("id"))
        .where(Campaign.id == campaign_id)
        .cte("reached", recursive=True)
    )
    reached = reached.union(select(links.c.b).join(reached, links.c.a == reached.c.id))
    return list(session.scalars(select(reached.c.id).order_by(reached.c.id)))


class RecordedLines:
    """The bank lines recorded in a scope, as a multiset `take` draws from."""

    def __init__(
        self,
        fingerprints: Counter[str],
        unfingerprinted: dict[tuple[str, Decimal], list[str | None]],
    ) -> None:
        self._fingerprints = fingerprints
        self._by_reference = unfingerprinted

    def take(
        self,
        fingerprint: str | None,
        bank_reference: str | None,
        amount: Decimal,
        description: str | None,
    ) -> bool:
        """Whether one recorded occurrence of this line is left (and use it up if so)."""
        if fingerprint is not None and self._fingerprints[fingerprint] > 0:
            self._fingerprints[fingerprint] -= 1
            return True
        if bank_reference is None:
            return False
        messages = self._by_reference.get((bank_reference, amount), [])
        for index, message in enumerate(messages):
            if message is None or description is None or message == description:
                del messages[index]
                return True
        return False


def _not_reversed(campaign_ids: Collection[int]) -> tuple[ColumnElement[bool], ...]:
    return (
        Contribution.campaign_id.in_(campaign_ids),
        ContributionReversal.id.is_(None),
    )


def recorded_lines(
    session: Session, campaign_ids: Collection[int], *, bank_reference: str | None = None
) -> RecordedLines:
    """The scope's recorded bank lines: every fingerprint (one query, no per-line lookups;
    see bench/statement_import.py), and the contributions without one. With
    `bank_reference`, only the contributions carrying it, all compared as typed-in ones."""
    fingerprints: Counter[str] = Counter()
    if bank_reference is None:
        fingerprints.update(
            session.scalars(
                select(Contribution.line_fingerprint)
                .outerjoin(ContributionReversal)
                .where(*_not_reversed(campaign_ids), Contribution.line_fingerprint.is_not(None))
            )
        )
    stmt = (
        select(Contribution.bank_reference, Contribution.settled_amount, Contribution.description)
        .outerjoin(ContributionReversal)
        .where(*_not_reversed(campaign_ids), Contribution.bank_reference.is_not(None))
    )
    if bank_reference is None:
        stmt = stmt.where(Contribution.line_fingerprint.is_(None))
    else:
        stmt = stmt.where(Contribution.bank_reference == bank_reference)
    unfingerprinted: defaultdict[tuple[str, Decimal], list[str | None]] = defaultdict(list)
    for reference, settled, message in session.execute(stmt):
        if reference is not None and settled is not None:
            unfingerprinted[reference, settled].append(message)
    return RecordedLines(fingerprints, dict(unfingerprinted))
