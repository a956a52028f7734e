"""Do the donor pages answer fast on a large campaign?

Fills a campaign with 100,000 contributions (by default) through the real statement
import (as bench/public_search.py does), gives it a few allocations down the location
tree, then times every page with the whole app in process (FastAPI TestClient: server
time, no network): the home page, the campaign page (its per-day chart remembered, and
not), a drill into a place, the statement page unfiltered and with each search a donor
makes, and a receipt. Each page's median and p95 are printed with its ratio to the
floor measured in the same run (`GET /health`, which touches no database).

Target (issue 13): every page's median ≤ 50 ms at 100,000 contributions.

    .venv/bin/python -m bench.pages                 # temporary SQLite file
    .venv/bin/python -m bench.pages --postgres      # throw-away PostgreSQL database
    .venv/bin/python -m bench.pages --size 20000    # a quicker run
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from app import models  # noqa: F401  (every table, before a service is used)
from app.pages import service as pages
from bench import _harness as harness
from bench.public_search import fill

REPEATS = 30
TARGET_MS = 50.0
CODE = "yagi-pages"


def _ok(response: Any, status: int = 200) -> Any:
    if response.status_code != status:
        raise SystemExit(f"{response.request.url}: {response.status_code} {response.text[:1000]}")
    return response


def allocate(client: TestClient) -> int:
    """A province, two districts and a commune, with money allocated and delivered."""

    def place(name: str, level: str, parent: int | None = None) -> int:
        body = {"name": name, "level": level, "parent_id": parent}
        return int(_ok(client.post("/v1/locations", json=body), 201).json()["id"])

    province = place("Tỉnh Yên Bái", "province")
    district = place("Huyện Lục Yên", "district", province)
    commune = place("Xã Minh Chuẩn", "commune", district)
    other = place("Huyện Văn Yên", "district", province)
    for location, amount in ((commune, 300_000_000), (other, 200_000_000), (district, 50_000_000)):
        body = {"location_id": location, "amount": str(amount), "purpose": "Dựng lại nhà",
                "allocated_on": "2024-09-20"}  # fmt: skip
        allocation = _ok(client.post(f"/v1/campaigns/{CODE}/allocations", json=body), 201).json()
        _ok(client.post(f"/v1/allocations/{allocation['id']}/deliver",
                        json={"delivered_on": "2024-09-25"}))  # fmt: skip
    return province


def time_get(
    client: TestClient, path: str, before: Callable[[], None] | None = None
) -> harness.Timing:
    timing = harness.Timing()
    _ok(client.get(path))  # warm: templates compiled, statements cached
    for _ in range(REPEATS):
        if before is not None:
            before()
        started = time.perf_counter()
        _ok(client.get(path))
        timing.samples_ms.append((time.perf_counter() - started) * 1000)
    return timing


def forget_days() -> None:
    pages.DAYS = pages._DaysCache()


def main(argv: list[str] | None = None) -> int:
    parser = harness.argument_parser(__doc__, "bench.pages")
    harness.add_postgres_option(parser)
    parser.add_argument("--size", type=int, default=100_000, help="contributions (default 100000)")
    args = parser.parse_args(argv)
    with harness.database(postgres=args.postgres) as url:
        harness.migrate(url)
        print(f"database: {'PostgreSQL' if args.postgres else 'SQLite'}")
        with harness.admin_client(url) as client:
            seconds = fill(client, CODE, args.size)
            print(f"{CODE}: {args.size:,} contributions imported in {seconds:.1f} s")
            province = allocate(client)
            listed = _ok(client.get(f"/v1/campaigns/{CODE}/contributions", params={"limit": 1}))
            receipt = listed.json()["items"][0]["receipt_code"]
            del client.headers["Authorization"]  # the pages are read with no key
            paths: dict[str, tuple[str, Callable[[], None] | None]] = {
                "/health (floor)": ("/health", None),
                "home": ("/", None),
                "campaign": (f"/c/{CODE}", None),
                "campaign, chart not remembered": (f"/c/{CODE}", forget_days),
                "(the JSON API's campaign)": (f"/v1/public/campaigns/{CODE}", None),
                "campaign, a place": (f"/c/{CODE}?place={province}", None),
                "statement": (f"/c/{CODE}/sao-ke", None),
                "(the JSON API's statement page)": (
                    f"/v1/public/campaigns/{CODE}/contributions",
                    None,
                ),
                "statement, name": (f"/c/{CODE}/sao-ke?q=pham+hoai+thao", None),
                "statement, amount 500.000": (f"/c/{CODE}/sao-ke?amount=500.000", None),
                "statement, dates": (f"/c/{CODE}/sao-ke?from=10/09/2024&to=12/09/2024", None),
                "receipt": (f"/r/{receipt}", None),
                "(the JSON API's receipt)": (f"/v1/public/receipts/{receipt}", None),
            }
            results = {
                name: time_get(client, path, before) for name, (path, before) in paths.items()
            }
    floor = results["/health (floor)"].median
    print(f"\n{'page':<32} {'p50 ms':>8} {'p95 ms':>8} {'× floor':>8}")
    worst = 0.0
    for name, timing in results.items():
        print(f"{name:<32} {timing.median:>8.1f} {timing.p95:>8.1f} {timing.median / floor:>8.1f}")
        if not name.startswith(("/health", "(")):
            worst = max(worst, timing.median)
    met = worst <= TARGET_MS
    print(f"\nslowest page median {worst:.1f} ms at {args.size:,} contributions "
          f"(target ≤ {TARGET_MS:.0f} ms): {'met' if met else 'NOT met'}")  # fmt: skip
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
