"""Finding 7 of issue 11: a database connection lost in the middle of a request.

Before the commit began, nothing can have been written: the request runs again on a
fresh connection and succeeds. During the commit, the write may or may not have landed:
503 with Retry-After (the client retries with its Idempotency-Key), never a 500.
"""

import pytest
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import make_url

from app.donors.models import Donor
from tests.support.database import BACKEND


def _kill(db, conn):
    """Break `conn`'s database connection as a server restart or a terminated backend does."""
    dbapi = conn.connection.dbapi_connection
    if BACKEND == "postgresql":
        pid = dbapi.info.backend_pid
        admin = create_engine(make_url(db.url), isolation_level="AUTOCOMMIT")
        with admin.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        admin.dispose()
    else:
        dbapi.close()


@pytest.fixture
def lose_connection_once(db):
    """Install a one-shot fault on `db.engine` at the named moment."""
    listeners = []

    def install(moment):
        fired = []

        def before_insert(conn, cursor, statement, *args):
            if not fired and statement.lstrip().upper().startswith("INSERT INTO DONORS"):
                fired.append(True)
                _kill(db, conn)

        def at_commit(conn):
            if not fired:
                fired.append(True)
                _kill(db, conn)

        name, listener = (
            ("before_cursor_execute", before_insert) if moment == "write" else ("commit", at_commit)
        )
        event.listen(db.engine, name, listener)
        listeners.append((name, listener))
        return fired

    yield install
    for name, listener in listeners:
        event.remove(db.engine, name, listener)


def _donors_named(db, name):
    with db.session(read_only=True) as session:
        return session.scalar(select(func.count()).select_from(Donor).where(Donor.name == name))


def test_a_connection_lost_before_the_commit_is_retried_on_a_fresh_one(
    client, db, lose_connection_once
):
    fired = lose_connection_once("write")
    response = client.post("/v1/donors", json={"name": "Trần Văn Bình", "kind": "individual"})
    assert fired == [True]
    assert response.status_code == 201, response.text
    assert _donors_named(db, "Trần Văn Bình") == 1


def test_a_connection_lost_at_the_commit_is_503_with_retry_after(client, db, lose_connection_once):
    fired = lose_connection_once("commit")
    response = client.post("/v1/donors", json={"name": "Lê Thị Hoa", "kind": "individual"})
    assert fired == [True]
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) > 0
    assert response.json()["code"] == "database_connection_lost"
    # The connection died before the database committed: nothing was written, and the
    # service goes on answering on fresh connections.
    assert _donors_named(db, "Lê Thị Hoa") == 0
    retry = client.post("/v1/donors", json={"name": "Lê Thị Hoa", "kind": "individual"})
    assert retry.status_code == 201, retry.text
    assert _donors_named(db, "Lê Thị Hoa") == 1
