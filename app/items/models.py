"""Items: kinds of goods, each counted in one unit (60 `breeding-goat`, 2,500 kg of `rice`)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from app.db import Amount, Base, UTCDateTime, utcnow
from app.text import fold

ASSET_PREFIX = "item:"

# What a unit says about its quantities, keyed by the folded unit (`fold`: no case, no
# diacritics): counted units take whole numbers (1.5 con is a mistake), measured units up
# to three decimals (a kilogram to the gram). A new item must name one of them.
COUNTED_UNITS = frozenset(
    {
        "con",
        "bo",
        "thung",
        "chiec",
        "cai",
        "goi",
        "hop",
        "bao",
        "tui",
        "chai",
        "lon",
        "thanh",
        "quyen",
        "doi",
        "tam",
        "cuon",
        "vi",
        "suat",
        "phan",
        "kien",
        "cay",
        "qua",
        "piece",
        "box",
        "set",
    }
)
MEASURED_UNITS = frozenset(
    {"kg", "g", "gam", "tan", "ta", "yen", "lit", "l", "ml", "m", "met", "m2", "m3", "khoi"}
)
MEASURED_DECIMALS = 3


def quantity_decimals(unit: str) -> int:
    """How many decimals a quantity of `unit` may have: 0 counted, 3 measured. Items recorded
    before units were checked may have another unit: they are measured."""
    return 0 if fold(unit).strip() in COUNTED_UNITS else MEASURED_DECIMALS


class Item(Base):
    """Never renamed or deleted: ledger entries name items by code."""

    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # Lower-case, diacritics removed: what `?q=` searches.
    name_folded: Mapped[str] = mapped_column(String(200), index=True)
    unit: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def asset(self) -> str:
        """The item as a ledger asset: `item:breeding-goat`."""
        return f"{ASSET_PREFIX}{self.code}"

    @property
    def quantity_decimals(self) -> int:
        return quantity_decimals(self.unit)


def money_or_goods_check() -> CheckConstraint:
    """Exactly one of money (`amount` + `currency`) or goods (`item_id` + `quantity`)."""
    return CheckConstraint(
        "(item_id IS NULL AND quantity IS NULL AND amount IS NOT NULL AND currency IS NOT NULL)"
        " OR (item_id IS NOT NULL AND quantity IS NOT NULL AND amount IS NULL AND currency IS NULL)",
        name="money_or_goods",
    )


class MoneyOrGoods:
    """Columns of a record that holds either money or goods (a pledge, an allocation, a
    contribution), and the one size and ledger asset its rules work with."""

    amount: Mapped[Decimal | None] = mapped_column(Amount())
    currency: Mapped[str | None] = mapped_column(String(3))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), index=True)
    quantity: Mapped[Decimal | None] = mapped_column(Amount())

    @declared_attr
    def item(cls) -> Mapped[Item | None]:
        return relationship(Item, lazy="raise")

    @property
    def kind(self) -> str:
        return "money" if self.item_id is None else "goods"

    @property
    def item_code(self) -> str | None:
        return self.item.code if self.item else None

    @property
    def size(self) -> Decimal:
        """An amount of money, or a quantity of goods."""
        size = self.amount if self.item_id is None else self.quantity
        assert size is not None  # the money_or_goods check constraint
        return size

    @property
    def asset(self) -> str:
        """The ledger asset: the currency, or `item:<code>`."""
        if self.item is not None:
            return self.item.asset
        assert self.currency is not None
        return self.currency
