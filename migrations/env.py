"""Alembic environment: the URL comes from DATABASE_URL (app.config), like the service's."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import create_engine, pool

from app.config import get_settings
from app.db import Amount, UTCDateTime
from app.models import Base

config = context.config
target_metadata = Base.metadata


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Render our column types with plain SQLAlchemy types, so migrations never import app code."""
    if type_ == "type" and isinstance(obj, Amount):
        return 'sa.Numeric().with_variant(sa.String(64), "sqlite")'
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def compare_type(
    context: Any,
    inspected_column: Any,
    metadata_column: Any,
    inspected_type: Any,
    metadata_type: Any,
) -> bool | None:
    # Compare what our TypeDecorators really create on this dialect.
    if isinstance(metadata_type, (Amount, UTCDateTime)):
        impl = metadata_type.load_dialect_impl(context.dialect)
        return bool(context.impl.compare_type(inspected_column, _with_type(metadata_column, impl)))
    return None


def _with_type(column: Any, type_: Any) -> Any:
    clone = column._copy()
    clone.type = type_
    return clone


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Leave the search index's own objects (`search_…`, revision 0009) out of comparisons:
    SQLite's FTS5 table and its shadow tables, PostgreSQL's trigram index."""
    return not (name or "").startswith("search_")


def _url() -> str:
    return config.attributes.get("database_url") or get_settings().database_url


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_item=render_item,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is None:
        engine = create_engine(_url(), poolclass=pool.NullPool)
        with engine.connect() as connection:
            _run(connection)
        engine.dispose()
    else:
        _run(connectable)


def _run(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_item=render_item,
        compare_type=compare_type,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
