"""Bank statement import: the way tens of thousands of contributions arrive.

Per DESIGN.md ("Bank statements"): credit rows become bank-transfer contributions in the
campaign's currency, fulfilling the pledge whose reference their description carries;
debit rows (fees, transfers out) are skipped; a row whose bank reference the campaign
already recorded, or that an earlier row of the file carries, is a duplicate. A file
with any bad line imports nothing (422, every bad line named).

Rows are written in bulk: one INSERT … RETURNING for the contributions, then
`ledger.post_entries` for their entries, each still its own hash-chained entry.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.audit import log as audit_log
from app.campaigns.models import Campaign, CampaignStatus
from app.campaigns.service import require_status
from app.contributions import service as contributions
from app.contributions.models import Contribution, PaymentMethod
from app.dates import today_in_vietnam
from app.errors import Invalid
from app.ledger import service as ledger
from app.ledger.models import LedgerHead
from app.money import minor_units
from app.pledges import service as pledges
from app.pledges.models import Pledge, pledge_relations
from app.statements.matching import PledgeMatcher
from app.statements.parsing import StatementRow, parse_statement
from app.statements.schemas import StatementReport
from app.text import fold


@dataclass
class NewContribution:
    """A contribution about to be recorded from a statement row (`id` once inserted)."""

    receipt_code: str
    pledge_id: int | None
    amount: Decimal
    currency: str
    received_on: date
    bank_reference: str | None
    description: str | None
    donor_id: int | None
    id: int = 0

    @property
    def settled_amount(self) -> Decimal:
        return self.amount  # statement rows are in the campaign's own currency


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """A statement builds a million short-lived, acyclic objects; the cyclic collector would
    rescan all of them again and again (a third of the import's time at 100,000 rows)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def import_statement(
    session: Session, campaign: Campaign, *, data: bytes, dry_run: bool
) -> StatementReport:
    """Import a bank statement CSV into an open or closed campaign (see the module doc).

    With `dry_run` the report is computed in full and nothing is written.
    """
    with _cyclic_gc_paused():
        return _import(session, campaign, data=data, dry_run=dry_run)


def _import(session: Session, campaign: Campaign, *, data: bytes, dry_run: bool) -> StatementReport:
    # A dry run writes nothing, so it need not queue behind the campaign's writers.
    head = None if dry_run else ledger.lock(session, campaign.id)
    session.refresh(campaign)
    require_status(
        campaign, {CampaignStatus.open, CampaignStatus.closed}, "a bank statement import"
    )
    parsed = parse_statement(
        data,
        currency=campaign.currency,
        minor_units=minor_units(campaign.currency),
        today=today_in_vietnam(),
    )
    if parsed.errors:
        count = len(parsed.errors)
        raise Invalid(
            "statement_has_bad_lines",
            f"{count} bad line{'s' if count > 1 else ''} in the statement; nothing was imported.",
            errors=parsed.errors,
        )
    credits = [row for row in parsed.rows if row.credit]
    recorded = contributions.recorded_bank_references(session, campaign.id)
    seen = {row.bank_reference for row in credits} & recorded
    matcher = PledgeMatcher(_open_pledges(session, campaign))
    new: list[tuple[StatementRow, Pledge | None]] = []
    for row in credits:
        if row.bank_reference in seen:
            continue
        seen.add(row.bank_reference)
        new.append((row, matcher.match(row.description)))
    matched = sum(1 for _, pledge in new if pledge is not None)
    report = StatementReport(
        rows=len(parsed.rows),
        imported=len(new),
        matched=matched,
        unmatched=len(new) - matched,
        duplicates=len(credits) - len(new),
        skipped=len(parsed.rows) - len(credits),
        errors=[],
        dry_run=dry_run,
    )
    if head is not None and new:
        ids = _record(session, campaign, head, new)
        audit_log.note_bulk(
            session,
            table="contributions",
            entity_id=min(ids),
            action="imported",
            changes={
                "statement_sha256": hashlib.sha256(data).hexdigest(),
                **report.model_dump(
                    include={"rows", "imported", "matched", "duplicates", "skipped"}
                ),
                "contribution_ids": _ranges(ids),
            },
            campaign_id=campaign.id,
        )
    return report


def _ranges(ids: list[int]) -> list[list[int]]:
    """[3, 4, 5, 9] → [[3, 5], [9, 9]]: the imported ids, compactly."""
    ranges: list[list[int]] = []
    for value in sorted(ids):
        if ranges and value == ranges[-1][1] + 1:
            ranges[-1][1] = value
        else:
            ranges.append([value, value])
    return ranges


def _open_pledges(session: Session, campaign: Campaign) -> list[Pledge]:
    # Money naming a cancelled pledge is recorded unpledged, as POST /contributions requires.
    stmt = (
        select(Pledge)
        .where(Pledge.campaign_id == campaign.id, Pledge.cancelled_at.is_(None))
        .options(*pledge_relations())
        .execution_options(populate_existing=True)
    )
    return list(session.scalars(stmt))


def _record(
    session: Session,
    campaign: Campaign,
    head: LedgerHead,
    rows: list[tuple[StatementRow, Pledge | None]],
) -> list[int]:
    stamp = ledger.clock(head)
    codes: set[str] = set()
    while len(codes) < len(rows):
        codes.add(contributions._new_receipt_code())
    new = [
        NewContribution(
            receipt_code=code,
            pledge_id=pledge.id if pledge else None,
            # As POST /contributions does: money against a pledge comes from its donor.
            donor_id=pledge.donor_id if pledge else None,
            amount=row.amount,
            currency=campaign.currency,
            received_on=row.received_on,
            bank_reference=row.bank_reference,
            description=row.description,
        )
        for code, (row, pledge) in zip(codes, rows, strict=True)
    ]
    values: list[dict[str, Any]] = [
        {
            "campaign_id": campaign.id,
            "donor_id": c.donor_id,
            "pledge_id": c.pledge_id,
            "amount": c.amount,
            "currency": c.currency,
            "settled_amount": c.settled_amount,
            "fx_rate": None,
            "received_on": c.received_on,
            "method": PaymentMethod.bank_transfer,
            "bank_reference": c.bank_reference,
            "receipt_code": c.receipt_code,
            "description": c.description,
            "description_folded": fold(c.description) if c.description else None,
            "recorded_at": stamp,
        }
        for c in new
    ]
    # Matched by receipt code (unique), not row order: ordered RETURNING costs SQLite a row each.
    inserted = session.connection().execute(
        insert(Contribution).returning(Contribution.receipt_code, Contribution.id), values
    )
    ids_by_code = {receipt_code: row_id for receipt_code, row_id in inserted}
    ids = [ids_by_code[c.receipt_code] for c in new]
    drafts = []
    for contribution, contribution_id, (_, pledge) in zip(new, ids, rows, strict=True):
        contribution.id = contribution_id
        postings = contributions._money_postings(contribution, campaign, pledged=pledge is not None)
        if pledge is not None:
            postings += pledges.apply_fulfilment(pledge, contribution.settled_amount)
        drafts.append(
            ledger.EntryDraft(
                kind="contribution_recorded",
                detail=contributions.recorded_detail(contribution),
                postings=postings,
                counters=ledger.Counters(contributions=1),
            )
        )
    ledger.post_entries(session, head, drafts, recorded_at=stamp)
    return ids
