"""Item rules: a code is taken once and never changes, because the ledger names items by code."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.errors import Conflict, Invalid, NotFound
from app.items.models import (
    ASSET_PREFIX,
    COUNTED_UNITS,
    MEASURED_UNITS,
    Item,
    quantity_decimals,
)
from app.items.schemas import ItemCreate
from app.money import canonical, decimal_places
from app.text import fold


def get_by_code(session: Session, code: str) -> Item:
    item = session.scalars(select(Item).where(Item.code == code)).one_or_none()
    if item is None:
        raise NotFound("item_not_found", f"No item has code {code!r}.")
    return item


def referenced(session: Session, code: str, *, field: str = "item_code") -> Item:
    """An item named in a request body: unknown codes are a 422 on that field."""
    item = session.scalars(select(Item).where(Item.code == code)).one_or_none()
    if item is None:
        raise Invalid.field(field, "item_not_found", f"no item has code {code!r}")
    return item


def _check_unit(unit: str) -> None:
    folded = fold(unit).strip()
    if folded not in COUNTED_UNITS and folded not in MEASURED_UNITS:
        raise Invalid.field(
            "unit",
            "unit_unknown",
            f"{unit!r} is not a unit we know: counted ({', '.join(sorted(COUNTED_UNITS))}) "
            f"or measured ({', '.join(sorted(MEASURED_UNITS))})",
        )


def create(session: Session, *, item_in: ItemCreate) -> Item:
    """Record a kind of goods and the unit it is counted in."""
    _check_unit(item_in.unit)
    if session.scalar(select(Item.id).where(Item.code == item_in.code)):
        raise Conflict("item_code_taken", f"An item with code {item_in.code!r} exists.")
    item = Item(
        code=item_in.code,
        name=item_in.name,
        name_folded=fold(item_in.name),
        unit=item_in.unit,
    )
    session.add(item)
    session.flush()
    return item


def search(*, q: str | None) -> Select[Item]:
    stmt = select(Item)
    if q:
        folded = fold(q)
        stmt = stmt.where(
            Item.name_folded.contains(folded, autoescape=True)
            | Item.code.contains(folded, autoescape=True)
        )
    return stmt


def money_or_goods(
    session: Session,
    *,
    amount: Decimal | None,
    item_code: str | None,
    quantity: Decimal | None,
    money_only: Mapping[str, object] = {},
) -> Item | None:
    """The item of a goods form, or None for a money form; anything in between is a 422.

    `money_only` names the fields a goods form must leave out (currency, bank_reference, …).
    """
    if item_code is None:
        if quantity is not None:
            raise Invalid.field(
                "item_code", "item_code_required", "quantity is for goods: name their item_code"
            )
        if amount is None:
            raise Invalid.field(
                "amount",
                "amount_required",
                "give amount (money), or item_code and quantity (goods)",
            )
        return None
    if amount is not None:
        raise Invalid.field(
            "amount", "money_and_goods", "a record holds money or goods, not both: drop amount"
        )
    for field, value in money_only.items():
        if value is not None:
            raise Invalid.field(field, "not_for_goods", f"{field} is for money, not goods")
    if quantity is None:
        raise Invalid.field("quantity", "quantity_required", "goods need a quantity")
    item = referenced(session, item_code)
    decimals = quantity_decimals(item.unit)
    if decimals == 0 and decimal_places(quantity.normalize()) > 0:
        raise Invalid.field(
            "quantity",
            "quantity_not_whole",
            f"{item.code} is counted in whole {item.unit}: {canonical(quantity)} is not a whole number",
        )
    if decimal_places(quantity) > decimals:
        raise Invalid.field(
            "quantity",
            "quantity_precision_exceeded",
            f"{item.code} is measured in {item.unit}: at most {decimals} decimal places",
        )
    return item


def of_assets(session: Session, assets: Iterable[str]) -> dict[str, Item]:
    """The items behind ledger assets (`item:<code>`), by code, in one query."""
    codes = [asset.removeprefix(ASSET_PREFIX) for asset in assets if asset.startswith(ASSET_PREFIX)]
    return {item.code: item for item in session.scalars(select(Item).where(Item.code.in_(codes)))}
