"""allocated_on: an allocation's business date

The reconciliation's `until` cuts allocations by the day they were allocated, and a
delivery may not be dated before it. Existing allocations get the Vietnamese date of
their recording time (the only date they had).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 02:40:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime
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
        sa.column("allocated_on", sa.Date()),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(allocations.c.id, allocations.c.created_at)).all()
    for allocation_id, created_at in rows:
        if isinstance(created_at, str):  # SQLite hands back text
            created_at = datetime.fromisoformat(created_at)
        if created_at.tzinfo is None:
            created_at = created_at.replace(tzinfo=UTC)
        connection.execute(
            allocations.update()
            .where(allocations.c.id == allocation_id)
            .values(allocated_on=created_at.astimezone(VIETNAM).date())
        )
    with op.batch_alter_table("allocations", schema=None) as batch_op:
        batch_op.alter_column("allocated_on", existing_type=sa.Date(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("allocations", schema=None) as batch_op:
        batch_op.drop_column("allocated_on")
