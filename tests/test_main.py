"""The probes (finding 3 of issue 11) and the served documents."""

import threading
import time
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event, text

from app.main import create_app
from tests.support.database import BACKEND


def test_health_answers_without_the_database(client, db):
    connections = []

    def checked_out(*args):
        connections.append(args)

    event.listen(db.engine, "checkout", checked_out)
    try:
        response = client.get("/health")
    finally:
        event.remove(db.engine, "checkout", checked_out)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert connections == []


@pytest.fixture
def write_lock_held(db):
    """Another writer holds the database's write lock (as a long import does)."""
    release = threading.Event()
    held = threading.Event()

    def hold():
        with db.engine.connect() as conn:
            if db.is_sqlite:  # BEGIN IMMEDIATE: the one write lock
                conn.execute(text("UPDATE units SET name = name"))
            else:
                conn.execute(text("LOCK TABLE units, api_keys IN EXCLUSIVE MODE"))
            held.set()
            release.wait(30)
            conn.rollback()

    thread = threading.Thread(target=hold)
    thread.start()
    assert held.wait(10)
    yield
    release.set()
    thread.join()


def test_health_answers_at_once_while_the_write_lock_is_held(client, write_lock_held):
    times = []
    for _ in range(7):
        started = time.perf_counter()
        response = client.get("/health")
        times.append(time.perf_counter() - started)
        assert response.status_code == 200
    # The median, so a busy CI machine's scheduling hiccup is not mistaken for waiting on
    # the lock (which took the whole 30 s busy timeout before).
    assert sorted(times)[3] < 0.1, [f"{t * 1000:.0f} ms" for t in times]
    assert max(times) < 1.0, [f"{t * 1000:.0f} ms" for t in times]


def test_ready_reads_while_the_write_lock_is_held(client, write_lock_held):
    response = client.get("/ready")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ready"


@pytest.fixture
def unmigrated_url(tmp_path: Path, request):
    """An empty database: the service was started before `alembic upgrade head`."""
    if BACKEND == "postgresql":
        server = request.getfixturevalue("postgres_server")
        url = server.create()
        yield url.render_as_string(hide_password=False)
        server.drop(url)
    else:
        path = tmp_path / f"empty-{uuid.uuid4().hex}.db"
        create_engine(f"sqlite:///{path}").dispose()
        yield f"sqlite:///{path}"


@pytest.mark.parametrize("path", ["/ready", "/v1/public/campaigns", "/v1/donors"])
def test_an_unmigrated_database_is_503_not_500(unmigrated_url, path):
    app = create_app(unmigrated_url)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get(path, headers={"Authorization": "Bearer x"})
    app.state.database.dispose()
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"].isdigit()
    assert response.json()["code"] == "database_not_migrated"


def test_an_unreachable_database_is_not_ready():
    app = create_app("postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=2")
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/ready")
        assert client.get("/health").status_code == 200
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "database_unavailable"


def test_openapi_and_docs_are_served(client):
    assert client.get("/openapi.json").json()["info"]["title"] == "Relief Ledger"
    assert client.get("/docs").status_code == 200
    assert client.get("/redoc").status_code == 200
