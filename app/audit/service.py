"""What auditors use to prove nobody edited history: the audit log and its verification."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app import metrics
from app.audit.log import HASHED_COLUMNS, event_hash
from app.audit.models import AuditEvent, AuditHead
from app.audit.schemas import AuditEvent as AuditEventOut
from app.audit.schemas import BrokenLink, VerifyReport
from app.campaigns.models import Campaign
from app.errors import Invalid
from app.ledger.chain import GENESIS_HASH
from app.ledger.verify import Verification, verify_campaign

# A check of a campaign's records against its replayed chain (`verify_campaign(...,
# keep_details=True)`): the first disagreement, or None. Given by the layer that knows the
# records (`app.reconciliation.records`), which sits above this one.
RecordsCheck = Callable[[Session, Campaign, Verification], BrokenLink | None]


def _verify_ledgers(
    session: Session, records_check: RecordsCheck | None
) -> tuple[int, int, BrokenLink | None]:
    checked = campaigns = 0
    first: BrokenLink | None = None
    for campaign in session.scalars(select(Campaign).order_by(Campaign.id)):
        campaign_id, code = campaign.id, campaign.code
        result = verify_campaign(session, campaign_id, keep_details=records_check is not None)
        campaigns += 1
        checked += result.entries
        broken = result.first_broken
        if first is None and broken is None and records_check is not None:
            first = records_check(session, campaign, result)
        if first is None and broken is not None:
            first = BrokenLink(
                log="ledger",
                chain=f"campaign:{campaign_id}",
                campaign_code=code,
                seq=broken.seq,
                entry_id=broken.entry_id,
                rule=broken.rule,
                detail=broken.detail,
            )
    return checked, campaigns, first


# Rows per round trip while streaming a chain; the columns `event_hash` reads, between
# the id and the hash (a dict of them: attribute access on rows is slow).
_BATCH = 10_000
_EVENT_COLUMNS = ("id", *HASHED_COLUMNS, "hash")


def _verify_audit_chain(session: Session, head: AuditHead) -> tuple[int, BrokenLink | None]:
    def broken(seq: int, event_id: int | None, rule: str, detail: str) -> BrokenLink:
        code = None
        if head.chain.startswith("campaign:"):
            code = session.scalar(
                select(Campaign.code).where(Campaign.id == int(head.chain.split(":")[1]))
            )
        return BrokenLink(
            log="audit",
            chain=head.chain,
            campaign_code=code,
            seq=seq,
            entry_id=event_id,
            rule=rule,
            detail=detail,
        )

    checked, prev_hash, expected_seq = 0, GENESIS_HASH, 1
    # Plain rows, streamed (a server-side cursor on PostgreSQL): an ORM object per event
    # was most of the cost of replaying a chain. `event_hash` reads the same attributes.
    stmt = (
        select(*(getattr(AuditEvent, column) for column in _EVENT_COLUMNS))
        .where(AuditEvent.chain == head.chain)
        .order_by(AuditEvent.seq)
        .execution_options(yield_per=_BATCH)
    )
    for event_ in session.connection().execute(stmt):  # Core rows: no ORM result layer
        checked += 1
        if event_.seq != expected_seq:
            return checked, broken(expected_seq, None, "chain_sequence", "an event is missing")
        if event_.prev_hash != prev_hash:
            return checked, broken(
                event_.seq, event_.id, "chain_link", "prev_hash is not the previous event's hash"
            )
        if event_hash(dict(zip(HASHED_COLUMNS, event_[1:-1], strict=True))) != event_.hash:
            return checked, broken(
                event_.seq, event_.id, "event_hash", "the event's content does not match its hash"
            )
        prev_hash, expected_seq = event_.hash, expected_seq + 1
    if (head.seq, head.head_hash) != (expected_seq - 1, prev_hash):
        return checked, broken(
            head.seq, None, "chain_head", "the chain's head does not match its last event"
        )
    return checked, None


def verify_all(session: Session, *, records_check: RecordsCheck | None = None) -> VerifyReport:
    """Replay every ledger chain (hashes, links, balances, kept balances) and every audit
    chain (hashes and links); with `records_check`, also each campaign's records against
    its chain."""
    entries, campaigns, first = _verify_ledgers(session, records_check)
    events = 0
    for head in session.scalars(select(AuditHead).order_by(AuditHead.chain)):
        checked, broken = _verify_audit_chain(session, head)
        events += checked
        first = first or broken
    if first is not None:
        metrics.verify_failed(session, "audit")
    return VerifyReport(
        ok=first is None,
        checked=entries + events,
        campaigns=campaigns,
        ledger_entries=entries,
        audit_events=events,
        first_broken=first,
    )


def search(
    session: Session,
    *,
    campaign_code: str | None,
    entity_type: str | None,
    entity_id: int | None,
    actor_key_id: int | None,
    recorded_from: datetime | None,
    recorded_to: datetime | None,
) -> Select[AuditEvent]:
    """Audit events, oldest first, filtered."""
    stmt = select(AuditEvent)
    if campaign_code is not None:
        campaign_id = session.scalar(select(Campaign.id).where(Campaign.code == campaign_code))
        if campaign_id is None:
            raise Invalid.field(
                "campaign", "campaign_not_found", f"no campaign has code {campaign_code!r}"
            )
        stmt = stmt.where(AuditEvent.campaign_id == campaign_id)
    if entity_type is not None:
        stmt = stmt.where(AuditEvent.entity_type == entity_type)
    if entity_id is not None:
        stmt = stmt.where(AuditEvent.entity_id == entity_id)
    if actor_key_id is not None:
        stmt = stmt.where(AuditEvent.actor_key_id == actor_key_id)
    if recorded_from is not None:
        stmt = stmt.where(AuditEvent.recorded_at >= recorded_from)
    if recorded_to is not None:
        stmt = stmt.where(AuditEvent.recorded_at < recorded_to)
    return stmt


def render(session: Session, event_: AuditEvent) -> AuditEventOut:
    code = None
    if event_.campaign_id is not None:
        code = session.scalar(select(Campaign.code).where(Campaign.id == event_.campaign_id))
    return AuditEventOut(
        id=event_.id,
        chain=event_.chain,
        seq=event_.seq,
        campaign_code=code,
        actor_key_id=event_.actor_key_id,
        actor_role=event_.actor_role,
        actor_unit_id=event_.actor_unit_id,
        request_id=event_.request_id,
        method=event_.method,
        path=event_.path,
        entity_type=event_.entity_type,
        entity_id=event_.entity_id,
        action=event_.action,
        changes=json.loads(event_.changes),
        recorded_at=event_.recorded_at,
        prev_hash=event_.prev_hash,
        hash=event_.hash,
    )
