"""Public views: only `open` and `closed` campaigns (a draft answers 404, as if absent),
their totals from kept ledger balances, where the money and goods went, and the public
statement of contributions with anonymous donors masked."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Numeric,
    Select,
    and_,
    cast,
    column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.orm import InstrumentedAttribute, Session, selectinload

from app import hxl
from app.campaigns.models import Campaign, CampaignStatus, campaign_relations
from app.contributions.models import Contribution, contribution_relations
from app.db import Database
from app.distribution import service as distribution
from app.donors.models import Donor
from app.errors import NotFound
from app.items import service as item_service
from app.items.models import ASSET_PREFIX
from app.ledger.books import Books, kept_books
from app.ledger.models import LedgerHead
from app.money import canonical, check_amount
from app.pagination import Page, PageParams, in_batches, paginate
from app.public import schemas
from app.receiving_accounts import service as receiving_accounts
from app.receiving_accounts.models import ReceivingAccount
from app.text import csv_rows, fold
from app.transparency import service as transparency

PUBLIC_STATUSES = (CampaignStatus.open, CampaignStatus.closed)
ZERO = Decimal(0)
CSV_BATCH = 1000


def get_campaign(session: Session, code: str) -> Campaign:
    """A campaign the public may see; drafts and unknown codes are the same 404."""
    campaign = session.scalars(
        select(Campaign)
        .where(Campaign.code == code, Campaign.status.in_(PUBLIC_STATUSES))
        .options(*campaign_relations())
    ).one_or_none()
    if campaign is None:
        raise NotFound("campaign_not_found", f"No public campaign has code {code!r}.")
    return campaign


def _books(session: Session, campaigns: list[Campaign]) -> dict[int, Books]:
    """Kept balances of a page of campaigns, in one query."""
    return kept_books(session, {c.id: c.currency for c in campaigns})


def _counts(session: Session, campaigns: list[Campaign]) -> dict[int, int]:
    heads = select(LedgerHead.campaign_id, LedgerHead.contributions_count).where(
        LedgerHead.campaign_id.in_([c.id for c in campaigns])
    )
    return {campaign_id: count for campaign_id, count in session.execute(heads)}


def _summary(campaign: Campaign, books: Books, contributions_count: int) -> dict[str, Any]:
    money = books.money
    progress = None
    if campaign.target_amount:
        progress = canonical(
            (money.received / campaign.target_amount).quantize(Decimal("0.0001"), ROUND_DOWN)
        )
    return {
        "code": campaign.code,
        "title": campaign.title,
        "kind": campaign.kind,
        "status": campaign.status,
        "currency": campaign.currency,
        "parent_code": campaign.parent_code,
        "starts_on": campaign.starts_on,
        "ends_on": campaign.ends_on,
        "target_amount": canonical(campaign.target_amount) if campaign.target_amount else None,
        "received": canonical(money.received),
        "allocated": canonical(money.allocated),
        "delivered": canonical(money.delivered),
        "available": canonical(money.received - money.allocated),
        "progress": progress,
        "contributions_count": contributions_count,
    }


def list_campaigns(
    session: Session, page: PageParams, *, status: CampaignStatus | None
) -> Page[schemas.PublicCampaign]:
    """Open and closed campaigns with their totals; three queries a page."""
    statuses = [status] if status in PUBLIC_STATUSES else PUBLIC_STATUSES
    stmt = select(Campaign).where(Campaign.status.in_(statuses)).options(*campaign_relations())
    listed = paginate(session, stmt, Campaign.id, page, lambda c: c)
    books = _books(session, listed.items)
    counts = _counts(session, listed.items)
    return Page[schemas.PublicCampaign](
        items=[
            schemas.PublicCampaign(**_summary(c, books[c.id], counts.get(c.id, 0)))
            for c in listed.items
        ],
        next_cursor=listed.next_cursor,
    )


def campaign_detail(session: Session, campaign: Campaign) -> schemas.PublicCampaignDetail:
    """Totals, where the money and goods went (by place), and goods per item."""
    books = _books(session, [campaign])[campaign.id]
    places = distribution.distribution(session, campaign, level=None, as_of=None)
    items = item_service.of_assets(session, books.goods)
    goods = [
        schemas.GoodsTotal(
            item_code=code,
            item_name=items[code].name,
            unit=items[code].unit,
            received=canonical(figures.received),
            delivered=canonical(figures.delivered),
        )
        for asset, figures in sorted(books.goods.items())
        if not figures.is_empty and (code := asset.removeprefix(ASSET_PREFIX))
    ]
    return schemas.PublicCampaignDetail(
        **_summary(campaign, books, _counts(session, [campaign]).get(campaign.id, 0)),
        description=campaign.description,
        as_of=places.as_of,
        distribution=places.places,
        goods=goods,
        accounts=[
            schemas.OfficialAccount(bank=a.bank, number=a.number, holder=a.holder)
            for a in session.scalars(
                receiving_accounts.search(campaign).order_by(ReceivingAccount.id)
            )
        ],
    )


def donor_name(donor: Donor | None) -> str | None:
    """What the public sees of a donor: never an anonymous donor's real name."""
    return donor.public_name if donor is not None else None


def render(contribution: Contribution) -> schemas.PublicContribution:
    def text(value: Decimal | None) -> str | None:
        return canonical(value) if value is not None else None

    return schemas.PublicContribution(
        id=contribution.id,
        received_on=contribution.received_on,
        recorded_at=contribution.recorded_at,
        kind="money" if contribution.item_id is None else "goods",
        amount=text(contribution.amount),
        currency=contribution.currency,
        settled_amount=text(contribution.settled_amount),
        item_code=contribution.item_code,
        quantity=text(contribution.quantity),
        donor_name=donor_name(contribution.donor),
        # A transfer message may name the donor: an anonymous donor's is withheld.
        description=None
        if contribution.donor is not None and contribution.donor.anonymous
        else contribution.description,
        status="reversed" if contribution.reversal is not None else "recorded",
    )


def _display_names_matching(session: Session, campaign: Campaign, q: str) -> list[int]:
    """Ids of the campaign's named donors whose display name (what the public is shown)
    contains the folded query. Display names are not stored folded, so they are folded
    here; only donors of this campaign who have one are read."""
    donors = session.execute(
        select(Donor.id, Donor.display_name).where(
            Donor.display_name.is_not(None),
            # Per donor, through the donor index: never a walk over the campaign's rows.
            select(Contribution.id)
            .where(Contribution.donor_id == Donor.id, Contribution.campaign_id == campaign.id)
            .exists(),
        )
    )
    return [donor_id for donor_id, shown in donors if shown and q in fold(shown)]


@dataclass(frozen=True)
class StatementFilter:
    """The public statement's filters: all optional, all combined with AND."""

    q: str | None = None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    received_from: date | None = None
    received_to: date | None = None
    # Exact match only: a donor finds their own transfer, never others' by a fragment.
    bank_reference: str | None = None

    def check(self, campaign: Campaign) -> None:
        """Amount bounds are settled amounts: written as the campaign's currency allows."""
        for field in ("min_amount", "max_amount"):
            value = getattr(self, field)
            if value is not None:
                check_amount(value, campaign.currency, field)


def _settled(session: Session) -> ColumnElement[Any] | InstrumentedAttribute[Any]:
    # SQLite keeps amounts as text; compare them as numbers. (A filter bound, not money
    # arithmetic: nothing is summed here.)
    if session.get_bind().dialect.name == "sqlite":
        return cast(Contribution.settled_amount, Numeric)
    return Contribution.settled_amount


# The trigram index (revision 0009) answers substrings of three characters or more.
_TRIGRAM = 3
_SEARCH_TABLE = table("search_contributions", column("rowid"))


def _message_contains(session: Session, q: str) -> ColumnElement[bool]:
    """Contributions whose folded transfer message contains `q`, found through the search
    index: SQLite's FTS5 trigram table (a phrase query matches any substring), PostgreSQL's
    trigram GIN index (which `LIKE '%…%'` uses by itself)."""
    if len(q) >= _TRIGRAM and session.get_bind().dialect.name == "sqlite":
        phrase = '"' + q.replace('"', '""') + '"'
        matching = select(_SEARCH_TABLE.c.rowid).where(
            text("search_contributions MATCH :phrase").bindparams(phrase=phrase)
        )
        return Contribution.id.in_(matching)
    return Contribution.description_folded.contains(q, autoescape=True)


def statement(session: Session, campaign: Campaign, where: StatementFilter) -> Select[Any]:
    """The campaign's contributions (money and goods, reversed ones too), filtered."""
    stmt = (
        select(Contribution)
        .where(Contribution.campaign_id == campaign.id)
        .options(selectinload(Contribution.donor), *contribution_relations())
    )
    if where.q:
        # Only what the public is shown is searchable: never an anonymous donor's name or
        # transfer message, and never the real name behind a display name.
        q = fold(where.q)
        shown = or_(Donor.id.is_(None), Donor.anonymous.is_(False))
        named = select(Donor.id).where(
            or_(
                and_(
                    Donor.display_name.is_(None),
                    Donor.name_folded.contains(q, autoescape=True),
                ),
                Donor.id.in_(_display_names_matching(session, campaign, q)),
            )
        )
        # Donors are few: their ids first, then one condition each index can answer (an
        # OR of the message index and the donor index; never a walk over every row).
        donor_ids = list(session.scalars(named))
        matches = _message_contains(session, q)
        if donor_ids:
            matches = or_(matches, Contribution.donor_id.in_(donor_ids))
        stmt = stmt.outerjoin(Donor, Donor.id == Contribution.donor_id).where(shown, matches)
    if where.min_amount is not None:
        stmt = stmt.where(_settled(session) >= where.min_amount)
    if where.max_amount is not None:
        stmt = stmt.where(_settled(session) <= where.max_amount)
    if where.bank_reference is not None:
        stmt = stmt.where(Contribution.bank_reference == where.bank_reference)
    if where.received_from is not None:
        stmt = stmt.where(Contribution.received_on >= where.received_from)
    if where.received_to is not None:
        stmt = stmt.where(Contribution.received_on <= where.received_to)
    return stmt


CSV_COLUMNS = list(schemas.PublicContribution.model_fields)
# The public statement in HXL (`app.hxl`): the donor's public name only.
HXL_COLUMNS = (
    hxl.Column("id", "#meta +id"),
    hxl.Column("received_on", "#date +received"),
    hxl.Column("donor", "#org +donor"),
    hxl.Column("amount", "#value +original"),
    hxl.Column("currency", "#currency +original"),
    hxl.Column("settled_amount", "#value +settled"),
    hxl.Column("settled_currency", "#currency +settled"),
    *hxl.GOODS,
    hxl.Column("quantity", "#item +num"),
    hxl.Column("description", "#description"),
    hxl.Column("status", "#status"),
)


def _hxl_row(contribution: Contribution, currency: str) -> dict[str, Any]:
    shown = render(contribution).model_dump(mode="json")
    item = contribution.item
    return {
        **shown,
        "donor": shown["donor_name"],
        "settled_currency": currency if contribution.item_id is None else None,
        "item_name": item.name if item else None,
        "unit": item.unit if item else None,
    }


def csv_lines(
    database: Database, campaign_id: int, where: StatementFilter, *, as_hxl: bool = False
) -> Iterator[str]:
    """The public statement as CSV, or HXL (`app.text.csv_rows`: BOM, no live formulas),
    read in batches on its own read-only session, so a 100,000-row campaign streams
    without being held in memory."""

    def batches() -> Iterator[list[dict[str, Any]]]:
        with database.session(read_only=True) as session:
            campaign = session.get_one(Campaign, campaign_id)
            stmt = statement(session, campaign, where)
            for batch in in_batches(session, stmt, Contribution.id, CSV_BATCH):
                if as_hxl:
                    yield [_hxl_row(c, campaign.currency) for c in batch]
                else:
                    yield [render(c).model_dump(mode="json") for c in batch]

    if as_hxl:
        return csv_rows(hxl.names(HXL_COLUMNS), batches(), hashtags=hxl.hashtags(HXL_COLUMNS))
    return csv_rows(CSV_COLUMNS, batches())


def receipt(session: Session, receipt_code: str) -> schemas.PublicReceipt:
    """A donor's contribution by its receipt code, and where its campaign's money went."""
    contribution = session.scalars(
        select(Contribution)
        .where(Contribution.receipt_code == receipt_code.upper())
        .options(
            selectinload(Contribution.donor),
            *contribution_relations(),
            # The receipt shows the campaign's page too, which reads its parent and unit.
            selectinload(Contribution.campaign).selectinload(Campaign.parent),
            selectinload(Contribution.campaign).selectinload(Campaign.unit),
        )
    ).one_or_none()
    if contribution is None or contribution.campaign.status not in PUBLIC_STATUSES:
        raise NotFound("receipt_not_found", f"No contribution has receipt code {receipt_code!r}.")
    return schemas.PublicReceipt(
        receipt_code=contribution.receipt_code,
        contribution=render(contribution),
        campaign=campaign_detail(session, contribution.campaign),
        proof=transparency.receipt_proof(session, contribution.campaign, contribution.receipt_code),
    )
