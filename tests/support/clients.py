"""The API as a test talks to it: an admin's TestClient, and keys of any role."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from app.db import Database
from app.keys import scope
from app.keys import service as keys
from app.keys.roles import Role
from app.keys.schemas import ApiKeyCreate
from app.keys.scope import Principal
from app.main import create_app


def issue_key(database: Database, role: str, unit_code: str | None = None) -> str:
    """A key made directly in the database (as `relief keys create` does); returns its token."""
    with scope.acting_as(database, Principal.system("tests")) as session:
        body = ApiKeyCreate(role=Role(role), unit_code=unit_code, name=f"test {role}")
        _, token = keys.issue(session, key_in=body)
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    """The API as an admin sees it: every request carries an admin key."""
    app = create_app(database_url)
    with TestClient(app) as test_client:
        token = issue_key(app.state.database, "admin")
        test_client.headers.update(bearer(token))
        yield test_client


@pytest.fixture
def admin_token(client: TestClient) -> str:
    return str(client.headers["Authorization"]).removeprefix("Bearer ")


@pytest.fixture
def headers_for(client: TestClient) -> Callable[..., dict[str, str]]:
    """`headers_for("officer", "ky-son")`: request headers carrying a new key of that role."""
    database: Database = client.app.state.database  # type: ignore[attr-defined]

    def make(role: str, unit_code: str | None = None) -> dict[str, str]:
        return bearer(issue_key(database, role, unit_code))

    return make


@pytest.fixture
def db(client: TestClient) -> Database:
    """The app's own database, for reading (and tampering with) rows directly."""
    database: Database = client.app.state.database  # type: ignore[attr-defined]
    return database
