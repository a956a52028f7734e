"""public search index: transfer messages searchable by substring without a scan

`GET /v1/public/campaigns/{code}/contributions?q=` finds a fragment of a transfer message
anywhere in it (a donor types "pham hoai" or "ky son"). Without an index that is a scan of
the campaign's contributions: fine at 10,000, seconds at 1,000,000. A trigram index
answers substring searches of three characters or more from the index on both databases:

- SQLite: an FTS5 table with the trigram tokenizer over `contributions.description_folded`
  (external content: the text is not stored twice), kept in step by triggers;
- PostgreSQL: a GIN index with `pg_trgm`'s operator class, which `LIKE '%…%'` uses.

Objects named `search_…` are the search index's own: they have no model, and the schema
comparison (migrations/env.py, tests/test_migrations.py) leaves them out.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 03:15:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SQLITE_UP = [
    "CREATE VIRTUAL TABLE search_contributions USING fts5("
    "description_folded, content='contributions', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER search_contributions_insert AFTER INSERT ON contributions "
    "WHEN new.description_folded IS NOT NULL BEGIN "
    "INSERT INTO search_contributions(rowid, description_folded) "
    "VALUES (new.id, new.description_folded); END",
    "CREATE TRIGGER search_contributions_delete AFTER DELETE ON contributions "
    "WHEN old.description_folded IS NOT NULL BEGIN "
    "INSERT INTO search_contributions(search_contributions, rowid, description_folded) "
    "VALUES ('delete', old.id, old.description_folded); END",
    "CREATE TRIGGER search_contributions_update_old AFTER UPDATE OF description_folded "
    "ON contributions WHEN old.description_folded IS NOT NULL BEGIN "
    "INSERT INTO search_contributions(search_contributions, rowid, description_folded) "
    "VALUES ('delete', old.id, old.description_folded); END",
    "CREATE TRIGGER search_contributions_update_new AFTER UPDATE OF description_folded "
    "ON contributions WHEN new.description_folded IS NOT NULL BEGIN "
    "INSERT INTO search_contributions(rowid, description_folded) "
    "VALUES (new.id, new.description_folded); END",
    "INSERT INTO search_contributions(search_contributions) VALUES ('rebuild')",
]
_SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS search_contributions_update_new",
    "DROP TRIGGER IF EXISTS search_contributions_update_old",
    "DROP TRIGGER IF EXISTS search_contributions_delete",
    "DROP TRIGGER IF EXISTS search_contributions_insert",
    "DROP TABLE IF EXISTS search_contributions",
]
_POSTGRES_UP = [
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX search_contributions_trgm ON contributions "
    "USING gin (description_folded gin_trgm_ops)",
]
_POSTGRES_DOWN = ["DROP INDEX IF EXISTS search_contributions_trgm"]


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in _SQLITE_UP if sqlite else _POSTGRES_UP:
        op.execute(statement)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in _SQLITE_DOWN if sqlite else _POSTGRES_DOWN:
        op.execute(statement)
