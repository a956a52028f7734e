"""Campaign rules: codes are unique, status moves draft → open → closed, and every
change is also recorded in the campaign's ledger chain so a reconciliation as of any
moment shows the campaign as it was then."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, inspect, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.interfaces import ORMOption

from app.campaigns.models import Campaign, CampaignKind, CampaignStatus, campaign_relations
from app.campaigns.schemas import CampaignCreate, CampaignUpdate
from app.db import utcnow
from app.errors import Conflict, DomainError, Invalid, NotFound
from app.keys import scope
from app.ledger import service as ledger
from app.locations import service as locations
from app.money import canonical, check_amount, is_known_currency
from app.units import service as units
from app.units.models import Unit

ALLOWED_TRANSITIONS = {
    CampaignStatus.draft: {CampaignStatus.open},
    CampaignStatus.open: {CampaignStatus.closed},
    CampaignStatus.closed: set(),
}


def get_by_code(session: Session, code: str) -> Campaign:
    """The campaign with this code, if the caller's key reaches its unit (404 otherwise)."""
    stmt = (
        select(Campaign, Campaign.unit_id)
        .where(Campaign.code == code)
        .options(*campaign_relations())
    )
    absent = NotFound("campaign_not_found", f"No campaign has code {code!r}.")
    return scope.get_reachable(session, stmt, absent)


R = TypeVar("R")


def get_record(
    session: Session,
    model: type[R],
    record_id: int,
    absent: DomainError,
    *,
    load: Sequence[ORMOption] = (),
) -> R:
    """A record that belongs to a campaign (a pledge, contribution, allocation …), if the
    caller's key reaches the campaign's unit; `absent` otherwise, as for a missing id."""
    columns: Any = model  # a mapped class with `id` and `campaign_id`
    stmt = (
        select(model, Campaign.unit_id)
        .join(Campaign, Campaign.id == columns.campaign_id)
        .where(columns.id == record_id)
        .options(*load)
    )
    return scope.get_reachable(session, stmt, absent)


def snapshot(campaign: Campaign) -> dict[str, Any]:
    """What the reconciliation shows of a campaign; recorded in the chain on every change."""
    return {
        "code": campaign.code,
        "title": campaign.title,
        "currency": campaign.currency,
        "status": str(campaign.status),
        "target_amount": canonical(campaign.target_amount) if campaign.target_amount else None,
    }


def _check_target(campaign_currency: str, target: Any) -> None:
    if target is not None:
        check_amount(target, campaign_currency, "target_amount")


def create(session: Session, *, campaign_in: CampaignCreate) -> Campaign:
    """Record a new campaign in `draft`, and open its ledger chain."""
    if not is_known_currency(campaign_in.currency):
        raise Invalid.field(
            "currency",
            "unknown_currency",
            f"{campaign_in.currency} is not an ISO 4217 currency in use",
        )
    _check_target(campaign_in.currency, campaign_in.target_amount)
    if session.scalar(select(Campaign.id).where(Campaign.code == campaign_in.code)):
        raise Conflict("campaign_code_taken", f"A campaign with code {campaign_in.code!r} exists.")
    parent = None
    if campaign_in.parent_code:
        parent = session.scalars(
            select(Campaign).where(Campaign.code == campaign_in.parent_code)
        ).one_or_none()
        if parent is None or not scope.reaches_unit(session, parent.unit_id):
            raise Invalid.field(
                "parent_code",
                "campaign_not_found",
                f"no campaign has code {campaign_in.parent_code!r}",
            )
        if parent.currency != campaign_in.currency:
            raise Invalid.field(
                "currency",
                "parent_currency_mismatch",
                f"a sub-campaign must use its parent's currency ({parent.currency})",
            )
    if campaign_in.location_id is not None:
        locations.referenced(session, campaign_in.location_id)
    if parent is not None and campaign_in.unit_code is None:
        unit = session.get_one(
            Unit, parent.unit_id
        )  # a sub-campaign's unit defaults to its parent's
    else:
        unit = scope.acting_unit(session, campaign_in.unit_code)
    if parent is not None:
        require_within_parent_unit(session, parent, unit)
    now = utcnow()
    campaign = Campaign(
        code=campaign_in.code,
        title=campaign_in.title,
        kind=CampaignKind(campaign_in.kind),
        currency=campaign_in.currency,
        target_amount=campaign_in.target_amount,
        starts_on=campaign_in.starts_on,
        ends_on=campaign_in.ends_on,
        location_id=campaign_in.location_id,
        parent=parent,
        unit_id=unit.id,
        unit=unit,
        description=campaign_in.description,
        status=CampaignStatus.draft,
        created_at=now,
        updated_at=now,
    )
    session.add(campaign)
    session.flush()
    head = ledger.open_books(session, campaign.id)
    ledger.post_entry(
        session, head, kind="campaign_created", detail={"campaign": snapshot(campaign)}
    )
    return campaign


def require_within_parent_unit(session: Session, parent: Campaign, unit: Unit) -> None:
    """A sub-campaign belongs to its parent's unit or a unit below it, so whoever sees a
    roll-up of the parent is entitled to every figure in it (409 otherwise)."""
    parent_path = units.path_of(session, parent.unit_id)
    if not unit.path.startswith(parent_path):
        raise Conflict(
            "sub_campaign_outside_parent_unit",
            f"A sub-campaign of {parent.code!r} must belong to its unit or a unit below it; "
            f"{unit.code!r} is not.",
        )


def update(session: Session, campaign: Campaign, *, changes: CampaignUpdate) -> Campaign:
    """Apply an officer's changes; a status change must follow draft → open → closed."""
    head = ledger.lock(session, campaign.id)
    session.refresh(campaign)
    fields = changes.model_dump(exclude_unset=True)
    for name in ("title", "status"):
        if name in fields and fields[name] is None:
            raise Invalid.field(name, "value_required", f"{name} cannot be null")
    if "status" in fields and fields["status"] != campaign.status:
        new_status = CampaignStatus(fields["status"])
        if new_status not in ALLOWED_TRANSITIONS[campaign.status]:
            raise Conflict(
                "illegal_status_transition",
                f"A campaign that is {campaign.status} cannot become {new_status}.",
            )
    _check_target(campaign.currency, fields.get("target_amount"))
    if fields.get("location_id") is not None:
        locations.referenced(session, fields["location_id"])
    starts_on = fields.get("starts_on", campaign.starts_on)
    ends_on = fields.get("ends_on", campaign.ends_on)
    if starts_on and ends_on and ends_on < starts_on:
        raise Invalid.field("ends_on", "dates_out_of_order", "ends_on must not be before starts_on")
    changed = {k: v for k, v in fields.items() if getattr(campaign, k) != v}
    if not changed:
        return campaign
    for name, value in changed.items():
        setattr(campaign, name, value)
    campaign.updated_at = utcnow()
    session.flush()
    ledger.post_entry(
        session,
        head,
        kind="campaign_updated",
        detail={"campaign": snapshot(campaign), "changed": sorted(changed)},
    )
    return campaign


def reread(session: Session, campaign: Campaign) -> None:
    """Read the campaign's own columns again, as committed before the caller took the ledger
    lock (a concurrent PATCH may have closed it); its parent and unit cannot change."""
    session.refresh(campaign, _COLUMNS)


_COLUMNS = [column.key for column in inspect(Campaign).column_attrs]


def require_status(campaign: Campaign, allowed: set[CampaignStatus], action: str) -> None:
    if campaign.status not in allowed:
        names = " or ".join(sorted(str(s) for s in allowed))
        raise Conflict(
            "campaign_not_accepting",
            f"Campaign {campaign.code!r} is {campaign.status}; {action} needs it to be {names}.",
        )


def descendants(session: Session, campaign: Campaign) -> list[Campaign]:
    """Every sub-campaign below `campaign` that the caller may see (`visible`), breadth
    first, in id order per level: a roll-up never shows another unit's campaign."""
    found: list[Campaign] = []
    level = [campaign.id]
    while level:
        children = list(
            session.scalars(
                select(Campaign).where(Campaign.parent_id.in_(level)).order_by(Campaign.id)
            )
        )
        found += children
        level = [child.id for child in children]
    return visible(session, found)


def visible(session: Session, found: list[Campaign]) -> list[Campaign]:
    """The campaigns among `found` whose unit the caller's key reaches (sub-campaigns made
    in another unit before that was refused are left out of a roll-up, not leaked)."""
    return [c for c in found if scope.reaches_unit(session, c.unit_id)]


def search(
    session: Session, *, status: CampaignStatus | None, parent_code: str | None
) -> Select[Campaign]:
    """The campaigns the caller's key reaches, filtered."""
    stmt = scope.within_reach(
        session, select(Campaign).options(*campaign_relations()), Campaign.unit_id
    )
    if status is not None:
        stmt = stmt.where(Campaign.status == status)
    if parent_code is not None:
        parent_ids = select(Campaign.id).where(Campaign.code == parent_code).scalar_subquery()
        stmt = stmt.where(Campaign.parent_id == parent_ids)
    return stmt
