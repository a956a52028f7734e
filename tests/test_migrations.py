"""The schema comes only from migrations, and the models never drift from them."""

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from app.models import Base
from tests.support.database import BACKEND, alembic_config, migrate


@pytest.fixture
def empty_url(tmp_path: Path, request: pytest.FixtureRequest):
    if BACKEND == "postgresql":
        server = request.getfixturevalue("postgres_server")
        url = server.create()
        yield url.render_as_string(hide_password=False)
        server.drop(url)
    else:
        yield f"sqlite:///{tmp_path / 'empty.db'}"


def _compare_type(context, inspected_column, metadata_column, inspected_type, metadata_type):
    # The same comparison migrations/env.py makes for our dialect-specific types.
    impl = getattr(metadata_type, "load_dialect_impl", None)
    if impl is None or type(metadata_type).__module__ != "app.db":
        return None
    clone = metadata_column._copy()
    clone.type = impl(context.dialect)
    return bool(context.impl.compare_type(inspected_column, clone))


def _include_object(obj, name, type_, reflected, compare_to):
    # As migrations/env.py: the search index's own objects (`search_…`) have no model.
    return not (name or "").startswith("search_")


def test_upgrade_builds_exactly_the_models_then_downgrades_to_nothing(empty_url):
    migrate(empty_url)
    engine = create_engine(empty_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": _compare_type, "include_object": _include_object}
        )
        assert compare_metadata(context, Base.metadata) == []
        tables = set(inspect(conn).get_table_names())
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
    command.downgrade(alembic_config(empty_url), "base")
    with engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    migrate(empty_url)  # and up again, cleanly
    engine.dispose()


def test_alembic_check_finds_no_drift(empty_url):
    migrate(empty_url)
    command.check(alembic_config(empty_url))
