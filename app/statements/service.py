"""Bank statement import: the way tens of thousands of contributions arrive.

Per DESIGN.md ("Bank statements"): credit rows become bank-transfer contributions in the
campaign's currency, fulfilling the pledge whose reference their description carries;
debit rows (fees, transfers out) are skipped; a line already recorded is a duplicate. A
line is the same bank line as a recorded one when everything the bank says about it is
the same (`app.contributions.bank_lines`), in this campaign, its campaign tree or a
campaign sharing its receiving account; lines count as a multiset, so a file listing one
line twice books two gifts, and its re-import books none. A file with any bad line
imports nothing (422, every bad line named).

New credits are recorded by `contributions.record_bank_credits`, in bulk; this module
parses, matches pledges, reports, and notes the import in the audit log.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import metrics
from app.audit import log as audit_log
from app.campaigns import service as campaigns
from app.campaigns.models import Campaign, CampaignStatus
from app.campaigns.service import require_status
from app.contributions import service as contributions
from app.dates import today_in_vietnam
from app.db import BULK_ROWS, refresh_statistics
from app.errors import Invalid
from app.money import minor_units
from app.pledges.models import Pledge, pledge_relations
from app.statements.matching import PledgeMatcher
from app.statements.parsing import parse_statement
from app.statements.schemas import StatementReport
from app.transparency import service as transparency


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
    # Held from before the recorded lines are read until commit. A dry run writes nothing,
    # so it need not queue behind the campaign's writers.
    recorded = (
        contributions.recorded_bank_lines(session, campaign)
        if dry_run
        else contributions.lock_bank_lines(session, campaign)
    )
    campaigns.reread(session, campaign)
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
    matcher = PledgeMatcher(open_pledges(session, campaign))
    new: list[contributions.BankCredit] = []
    for row in credits:
        if recorded.take(row.fingerprint, row.bank_reference, row.amount, row.description):
            continue
        new.append(
            contributions.BankCredit(
                received_on=row.received_on,
                amount=row.amount,
                bank_reference=row.bank_reference,
                description=row.description,
                pledge=matcher.match(row.description),
                line_fingerprint=row.fingerprint,
            )
        )
    matched = sum(1 for credit in new if credit.pledge is not None)
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
    if not dry_run:
        metrics.statement_imported(
            session, imported=report.imported, duplicates=report.duplicates, skipped=report.skipped
        )
    if not dry_run and new:
        ids = contributions.record_bank_credits(session, campaign, new)
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
        # Donors can check their gift against a signed checkpoint as soon as it is booked.
        transparency.issue_if_signing(session, campaign, reason="statement")
        if len(ids) >= BULK_ROWS:
            refresh_statistics(
                session, "contributions", "ledger_entries", "ledger_postings", "audit_events"
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


def open_pledges(session: Session, campaign: Campaign) -> list[Pledge]:
    """The pledges a bank line of the campaign may fulfil (a statement's, or the feed's)."""
    # Money naming a cancelled pledge is recorded unpledged, as POST /contributions requires;
    # so is money naming a pledge in another currency (or of goods): a statement's credits
    # are in the campaign's currency, and a pledge is fulfilled in its own.
    stmt = (
        select(Pledge)
        .where(
            Pledge.campaign_id == campaign.id,
            Pledge.cancelled_at.is_(None),
            Pledge.currency == campaign.currency,
        )
        .options(*pledge_relations())
        .execution_options(populate_existing=True)
    )
    return list(session.scalars(stmt))
