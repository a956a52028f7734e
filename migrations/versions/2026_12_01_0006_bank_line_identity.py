"""bank line identity: a fingerprint of what the bank says about each imported line

A statement line is booked once, and every real line is booked: its identity is the whole
line (date, time, document and reference numbers, amount, message), not the document
number, which real statements repeat for different gifts. Contributions imported before
this revision keep a NULL fingerprint and are matched by bank reference, date and amount.

Every contribution already has a receipt code (NOT NULL since 0001, imported ones
included): the backfill below only guards a database edited by hand.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 02:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contributions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("line_fingerprint", sa.String(length=32), nullable=True))
        batch_op.create_index(
            "ix_contributions_line_fingerprint", ["line_fingerprint"], unique=False
        )
    # 'RL-' and the id: never one of the random 'RL-XXXXX-XXXXX' codes, so still unique.
    contributions = sa.table("contributions", sa.column("id"), sa.column("receipt_code"))
    op.execute(
        contributions.update()
        .where(sa.or_(contributions.c.receipt_code.is_(None), contributions.c.receipt_code == ""))
        .values(receipt_code=sa.literal("RL-") + sa.cast(contributions.c.id, sa.String))
    )


def downgrade() -> None:
    with op.batch_alter_table("contributions", schema=None) as batch_op:
        batch_op.drop_index("ix_contributions_line_fingerprint")
        batch_op.drop_column("line_fingerprint")
