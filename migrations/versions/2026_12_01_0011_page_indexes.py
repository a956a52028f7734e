"""page indexes: the campaign chart and the statement's amount search without a scan

The campaign page's chart sums money received per day (`app/pages/service.py`
`received_per_day`); after every new gift that sum is recomputed over the whole campaign.
`ix_contributions_campaign_received_on_amount` holds every column it reads (campaign,
day, money or goods, settled amount), so the database answers from the index alone,
in day order. `ix_contributions_campaign_settled_amount` answers the statement's amount
filter (`?amount=500.000`, `min_amount`/`max_amount` of the public API) on PostgreSQL
with a range of the index instead of a scan of the campaign's contributions.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 07:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_contributions_campaign_received_on_amount",
        "contributions",
        ["campaign_id", "received_on", "item_id", "settled_amount"],
    )
    op.create_index(
        "ix_contributions_campaign_settled_amount",
        "contributions",
        ["campaign_id", "settled_amount"],
    )


def downgrade() -> None:
    op.drop_index("ix_contributions_campaign_settled_amount", table_name="contributions")
    op.drop_index("ix_contributions_campaign_received_on_amount", table_name="contributions")
