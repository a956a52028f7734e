"""allocated_on: an allocation's business date

The reconciliation's `until` cuts allocations by the day they were allocated, and a
delivery may not be dated before it. Existing allocations get the Vietnamese date of
their recording time (the only date they had), or their delivery date when that is
earlier (2022 deliveries recorded later were allocated by the day they arrived).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 02:40:00
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def upgrade() -> None:
    with op.batch_alter_table("allocations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("allocated_on", sa.Date(), nullable=True))
    allocations = sa.table(
        "allocations",
        sa.column("id", sa.Integer()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("delivered_on", sa.Date()),
        sa.column("allocated_on", sa.Date()),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(allocations.c.id, allocations.c.created_at, allocations.c.delivered_on)
    ).all()
    for allocation_id, created_at, delivered_on in rows:
        if isinstance(created_at, str):  # SQLite hands back text
            created_at = datetime.fromisoformat(created_at)
        if created_at.tzinfo is None:
            created_at = created_at.replace(tzinfo=UTC)
        if isinstance(delivered_on, str):
            delivered_on = date.fromisoformat(delivered_on)
        allocated_on = created_at.astimezone(VIETNAM).date()
        if delivered_on is not None and delivered_on < allocated_on:
            allocated_on = delivered_on
        connection.execute(
            allocations.update()
            .where(allocations.c.id == allocation_id)
            .values(allocated_on=allocated_on)
        )
    with op.batch_alter_table("allocations", schema=None) as batch_op:
        batch_op.alter_column("allocated_on", existing_type=sa.Date(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("allocations", schema=None) as batch_op:
        batch_op.drop_column("allocated_on")
