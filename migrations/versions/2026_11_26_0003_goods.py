"""goods: items, and money-or-goods pledges, contributions and allocations

A pledge, contribution or allocation holds either money (amount, currency) or goods
(item_id, quantity); a check constraint refuses anything in between. Existing rows are
all money, so they satisfy it unchanged.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 06:04:20.341024
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AMOUNT = sa.Numeric().with_variant(sa.String(64), "sqlite")

MONEY_OR_GOODS = (
    "(item_id IS NULL AND quantity IS NULL AND amount IS NOT NULL AND currency IS NOT NULL)"
    " OR (item_id IS NOT NULL AND quantity IS NOT NULL AND amount IS NULL AND currency IS NULL)"
)
CONTRIBUTION_MONEY_OR_GOODS = (
    "(item_id IS NULL AND quantity IS NULL AND estimated_value IS NULL"
    " AND amount IS NOT NULL AND currency IS NOT NULL AND settled_amount IS NOT NULL"
    " AND method IS NOT NULL)"
    " OR (item_id IS NOT NULL AND quantity IS NOT NULL"
    " AND amount IS NULL AND currency IS NULL AND settled_amount IS NULL AND fx_rate IS NULL)"
)
# Columns a goods row leaves empty, per table.
MONEY_COLUMNS = {
    "pledges": {"amount": AMOUNT, "currency": sa.String(3)},
    "allocations": {"amount": AMOUNT, "currency": sa.String(3)},
    "contributions": {
        "amount": AMOUNT,
        "currency": sa.String(3),
        "settled_amount": AMOUNT,
        "method": sa.String(20),
    },
}


def upgrade() -> None:
    op.create_table(
        "items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_folded", sa.String(length=200), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_items")),
        sa.UniqueConstraint("code", name=op.f("uq_items_code")),
    )
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_items_name_folded"), ["name_folded"], unique=False)

    for table, money_columns in MONEY_COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("item_id", sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column("quantity", AMOUNT, nullable=True))
            if table == "contributions":
                batch_op.add_column(sa.Column("estimated_value", AMOUNT, nullable=True))
            for column, type_ in money_columns.items():
                batch_op.alter_column(column, existing_type=type_, nullable=True)
            batch_op.create_index(batch_op.f(f"ix_{table}_item_id"), ["item_id"], unique=False)
            batch_op.create_foreign_key(
                batch_op.f(f"fk_{table}_item_id_items"), "items", ["item_id"], ["id"]
            )
            batch_op.create_check_constraint(
                "money_or_goods",
                CONTRIBUTION_MONEY_OR_GOODS if table == "contributions" else MONEY_OR_GOODS,
            )


def downgrade() -> None:
    for table, money_columns in MONEY_COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f"ck_{table}_money_or_goods"), type_="check")
            batch_op.drop_constraint(batch_op.f(f"fk_{table}_item_id_items"), type_="foreignkey")
            batch_op.drop_index(batch_op.f(f"ix_{table}_item_id"))
            for column, type_ in money_columns.items():
                batch_op.alter_column(column, existing_type=type_, nullable=False)
            if table == "contributions":
                batch_op.drop_column("estimated_value")
            batch_op.drop_column("quantity")
            batch_op.drop_column("item_id")

    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_items_name_folded"))
    op.drop_table("items")
