"""location tree: stored ancestry, depth and path; custom names unique per parent and level

Existing locations get their ancestry ("/" for a root, "/1/5/" under 1 › 5), depth and
path (names from the root down, joined by " › ") computed here. The upgrade fails if two
existing locations without a code, under one parent at one level, have the same folded
name: merge them first.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 06:04:51.599625
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PATH_SEPARATOR = " › "


def backfill_lineage() -> None:
    """Fill ancestry, depth and path of the locations recorded before this revision."""
    locations = sa.table(
        "locations",
        sa.column("id", sa.Integer),
        sa.column("parent_id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("ancestry", sa.String),
        sa.column("depth", sa.Integer),
        sa.column("path", sa.Text),
    )
    bind = op.get_bind()
    rows = {
        row.id: row
        for row in bind.execute(sa.select(locations.c.id, locations.c.parent_id, locations.c.name))
    }
    lineage: dict[int, tuple[str, int, str]] = {}

    def resolve(location_id: int) -> tuple[str, int, str]:
        if location_id not in lineage:
            row = rows[location_id]
            if row.parent_id is None:
                lineage[location_id] = ("/", 0, row.name)
            else:
                ancestry, depth, path = resolve(row.parent_id)
                lineage[location_id] = (
                    f"{ancestry}{row.parent_id}/",
                    depth + 1,
                    f"{path}{PATH_SEPARATOR}{row.name}",
                )
        return lineage[location_id]

    for location_id in rows:
        ancestry, depth, path = resolve(location_id)
        bind.execute(
            locations.update()
            .where(locations.c.id == location_id)
            .values(ancestry=ancestry, depth=depth, path=path)
        )


def upgrade() -> None:
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ancestry", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("depth", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("path", sa.Text(), nullable=True))
    backfill_lineage()
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.alter_column("ancestry", existing_type=sa.String(length=255), nullable=False)
        batch_op.alter_column("depth", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("path", existing_type=sa.Text(), nullable=False)
        # Official units (with a code) are exempt: two communes may differ only by diacritics.
        batch_op.create_index(
            "uq_locations_custom_name",
            ["ancestry", "level", "name_folded"],
            unique=True,
            sqlite_where=sa.text("code IS NULL"),
            postgresql_where=sa.text("code IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.drop_index("uq_locations_custom_name")
        batch_op.drop_column("path")
        batch_op.drop_column("depth")
        batch_op.drop_column("ancestry")
