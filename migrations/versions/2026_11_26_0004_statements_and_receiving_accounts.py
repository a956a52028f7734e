"""statements and receiving accounts: a contribution keeps its statement description;
campaigns register their official receiving bank accounts

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 06:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "receiving_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("bank", sa.String(length=200), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("holder", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_receiving_accounts_campaign_id_campaigns"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receiving_accounts")),
        sa.UniqueConstraint(
            "campaign_id", "number", name=op.f("uq_receiving_accounts_campaign_id_number")
        ),
    )
    with op.batch_alter_table("receiving_accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_receiving_accounts_number"), ["number"], unique=False)

    with op.batch_alter_table("contributions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("description", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("description_folded", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contributions", schema=None) as batch_op:
        batch_op.drop_column("description_folded")
        batch_op.drop_column("description")

    with op.batch_alter_table("receiving_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_receiving_accounts_number"))
    op.drop_table("receiving_accounts")
