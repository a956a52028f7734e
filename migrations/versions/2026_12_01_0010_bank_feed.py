"""bank feed: per-account HMAC secrets and the posts answered, by transaction id

`feed_secrets` keeps each receiving account's secrets as issued (the service computes the
same HMAC-SHA256 as the bank, so they cannot be one-way hashes); `retires_at` is the end
of a replaced secret's grace period. `feed_posts` makes the feed idempotent: one row per
(receiving account, bank transaction id), with the hash of what was posted and its
outcome.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 05:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feed_secrets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("receiving_account_id", sa.Integer(), nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["receiving_account_id"],
            ["receiving_accounts.id"],
            name=op.f("fk_feed_secrets_receiving_account_id_receiving_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_secrets")),
    )
    with op.batch_alter_table("feed_secrets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_feed_secrets_receiving_account_id"),
            ["receiving_account_id"],
            unique=False,
        )
    op.create_table(
        "feed_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("receiving_account_id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.String(length=100), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("contribution_id", sa.Integer(), nullable=True),
        sa.Column("counterparty_name", sa.String(length=300), nullable=True),
        sa.Column("counterparty_account", sa.String(length=64), nullable=True),
        sa.Column("counterparty_bank", sa.String(length=200), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contribution_id"],
            ["contributions.id"],
            name=op.f("fk_feed_posts_contribution_id_contributions"),
        ),
        sa.ForeignKeyConstraint(
            ["receiving_account_id"],
            ["receiving_accounts.id"],
            name=op.f("fk_feed_posts_receiving_account_id_receiving_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_posts")),
        sa.UniqueConstraint(
            "receiving_account_id",
            "transaction_id",
            name=op.f("uq_feed_posts_receiving_account_id_transaction_id"),
        ),
    )


def downgrade() -> None:
    op.drop_table("feed_posts")
    with op.batch_alter_table("feed_secrets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feed_secrets_receiving_account_id"))
    op.drop_table("feed_secrets")
