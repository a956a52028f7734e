"""How long do `relief locations import` and a location search take on the full 2025 tree?

Migrates a database, loads the official units twice (the second run must create nothing),
then times `GET /v1/locations?q=` over HTTP (FastAPI TestClient) for a few searches, and
`ancestors_at_level` for every commune at once.

    .venv/bin/python -m bench.locations                 # temporary SQLite file
    .venv/bin/python -m bench.locations --postgres      # throw-away PostgreSQL database
    .venv/bin/python -m bench.locations --requests 5    # a quick run
"""

from __future__ import annotations

import time

from sqlalchemy import select

from app.db import Database
from app.locations import official, service
from app.locations.models import Location, LocationLevel
from bench import _harness as harness
from bench._harness import Timing

SEARCHES = ["ky son", "KỲ SƠN", "muong xen", "thanh xuan", "xa tan", "nghe an"]


def run(url: str, requests: int) -> None:
    harness.migrate(url)
    database = Database(url)
    for attempt in ("first", "second"):
        started = time.perf_counter()
        with harness.system_transaction(database) as session:
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

    with harness.admin_client(url) as client:
        for q in SEARCHES:
            timing = Timing()
            for _ in range(requests):
                started = time.perf_counter()
                response = client.get("/v1/locations", params={"q": q})
                timing.samples_ms.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200
            found = len(response.json()["items"])
            print(
                f"GET /v1/locations?q={q!r}: {found} found, "
                f"median {timing.median:.2f} ms over {requests}"
            )


def main() -> int:
    parser = harness.argument_parser(__doc__, "bench.locations")
    harness.add_postgres_option(parser)
    parser.add_argument("--requests", type=int, default=100, help="timed requests per search")
    args = parser.parse_args()
    with harness.database(postgres=args.postgres) as url:
        run(url, args.requests)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
