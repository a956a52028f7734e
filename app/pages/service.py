"""What the donor pages show, built from the services the JSON API uses: the public views
(`app.public`, whose privacy rules apply unchanged), the reconciliation, the distribution
and the transparency log. No rule is queried twice: the pages only arrange their answers.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, case, cast, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.allocations.models import Allocation, AllocationStatus
from app.campaigns.models import Campaign, CampaignStatus
from app.contributions.models import Contribution, ContributionReversal
from app.distribution import service as distribution
from app.distribution.schemas import Place
from app.errors import Invalid, NotFound
from app.items.models import Item
from app.ledger.models import LedgerHead
from app.locations.models import Location, LocationLevel
from app.money import canonical, minor_units
from app.pagination import PageParams, decode_cursor, paginate
from app.public import schemas as public_schemas
from app.public import service as public
from app.reconciliation import schemas as reconciliation_schemas
from app.reconciliation import service as reconciliation
from app.statements.amounts import parse_amount
from app.transparency import service as transparency
from app.transparency.schemas import InclusionProof

ZERO = Decimal(0)
HOME_LIMIT = 100
NEVER = datetime.min.replace(tzinfo=UTC)
STATEMENT_PAGE = 50
ALLOCATIONS_SHOWN = 100
# Each level's places drill into the next: province → district → commune → village.
NEXT_LEVEL = {
    None: LocationLevel.province,
    LocationLevel.province: LocationLevel.district,
    LocationLevel.district: LocationLevel.commune,
    LocationLevel.commune: LocationLevel.village,
}
RECEIPT_CODE = re.compile(r"^[A-Za-z0-9-]{1,20}$")


# Home -----------------------------------------------------------------------------------


@dataclass
class CampaignCard:
    summary: public_schemas.PublicCampaign
    place: str | None
    updated_at: datetime | None


def _cards(session: Session, status: CampaignStatus) -> list[CampaignCard]:
    listed = public.list_campaigns(
        session, PageParams(limit=HOME_LIMIT, after_id=None), status=status
    ).items
    codes = [c.code for c in listed]
    rows = session.execute(
        select(Campaign.code, Location.name, LedgerHead.recorded_at)
        .outerjoin(Location, Location.id == Campaign.location_id)
        .outerjoin(LedgerHead, LedgerHead.campaign_id == Campaign.id)
        .where(Campaign.code.in_(codes))
    )
    extra = {code: (place, updated) for code, place, updated in rows}
    cards = [CampaignCard(c, *extra.get(c.code, (None, None))) for c in listed]
    # Most recently active first: a donor arriving today looks for today's appeal.
    cards.sort(key=lambda card: card.updated_at or NEVER, reverse=True)
    return cards


def home(session: Session) -> dict[str, list[CampaignCard]]:
    """Open campaigns first, then closed ones, each with its totals."""
    return {
        "open": _cards(session, CampaignStatus.open),
        "closed": _cards(session, CampaignStatus.closed),
    }


# One campaign ---------------------------------------------------------------------------


@dataclass
class Day:
    on: date
    received: Decimal
    count: int


@dataclass
class SubAppeal:
    code: str
    title: str
    status: str
    money: reconciliation_schemas.Money | None


@dataclass
class AllocationLine:
    place: str
    purpose: str
    status: str
    allocated_on: date
    delivered_on: date | None
    amount: Decimal | None
    item_name: str | None
    unit: str | None
    quantity: Decimal | None


@dataclass
class Drill:
    """Where it went, at one place: its own line and the places one level below it."""

    place: Location | None
    trail: list[Location]
    places: list[Place]
    allocations: list[AllocationLine]
    more_allocations: bool


@dataclass
class CampaignView:
    campaign: Campaign
    detail: public_schemas.PublicCampaignDetail
    place: str | None
    reconciliation: reconciliation_schemas.Reconciliation | None
    parent: Campaign | None
    children: list[SubAppeal]
    rolled_up: dict[str, Decimal] | None
    drill: Drill
    chart: Chart | None


@dataclass
class Bar:
    label: str
    received: Decimal
    count: int
    x: Decimal
    y: Decimal
    width: Decimal
    height: Decimal


@dataclass
class Chart:
    """Bars of money received (per day, or per month when there are many days), drawn by
    the template as SVG: geometry only, the figures themselves are exact."""

    daily: bool
    bars: list[Bar]
    first: str
    last: str
    width: int = 600
    height: int = 160


CHART_DAYS = 62


def chart(days: list[Day], language_day: Callable[[date], str]) -> Chart | None:
    """The chart of `days`: one bar a day, or a month when they span more than CHART_DAYS
    days (so a long campaign's page stays light)."""
    if not days:
        return None
    daily = (days[-1].on - days[0].on).days < CHART_DAYS
    buckets: OrderedDict[str, list[Any]] = OrderedDict()
    for d in days:
        label = language_day(d.on) if daily else f"{d.on.month:02d}/{d.on.year}"
        bucket = buckets.setdefault(label, [Decimal(0), 0])
        bucket[0] += d.received
        bucket[1] += d.count
    top = max(received for received, _ in buckets.values()) or Decimal(1)
    made = Chart(daily=daily, bars=[], first="", last="")
    step = Decimal(made.width) / len(buckets)
    for index, (label, (received, count)) in enumerate(buckets.items()):
        height = (Decimal(made.height) * received / top).quantize(Decimal("0.1"))
        made.bars.append(
            Bar(
                label=label,
                received=received,
                count=count,
                x=(step * index).quantize(Decimal("0.1")),
                y=Decimal(made.height) - height,
                width=max(step * Decimal("0.8"), Decimal("0.5")).quantize(Decimal("0.1")),
                height=height,
            )
        )
    made.first, made.last = made.bars[0].label, made.bars[-1].label
    return made


def _reconcile(
    session: Session, campaign: Campaign
) -> reconciliation_schemas.Reconciliation | None:
    """The campaign's reconciliation now (None while its books hold no entry)."""
    try:
        return reconciliation.reconcile(session, campaign, as_of=None, verify_full=False)
    except Invalid as refused:
        if refused.code == "as_of_before_campaign":
            return None
        raise


def _public_children(session: Session, campaign: Campaign) -> list[Campaign]:
    return list(
        session.scalars(
            select(Campaign)
            .where(Campaign.parent_id == campaign.id, Campaign.status.in_(public.PUBLIC_STATUSES))
            .order_by(Campaign.id)
        )
    )


ROLLED_UP = ("received", "allocated", "delivered", "available")


def _roll_up(
    campaign: Campaign,
    own: reconciliation_schemas.Reconciliation | None,
    children: list[SubAppeal],
    currencies: dict[str, str],
) -> dict[str, Decimal] | None:
    """The appeal and its sub-appeals together, in the appeal's currency (a sub-appeal in
    another currency is listed, never added)."""
    if not children:
        return None
    total = {name: Decimal(0) for name in ROLLED_UP}
    parts = [own.money if own else None] + [
        child.money for child in children if currencies[child.code] == campaign.currency
    ]
    for money in parts:
        if money is not None:
            for name in ROLLED_UP:
                total[name] += Decimal(getattr(money, name))
    return total


class _DaysCache:
    """Money received per day, remembered per campaign and ledger length: every record
    that changes the figure (a contribution, a reversal) appends a ledger entry, so a
    remembered answer for the same ledger length is the answer."""

    def __init__(self, size: int = 256) -> None:
        self._lock = threading.Lock()
        self._size = size
        self._kept: OrderedDict[tuple[str, int, int], list[Day]] = OrderedDict()

    def get(self, key: tuple[str, int, int]) -> list[Day] | None:
        with self._lock:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
            return found

    def put(self, key: tuple[str, int, int], days: list[Day]) -> None:
        with self._lock:
            self._kept[key] = days
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)


DAYS = _DaysCache()


def _days_sql(session: Session, campaign: Campaign) -> list[Day]:
    """Per day, the settled amounts of money contributions not reversed, summed by the
    database. PostgreSQL sums NUMERIC exactly; SQLite keeps amounts as text, so the
    integer part and the minor units are cut from the text and summed as integers
    (never as floating point). Every column read is in the covering index
    `ix_contributions_campaign_received_on_amount` (migration 0011): after each new gift
    this runs again, so it must not read the campaign's rows themselves."""
    live = Contribution.id.not_in(select(ContributionReversal.contribution_id))
    where = [Contribution.campaign_id == campaign.id, Contribution.item_id.is_(None), live]
    if session.get_bind().dialect.name != "sqlite":
        rows = session.execute(
            select(
                Contribution.received_on,
                func.sum(Contribution.settled_amount),
                func.count(),
            )
            .where(*where)
            .group_by(Contribution.received_on)
            .order_by(Contribution.received_on)
        )
        return [Day(on, total or ZERO, count) for on, total, count in rows]
    places = minor_units(campaign.currency)
    text = Contribution.settled_amount
    dot = func.instr(text, ".")
    # CAST of a text to INTEGER reads its leading digits: the whole part, exactly (and
    # all of a VND amount, which has no decimal places).
    whole = cast(text, Integer)
    cents: Any = None
    if places:
        # Pad the fraction to the currency's places: "12.5" USD is 12 and 50 cents.
        padded = func.substr(func.substr(text, dot + 1).op("||")("000000"), 1, places)
        cents = cast(case((dot > 0, padded), else_="0"), Integer)
    parts: Any = session.execute(
        select(
            Contribution.received_on,
            func.sum(whole),
            func.sum(cents) if places else func.sum(0),
            func.count(),
        )
        .where(*where)
        .group_by(Contribution.received_on)
        .order_by(Contribution.received_on)
    )
    scale = Decimal(10) ** -places
    return [
        Day(on, Decimal(units) + (Decimal(minor) * scale if places else 0), count)
        for on, units, minor, count in parts
    ]


def received_per_day(session: Session, campaign: Campaign) -> list[Day]:
    """Money received per day (by the date the bank or cashier received it)."""
    seq = session.scalar(select(LedgerHead.seq).where(LedgerHead.campaign_id == campaign.id)) or 0
    key = (str(session.get_bind().engine.url), campaign.id, seq)
    kept = DAYS.get(key)
    if kept is not None:
        return kept
    try:
        with session.begin_nested():  # a savepoint: a refused sum leaves the request's transaction
            days = _days_sql(session, campaign)
    except OperationalError as overflow:  # SQLite's integer sum past 2**63: add in Python
        if "overflow" not in str(overflow.orig):
            raise
        days = _days_python(session, campaign)
    DAYS.put(key, days)
    return days


def _days_python(session: Session, campaign: Campaign) -> list[Day]:
    live = Contribution.id.not_in(select(ContributionReversal.contribution_id))
    totals: dict[date, Day] = {}
    rows = session.execute(
        select(Contribution.received_on, Contribution.settled_amount).where(
            Contribution.campaign_id == campaign.id, Contribution.item_id.is_(None), live
        )
    )
    for on, settled in rows:
        day = totals.setdefault(on, Day(on, Decimal(0), 0))
        day.received += settled or ZERO
        day.count += 1
    return [totals[on] for on in sorted(totals)]


def _place(session: Session, place_id: str | None) -> Location | None:
    if not place_id:
        return None
    if not place_id.isascii() or not place_id.isdigit() or len(place_id) > 10:
        raise NotFound("place_not_found", f"No place has id {place_id!r}.")
    place = session.get(Location, int(place_id))
    if place is None:
        raise NotFound("place_not_found", f"No place has id {place_id!r}.")
    return place


def _within(place: Location | None) -> Any:
    """Locations at or below `place` (every location when it is None)."""
    if place is None:
        return Location.id.is_not(None)
    return (Location.id == place.id) | Location.ancestry.startswith(
        f"{place.ancestry}{place.id}/", autoescape=True
    )


def drill(session: Session, campaign: Campaign, place: Location | None) -> Drill:
    """Where the money and goods went: the places one level below `place` (provinces at
    the top), rolled up from the distribution, and the allocations made at or below it."""
    level = NEXT_LEVEL.get(place.level if place else None)
    if level is None:  # a village or a custom place: its own allocations only
        places = []
    else:
        rolled = distribution.distribution(session, campaign, level=level, as_of=None).places
        ids = {p.location_id for p in rolled}
        inside = set(
            session.scalars(select(Location.id).where(Location.id.in_(ids), _within(place)))
        )
        places = [p for p in rolled if p.location_id in inside]
    trail: list[Location] = []
    if place is not None:
        ancestors = [int(a) for a in place.ancestry.strip("/").split("/") if a]
        found = {
            loc.id: loc
            for loc in session.scalars(select(Location).where(Location.id.in_(ancestors)))
        }
        trail = [found[a] for a in ancestors if a in found]
    rows = session.execute(
        select(Allocation, Location.path, Item.name, Item.unit)
        .join(Location, Location.id == Allocation.location_id)
        .outerjoin(Item, Item.id == Allocation.item_id)
        .where(
            Allocation.campaign_id == campaign.id,
            Allocation.status != AllocationStatus.cancelled,
            _within(place),
        )
        .order_by(Allocation.id)
        .limit(ALLOCATIONS_SHOWN + 1)
    ).all()
    # Purpose, status, dates and amounts only: never the beneficiary, a note or evidence.
    allocations = [
        AllocationLine(
            place=path,
            purpose=allocation.purpose,
            status=allocation.status,
            allocated_on=allocation.allocated_on,
            delivered_on=allocation.delivered_on,
            amount=allocation.amount,
            item_name=item_name,
            unit=unit,
            quantity=allocation.quantity,
        )
        for allocation, path, item_name, unit in rows[:ALLOCATIONS_SHOWN]
    ]
    return Drill(place, trail, places, allocations, len(rows) > ALLOCATIONS_SHOWN)


def campaign_page(
    session: Session, code: str, place_id: str | None, language_day: Callable[[date], str]
) -> CampaignView:
    """Everything /c/{code} shows: drafts and unknown codes are the public API's 404."""
    campaign = public.get_campaign(session, code)
    detail = public.campaign_detail(session, campaign)
    own = _reconcile(session, campaign)
    kids = _public_children(session, campaign)
    children = [
        SubAppeal(k.code, k.title, k.status, (r.money if (r := _reconcile(session, k)) else None))
        for k in kids
    ]
    rolled_up = _roll_up(campaign, own, children, {k.code: k.currency for k in kids})
    parent = None
    if campaign.parent_id is not None:
        parent = session.scalar(
            select(Campaign).where(
                Campaign.id == campaign.parent_id, Campaign.status.in_(public.PUBLIC_STATUSES)
            )
        )
    place_name = None
    if campaign.location_id is not None:
        place_name = session.scalar(
            select(Location.name).where(Location.id == campaign.location_id)
        )
    return CampaignView(
        campaign=campaign,
        detail=detail,
        place=place_name,
        reconciliation=own,
        parent=parent,
        children=children,
        rolled_up=rolled_up,
        chart=chart(received_per_day(session, campaign), language_day),
        drill=drill(session, campaign, _place(session, place_id)),
    )


# The statement search (sao kê) ----------------------------------------------------------

_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


@dataclass
class SearchForm:
    """The search box as typed, and how it was read."""

    q: str = ""
    amount: str = ""
    date_from: str = ""
    date_to: str = ""
    ref: str = ""
    cursor: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    amount_value: Decimal | None = None
    from_value: date | None = None
    to_value: date | None = None

    @property
    def active(self) -> bool:
        return any((self.q, self.amount, self.date_from, self.date_to, self.ref))

    def api_query(self) -> dict[str, str]:
        """The same search as the public API's query (for its CSV download)."""
        fields = {
            "q": self.q,
            "min_amount": canonical(self.amount_value) if self.amount_value else "",
            "max_amount": canonical(self.amount_value) if self.amount_value else "",
            "received_from": self.from_value.isoformat() if self.from_value else "",
            "received_to": self.to_value.isoformat() if self.to_value else "",
            "bank_reference": self.ref,
            "format": "csv",
        }
        return {name: value for name, value in fields.items() if value}

    def query(self, **changes: str) -> dict[str, str]:
        """The form's fields as query parameters (for the next page and the CSV link)."""
        fields = {
            "q": self.q,
            "amount": self.amount,
            "from": self.date_from,
            "to": self.date_to,
            "ref": self.ref,
            **changes,
        }
        return {name: value for name, value in fields.items() if value}


def _day(text: str) -> date:
    """`2024-09-10` (a date field) or `10/09/2024` (typed the Vietnamese way)."""
    matched = _DMY.match(text)
    if matched:
        dd, mm, yyyy = (int(g) for g in matched.groups())
        return date(yyyy, mm, dd)
    return date.fromisoformat(text)


# Messages are keys into the page's catalog (app/pages/locale), filled in there.
def read_form(form: SearchForm, currency: str) -> SearchForm:
    """Read the typed fields strictly; each unreadable one gets an error message key."""
    for name in ("q", "amount", "date_from", "date_to", "ref"):
        value = getattr(form, name).strip()
        if len(value) > 200 or any(ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F for ch in value):
            form.errors[name] = "too_long"
            value = ""
        setattr(form, name, value)
    if form.amount:
        try:
            value = parse_amount(form.amount, currency, minor_units(currency))
        except ValueError:
            form.errors["amount"] = "amount_unreadable"
        else:
            if value <= 0:
                form.errors["amount"] = "amount_unreadable"
            else:
                form.amount_value = value
    for name, target in (("date_from", "from_value"), ("date_to", "to_value")):
        text = getattr(form, name)
        if text:
            try:
                setattr(form, target, _day(text))
            except ValueError:
                form.errors[name] = "date_unreadable"
    if form.from_value and form.to_value and form.from_value > form.to_value:
        form.errors["date_to"] = "dates_reversed"
    if form.cursor:
        try:
            decode_cursor(form.cursor)
        except Invalid:
            form.errors["cursor"] = "cursor_unreadable"
    return form


@dataclass
class StatementView:
    campaign: Campaign
    form: SearchForm
    rows: list[public_schemas.PublicContribution]
    next_cursor: str | None


def statement_page(session: Session, code: str, form: SearchForm) -> StatementView:
    """One page of the public statement, filtered as the public API filters it."""
    campaign = public.get_campaign(session, code)
    read_form(form, campaign.currency)
    if form.errors:
        return StatementView(campaign, form, [], None)
    where = public.StatementFilter(
        q=form.q or None,
        min_amount=form.amount_value,
        max_amount=form.amount_value,
        received_from=form.from_value,
        received_to=form.to_value,
        bank_reference=form.ref or None,
    )
    where.check(campaign)
    page = PageParams(
        limit=STATEMENT_PAGE, after_id=decode_cursor(form.cursor) if form.cursor else None
    )
    listed = paginate(
        session,
        public.statement(session, campaign, where),
        Contribution.id,
        page,
        public.render,
    )
    return StatementView(campaign, form, listed.items, listed.next_cursor)


# A receipt ------------------------------------------------------------------------------


@dataclass
class ReceiptView:
    receipt: public_schemas.PublicReceipt
    method: str | None
    checkpoint_size: int | None
    checkpoint_note: str | None
    proof: InclusionProof | None


def receipt_page(session: Session, receipt_code: str) -> ReceiptView:
    """A contribution by its receipt code, how it was received, and its proof once a
    signed checkpoint covers it."""
    if not RECEIPT_CODE.match(receipt_code):
        raise NotFound("receipt_not_found", f"No contribution has receipt code {receipt_code!r}.")
    receipt = public.receipt(session, receipt_code)
    method = session.scalar(
        select(Contribution.method).where(Contribution.receipt_code == receipt.receipt_code)
    )
    campaign = public.get_campaign(session, receipt.campaign.code)
    checkpoint = transparency.latest(session, campaign.id)
    return ReceiptView(
        receipt=receipt,
        method=method,
        checkpoint_size=checkpoint.size if checkpoint else None,
        checkpoint_note=transparency.note_text(session, checkpoint) if checkpoint else None,
        proof=receipt.proof,
    )
