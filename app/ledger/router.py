from __future__ import annotations

import json

from app import routing
from app.campaigns.dependencies import CampaignDep
from app.db import SessionDep
from app.keys.auth import Authorized
from app.ledger import chain, schemas, service
from app.pagination import Page, PageDep, encode_cursor

router = routing.router(tags=["ledger"], dependencies=[Authorized])


@router.get("/campaigns/{code}/ledger", response_model=Page[schemas.EntryOut])
def list_entries(
    campaign: CampaignDep, session: SessionDep, page: PageDep
) -> Page[schemas.EntryOut]:
    """The campaign's hash chain, oldest first: enough to recompute every hash and balance."""
    rows, more = service.entries_page(
        session, campaign.id, after_seq=page.after_id, limit=page.limit
    )
    items = [
        schemas.EntryOut(
            campaign_id=entry.campaign_id,
            seq=entry.seq,
            kind=entry.kind,
            recorded_at=chain.rfc3339(entry.recorded_at),
            detail=json.loads(entry.detail),
            detail_json=entry.detail,
            pledges_count=entry.pledges_count,
            contributions_count=entry.contributions_count,
            prev_hash=entry.prev_hash,
            hash=entry.hash,
            postings=[
                schemas.PostingOut(
                    account=account.code,
                    asset=account.asset,
                    location_id=account.location_id,
                    amount=posting.amount,
                    balance_after=posting.balance_after,
                )
                for posting, account in postings
            ],
        )
        for entry, postings in rows
    ]
    next_cursor = encode_cursor(rows[-1][0].seq) if more and rows else None
    return Page[schemas.EntryOut](items=items, next_cursor=next_cursor)
