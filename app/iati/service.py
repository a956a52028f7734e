"""A campaign as IATI 2.03 activities (`iati-activities`): the campaign and each of its
sub-appeals the key reaches, one `iati-activity` each, linked by `related-activity`.

Built in memory with the standard library's ElementTree (never by string concatenation):
a campaign's records are bounded, and the file is small next to its statement.

What goes where (docs/api.md, "IATI"):
- transactions by IATI's TransactionType codelist: 13 incoming pledge (pledges not
  cancelled), 1 incoming funds (contributions not reversed: a reversal corrects a mistake,
  so the reversed gift and its reversal are both left out), 2 outgoing commitment
  (allocations not cancelled, delivered ones included), 3 disbursement (deliveries);
  each `value` in its original currency, dated by its business date (`value-date`);
- money only: IATI values are money, so goods are described (an activity description of
  type 4, "other") with what was received, allocated and delivered of each item;
- donors by their public name (an anonymous donor's real name never leaves the service);
- places: every place allocated to, with the official codes of the units above it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from xml.etree import ElementTree as ET

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.allocations.models import Allocation, AllocationStatus
from app.campaigns.models import Campaign, CampaignStatus, campaign_relations
from app.config import Settings
from app.contributions.models import Contribution, ContributionReversal
from app.dates import VIETNAM
from app.donors.models import Donor
from app.items import service as item_service
from app.items.models import ASSET_PREFIX
from app.keys import scope
from app.ledger.books import kept_books
from app.locations import service as locations
from app.locations.models import Location
from app.money import canonical
from app.pledges.models import Pledge

IATI_VERSION = "2.03"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

# TransactionType codelist.
INCOMING_PLEDGE = "13"
INCOMING_FUNDS = "1"
OUTGOING_COMMITMENT = "2"
DISBURSEMENT = "3"
# ActivityStatus: a draft is in the pipeline, an open appeal is being implemented, a
# closed one takes no gifts but may still allocate and deliver (finalisation).
ACTIVITY_STATUS = {
    CampaignStatus.draft: "1",
    CampaignStatus.open: "2",
    CampaignStatus.closed: "3",
}
# ActivityDateType.
PLANNED_START, ACTUAL_START, PLANNED_END, ACTUAL_END = "1", "2", "3", "4"
# RelatedActivityType.
PARENT, CHILD = "1", "2"
# OrganisationRole: the unit that runs the appeal implements it.
IMPLEMENTING = "4"
# LocationReach 2: the place is where the beneficiaries are; LocationClass 1:
# administrative region, 2: populated place (a village).
BENEFICIARIES = "2"
ADMINISTRATIVE_REGION, POPULATED_PLACE = "1", "2"
# GeographicVocabulary A4 (ISO 3166-1 alpha-2) names the country at level 0. The codelist
# has no entry for Vietnam's official unit codes (the General Statistics Office's, as
# `relief locations import` loads them): they are given under "99", the code IATI's other
# vocabularies keep for the reporting organisation's own (docs/api.md, "IATI").
COUNTRY_VOCABULARY = "A4"
OFFICIAL_CODES_VOCABULARY = "99"
ADMIN_LEVEL = {"province": 1, "district": 2, "commune": 3}
# DescriptionType: 1 general, 4 other (the goods).
GENERAL, OTHER = "1", "4"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k.replace("_", "-"): v for k, v in attributes.items()})
    if text is not None:
        element.text = text
    return element


def _narratives(parent: ET.Element, tag: str, texts: dict[str, str], **attributes: str) -> None:
    """`<tag><narrative xml:lang=…>…</narrative>…</tag>`, one narrative per language."""
    element = _sub(parent, tag, **attributes)
    for lang, text in texts.items():
        ET.SubElement(element, "narrative", {XML_LANG: lang}).text = text


def _day(moment: datetime) -> date:
    return moment.astimezone(VIETNAM).date()


def identifier(settings: Settings, campaign_code: str) -> str:
    """The activity's IATI identifier: the reporting organisation's ref, then the code."""
    return f"{settings.iati_reporting_org_ref}-{campaign_code}"


def _tree(session: Session, campaign: Campaign) -> list[Campaign]:
    """The campaign and every sub-appeal below it that the key reaches, parents first."""
    found = [campaign]
    frontier = [campaign.id]
    while frontier:
        children = list(
            session.scalars(
                scope.within_reach(
                    session,
                    select(Campaign)
                    .where(Campaign.parent_id.in_(frontier))
                    .options(*campaign_relations())
                    .order_by(Campaign.id),
                    Campaign.unit_id,
                )
            ).unique()
        )
        found.extend(children)
        frontier = [child.id for child in children]
    return found


def _transaction(
    activity: ET.Element,
    kind: str,
    *,
    ref: str,
    day: date,
    amount: Decimal,
    currency: str,
    description: str | None = None,
    provider: str | None = None,
) -> None:
    transaction = _sub(activity, "transaction", ref=ref)
    _sub(transaction, "transaction-type", code=kind)
    _sub(transaction, "transaction-date", iso_date=day.isoformat())
    _sub(transaction, "value", canonical(amount), currency=currency, value_date=day.isoformat())
    if description:
        _narratives(transaction, "description", {"vi": description})
    if provider:
        _narratives(transaction, "provider-org", {"vi": provider})


def _location(activity: ET.Element, settings: Settings, lineage: list[Location]) -> None:
    place = lineage[-1]
    location = _sub(activity, "location", ref=f"{settings.iati_reporting_org_ref}-loc-{place.id}")
    _sub(location, "location-reach", code=BENEFICIARIES)
    _narratives(location, "name", {"vi": place.name})
    _narratives(location, "description", {"vi": place.path})
    _sub(location, "administrative", vocabulary=COUNTRY_VOCABULARY, level="0", code="VN")
    for unit in lineage:
        level = ADMIN_LEVEL.get(str(unit.level))
        if level is not None and unit.code:
            _sub(
                location,
                "administrative",
                vocabulary=OFFICIAL_CODES_VOCABULARY,
                level=str(level),
                code=unit.code,
            )
    official = str(place.level) in ADMIN_LEVEL
    _sub(location, "location-class", code=ADMINISTRATIVE_REGION if official else POPULATED_PLACE)


def _goods_lines(session: Session, campaign: Campaign) -> dict[str, str] | None:
    """What was received, allocated and delivered of each item, in Vietnamese and English."""
    books = kept_books(session, {campaign.id: campaign.currency})[campaign.id]
    goods = sorted((a, f) for a, f in books.goods.items() if not f.is_empty)
    if not goods:
        return None
    items = item_service.of_assets(session, [asset for asset, _ in goods])
    vi, en = [], []
    for asset, figures in goods:
        item = items[asset.removeprefix(ASSET_PREFIX)]
        received, allocated, delivered = (
            canonical(figures.received),
            canonical(figures.allocated),
            canonical(figures.delivered),
        )
        vi.append(
            f"{item.name}: đã nhận {received} {item.unit}, đã phân bổ {allocated} {item.unit}, "
            f"đã trao {delivered} {item.unit}."
        )
        en.append(
            f"{item.name} ({item.code}): received {received} {item.unit}, allocated "
            f"{allocated}, delivered {delivered}."
        )
    return {
        "vi": "Hàng hoá (không tính trong các giao dịch tiền): " + " ".join(vi),
        "en": "Goods (not in the money transactions): " + " ".join(en),
    }


def _donor_names(session: Session, donor_ids: Iterable[int]) -> dict[int, str]:
    ids = set(donor_ids)
    if not ids:
        return {}
    return {d.id: d.public_name for d in session.scalars(select(Donor).where(Donor.id.in_(ids)))}


def _activity(
    root: ET.Element,
    session: Session,
    settings: Settings,
    campaign: Campaign,
    children: list[Campaign],
) -> None:
    ref = identifier(settings, campaign.code)
    activity = _sub(
        root,
        "iati-activity",
        default_currency=campaign.currency,
        humanitarian="1",
        hierarchy="1" if campaign.parent_id is None else "2",
        last_updated_datetime=campaign.updated_at.astimezone(UTC).isoformat(timespec="seconds"),
    )
    activity.set(XML_LANG, "vi")
    _sub(activity, "iati-identifier", ref)
    _narratives(
        activity,
        "reporting-org",
        {"vi": settings.iati_reporting_org_name},
        ref=settings.iati_reporting_org_ref,
        type=settings.iati_reporting_org_type,
    )
    _narratives(activity, "title", {"vi": campaign.title})
    _narratives(
        activity,
        "description",
        {
            "vi": campaign.description or campaign.title,
            "en": f"Disaster-relief appeal ({campaign.kind}) run by {campaign.unit.name}; "
            f"campaign {campaign.code} in Relief Ledger.",
        },
        type=GENERAL,
    )
    goods = _goods_lines(session, campaign)
    if goods:
        _narratives(activity, "description", goods, type=OTHER)
    _narratives(activity, "participating-org", {"vi": campaign.unit.name}, role=IMPLEMENTING)
    _sub(activity, "activity-status", code=ACTIVITY_STATUS[CampaignStatus(campaign.status)])
    started = campaign.status != CampaignStatus.draft
    start = campaign.starts_on or _day(campaign.created_at)
    _sub(
        activity,
        "activity-date",
        type=ACTUAL_START if started else PLANNED_START,
        iso_date=start.isoformat(),
    )
    if campaign.ends_on:
        ended = campaign.status == CampaignStatus.closed
        _sub(
            activity,
            "activity-date",
            type=ACTUAL_END if ended else PLANNED_END,
            iso_date=campaign.ends_on.isoformat(),
        )
    _sub(activity, "recipient-country", code="VN")

    allocations = list(
        session.scalars(
            select(Allocation)
            .where(
                Allocation.campaign_id == campaign.id,
                Allocation.status != AllocationStatus.cancelled,
            )
            .order_by(Allocation.id)
        )
    )
    lineages = locations.lineages(session, {a.location_id for a in allocations})
    for location_id in sorted(lineages):
        _location(activity, settings, lineages[location_id])

    pledges = list(
        session.scalars(
            select(Pledge)
            .where(
                Pledge.campaign_id == campaign.id,
                Pledge.item_id.is_(None),
                Pledge.cancelled_at.is_(None),
            )
            .order_by(Pledge.id)
        )
    )
    contributions = list(
        session.scalars(
            select(Contribution)
            .outerjoin(ContributionReversal)
            .where(
                Contribution.campaign_id == campaign.id,
                Contribution.item_id.is_(None),
                ContributionReversal.id.is_(None),
            )
            .options(selectinload(Contribution.donor))
            .order_by(Contribution.id)
        )
    )
    names = _donor_names(session, (p.donor_id for p in pledges))
    for pledge in pledges:
        assert pledge.amount is not None and pledge.currency is not None  # money only
        _transaction(
            activity,
            INCOMING_PLEDGE,
            ref=f"{ref}-pledge-{pledge.id}",
            day=_day(pledge.created_at),
            amount=pledge.amount,
            currency=pledge.currency,
            provider=names.get(pledge.donor_id),
        )
    for contribution in contributions:
        assert contribution.amount is not None and contribution.currency is not None
        _transaction(
            activity,
            INCOMING_FUNDS,
            ref=f"{ref}-contribution-{contribution.id}",
            day=contribution.received_on,
            amount=contribution.amount,
            currency=contribution.currency,
            provider=contribution.donor.public_name if contribution.donor else None,
        )
    money = [a for a in allocations if a.item_id is None]
    for allocation in money:
        assert allocation.amount is not None
        place = lineages[allocation.location_id][-1]
        _transaction(
            activity,
            OUTGOING_COMMITMENT,
            ref=f"{ref}-allocation-{allocation.id}",
            day=allocation.allocated_on,
            amount=allocation.amount,
            currency=allocation.currency or campaign.currency,
            description=f"{allocation.purpose} — {place.path}",
        )
    for allocation in money:
        if allocation.delivered_on is None:
            continue
        assert allocation.amount is not None
        place = lineages[allocation.location_id][-1]
        _transaction(
            activity,
            DISBURSEMENT,
            ref=f"{ref}-delivery-{allocation.id}",
            day=allocation.delivered_on,
            amount=allocation.amount,
            currency=allocation.currency or campaign.currency,
            description=f"{allocation.purpose} — {place.path}",
        )

    if campaign.parent is not None:
        _sub(
            activity,
            "related-activity",
            ref=identifier(settings, campaign.parent.code),
            type=PARENT,
        )
    for child in children:
        _sub(activity, "related-activity", ref=identifier(settings, child.code), type=CHILD)


def activities(session: Session, campaign: Campaign, settings: Settings) -> bytes:
    """The campaign and its sub-appeals (those the key reaches) as one IATI 2.03
    `iati-activities` document, UTF-8 with its XML declaration."""
    campaigns = _tree(session, campaign)
    root = ET.Element(
        "iati-activities",
        {
            "version": IATI_VERSION,
            "generated-datetime": datetime.now(UTC).isoformat(timespec="seconds"),
        },
    )
    for each in campaigns:
        children = [c for c in campaigns if c.parent_id == each.id]
        _activity(root, session, settings, each, children)
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document
