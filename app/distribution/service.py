"""Distribution: allocations rolled up the location tree to one level.

Read from the ledger's kept balances (one `allocated:` and one `delivered:` account per
location and asset), so its cost does not grow with the number of allocations. A
commune's delivery counts for its district and its province: each place is mapped to
its ancestor at the requested level, and places with no ancestor there keep their line.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import hxl
from app.allocations import service as allocations
from app.campaigns.models import Campaign
from app.dates import not_in_future
from app.distribution import schemas
from app.items import service as item_service
from app.items.models import ASSET_PREFIX
from app.ledger import service as ledger
from app.ledger.books import Books, Figures, checked_as_of, read_books
from app.ledger.chain import rfc3339
from app.locations import service as locations
from app.locations.models import Location, LocationLevel
from app.money import canonical
from app.text import csv_rows

ZERO = Decimal(0)


def _places(
    session: Session, location_ids: set[int], level: LocationLevel | None
) -> dict[int, Location]:
    """Each place mapped to the place its figures count for: its ancestor at `level`, or
    itself when it has none (or no level is asked for). Three queries at most."""
    places = {
        place.id: place
        for place in session.scalars(select(Location).where(Location.id.in_(location_ids)))
    }
    if level is None:
        return places
    at_level = locations.ancestors_at_level(session, location_ids, level)
    return {loc: at_level.get(loc) or place for loc, place in places.items()}


def distribution(
    session: Session,
    campaign: Campaign,
    *,
    level: LocationLevel | None,
    as_of: datetime | None,
    until: date | None = None,
) -> schemas.Distribution:
    """Money and goods allocated and delivered per place, rolled up to `level`; with
    `until`, only what was allocated (and delivered) on or before that day counts."""
    as_of = checked_as_of(as_of)
    balances = ledger.balances(session, campaign.id, as_of=as_of)
    if until is None:
        books = read_books(balances.accounts, campaign.currency)
    else:
        not_in_future(until, "until")
        books = Books(campaign.currency)
        allocations.add_until(session, campaign.id, books, until=until, as_of=as_of)
    assets: dict[str, Figures] = {campaign.currency: books.money, **books.goods}
    location_ids = {
        loc
        for figures in assets.values()
        for loc in (*figures.open_allocations, *figures.deliveries)
    }
    counts_for = _places(session, location_ids, level)
    # place id → asset → [allocated, delivered]
    totals: dict[int, dict[str, list[Decimal]]] = defaultdict(
        lambda: defaultdict(lambda: [ZERO, ZERO])
    )
    for asset, figures in assets.items():
        for loc, amount in figures.open_allocations.items():
            totals[counts_for[loc].id][asset][0] += amount
        for loc, amount in figures.deliveries.items():
            into = totals[counts_for[loc].id][asset]
            into[0] += amount  # delivered was allocated too
            into[1] += amount
    items = item_service.of_assets(session, books.goods)
    places_by_id = {place.id: place for place in counts_for.values()}
    places = []
    for place_id in sorted(totals):
        per_asset = totals[place_id]
        if not any(allocated for allocated, _ in per_asset.values()):
            continue  # everything allocated here was cancelled
        allocated, delivered = per_asset.get(campaign.currency, [ZERO, ZERO])
        goods = [
            schemas.GoodsAtPlace(
                item_code=(code := asset.removeprefix(ASSET_PREFIX)),
                item_name=items[code].name,
                unit=items[code].unit,
                allocated=canonical(amounts[0]),
                delivered=canonical(amounts[1]),
            )
            for asset, amounts in sorted(per_asset.items())
            if asset != campaign.currency and amounts[0] != 0
        ]
        place = places_by_id[place_id]
        places.append(
            schemas.Place(
                location_id=place.id,
                location_name=place.name,
                path=place.path,
                level=place.level,
                money=schemas.MoneyAtPlace(
                    allocated=canonical(allocated), delivered=canonical(delivered)
                ),
                goods=goods,
            )
        )
    moment = as_of or balances.recorded_at
    assert moment is not None  # every campaign's chain starts with its creation
    return schemas.Distribution(
        campaign_code=campaign.code,
        currency=campaign.currency,
        level=level,
        as_of=rfc3339(moment),
        until=until.isoformat() if until else None,
        places=places,
    )


# Distribution as CSV or HXL (`app.hxl`): one row per place and asset, money in `#value`,
# goods' quantities in `#item +num`.
HXL_COLUMNS = (
    hxl.Column("as_of", "#date +reported"),
    *hxl.PLACE,
    hxl.Column("currency", "#currency"),
    hxl.Column("allocated", "#value +allocated"),
    hxl.Column("delivered", "#value +delivered"),
    *hxl.GOODS,
    hxl.Column("allocated_quantity", "#item +num +allocated"),
    hxl.Column("delivered_quantity", "#item +num +delivered"),
)


def export(session: Session, figures: schemas.Distribution, *, as_hxl: bool) -> Iterator[str]:
    """`figures` (from `distribution`) as CSV or HXL through `app.text.csv_rows`. A
    campaign's places are few (bounded by the location tree): they are read at once."""
    lineages = locations.lineages(session, {place.location_id for place in figures.places})
    rows: list[dict[str, Any]] = []
    for place in figures.places:
        cells = {"as_of": figures.as_of, **locations.hxl_place(lineages[place.location_id])}
        if place.money.allocated != "0":
            rows.append(
                {
                    **cells,
                    "currency": figures.currency,
                    "allocated": place.money.allocated,
                    "delivered": place.money.delivered,
                }
            )
        rows.extend(
            {
                **cells,
                "item_code": goods.item_code,
                "item_name": goods.item_name,
                "unit": goods.unit,
                "allocated_quantity": goods.allocated,
                "delivered_quantity": goods.delivered,
            }
            for goods in place.goods
        )
    columns = hxl.names(HXL_COLUMNS)
    if as_hxl:
        return csv_rows(columns, [rows], hashtags=hxl.hashtags(HXL_COLUMNS))
    return csv_rows(columns, [rows])
