"""How long do `relief locations import` and a location search take on the full 2025 tree?

Migrates a database, loads the official units twice (the second run must create nothing),
then times `GET /v1/locations?q=` over HTTP (FastAPI TestClient) for a few searches, and
`ancestors_at_level` for every commune at once.

    .venv/bin/python bench/locations.py                 # temporary SQLite file
    .venv/bin/python bench/locations.py --postgres      # throw-away PostgreSQL database
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import select  # noqa: E402

from app.db import Database  # noqa: E402
from app.locations import official, service  # noqa: E402
from app.locations.models import Location, LocationLevel  # noqa: E402
from app.main import create_app  # noqa: E402
from bench.reconciliation import (  # noqa: E402
    DEFAULT_POSTGRES_SERVER,
    as_admin,
    migrate,
    temporary_sqlite,
    throwaway_postgres,
)

SEARCHES = ["ky son", "KỲ SƠN", "muong xen", "thanh xuan", "xa tan", "nghe an"]


def run(url: str, requests: int) -> None:
    migrate(url)
    database = Database(url)
    for attempt in ("first", "second"):
        started = time.perf_counter()
        with database.transaction() as session:
            report = official.import_units(session)
        seconds = time.perf_counter() - started
        print(
            f"import ({attempt} run): created {report.created}, "
            f"already present {report.already_present} in {seconds * 1000:.0f} ms"
        )
    with database.session(read_only=True) as session:
        communes = list(
            session.scalars(select(Location.id).where(Location.level == LocationLevel.commune))
        )
        started = time.perf_counter()
        provinces = service.ancestors_at_level(session, communes, LocationLevel.province)
        seconds = time.perf_counter() - started
    assert all(provinces.values())
    print(f"ancestors_at_level: {len(communes)} communes → provinces in {seconds * 1000:.1f} ms")
    database.dispose()

    with TestClient(create_app(url)) as client:
        as_admin(client)
        for q in SEARCHES:
            times = []
            for _ in range(requests):
                started = time.perf_counter()
                response = client.get("/v1/locations", params={"q": q})
                times.append(time.perf_counter() - started)
                assert response.status_code == 200
            found = len(response.json()["items"])
            print(
                f"GET /v1/locations?q={q!r}: {found} found, "
                f"median {statistics.median(times) * 1000:.2f} ms over {requests}"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--postgres",
        nargs="?",
        const=os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_SERVER),
        metavar="SERVER_URL",
    )
    parser.add_argument("--requests", type=int, default=100, help="timed requests per search")
    args = parser.parse_args()
    if args.postgres:
        with throwaway_postgres(args.postgres, keep=False) as url:
            run(url, args.requests)
    else:
        with temporary_sqlite(keep=False) as url:
            run(url, args.requests)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
