from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.schemas import BrokenLink, VerifyReport
from app.campaigns.models import Campaign
from app.ledger.verify import verify_campaign


def verify_all(session: Session) -> VerifyReport:
    """Replay every campaign's chain: hashes, links, balanced entries and kept balances."""
    checked = campaigns = 0
    first: BrokenLink | None = None
    for campaign_id, code in session.execute(
        select(Campaign.id, Campaign.code).order_by(Campaign.id)
    ):
        result = verify_campaign(session, campaign_id)
        campaigns += 1
        checked += result.entries
        broken = result.first_broken
        if first is None and broken is not None:
            first = BrokenLink(
                campaign_code=code,
                seq=broken.seq,
                entry_id=broken.entry_id,
                rule=broken.rule,
                detail=broken.detail,
            )
    return VerifyReport(ok=first is None, checked=checked, campaigns=campaigns, first_broken=first)
