"""Does the public statement search stay fast as a campaign grows?

For each size (10,000 and 1,000,000 contributions by default) it fills a campaign through
the real statement import (Vietcombank layout, in files of 100,000 lines), then times
`GET /v1/public/campaigns/{code}/contributions` with the searches donors make: a name
without diacritics (`q=`), an amount range, a date range, and all three together. It
prints the median and p95 of each, and the ratio of the largest size's median to the
smallest's. Then it streams the CSV export of the largest campaign and prints the time
to the first byte and the peak Python memory while streaming.

Target (issue 12): median ratio ≤ 2 on both databases; a 200,000-row CSV sends its first
byte within 200 ms and streams in constant memory.

    .venv/bin/python -m bench.public_search                        # temporary SQLite file
    .venv/bin/python -m bench.public_search --postgres             # throw-away PostgreSQL database
    .venv/bin/python -m bench.public_search --sizes 10000 100000   # a quicker run
"""

from __future__ import annotations

import random
import sys
import time
import tracemalloc
from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient

from bench import _harness as harness

CHUNK = 100_000
REPEATS = 25
TARGET_RATIO = 2.0
TARGET_FIRST_BYTE_MS = 200.0
START = date(2024, 9, 8)
DAYS = 30
FAMILY = ["NGUYEN", "TRAN", "LE", "PHAM", "HOANG", "VU", "VO", "DANG", "BUI", "DO", "HO", "NGO"]
MIDDLE = ["VAN", "THI", "DUC", "MINH", "HOAI", "THANH", "NGOC", "QUANG"]
GIVEN = ["AN", "BINH", "KHANH", "THAO", "LONG", "HUONG", "LAN", "TUAN", "HA", "NAM", "MAI"]
MESSAGES = [
    "ung ho dong bao bi thiet hai do bao Yagi",
    "ủng hộ đồng bào lũ lụt Kỳ Sơn",
    "chung tay vi mien Bac",
    "UNG HO BAO YAGI",
    "gia dinh ung ho ba con vung lu",
]
# What donors type: a name without diacritics, a fragment of a message.
SEARCHES = {
    "name": {"q": "pham hoai thao"},
    "amount": {"min_amount": "500000", "max_amount": "1000000"},
    "dates": {"received_from": "2024-09-10", "received_to": "2024-09-12"},
    "all three": {
        "q": "nguyen van",
        "min_amount": "200000",
        "max_amount": "5000000",
        "received_from": "2024-09-09",
        "received_to": "2024-09-20",
    },
}


def _grouped(amount: int) -> str:
    return f"{amount:,}".replace(",", ".")


def statement(first: int, rows: int, rng: random.Random) -> bytes:
    """`rows` distinct credits (document numbers from `first` on) in the Vietcombank layout."""
    lines = ["Ngày GD,Số CT,Số tiền ghi nợ,Số tiền ghi có,Số dư,Nội dung chi tiết"]
    balance = 10_000_000_000
    for i in range(first, first + rows):
        day = (START + timedelta(days=i % DAYS)).strftime("%d/%m/%Y")
        amount = rng.randrange(1, 2_000) * 10_000
        balance += amount
        name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
        lines.append(f"{day},5{i:09d},,{_grouped(amount)},{_grouped(balance)},"
                     f"{name} {rng.choice(MESSAGES)}")  # fmt: skip
    return ("\n".join(lines) + "\n").encode()


def _ok(response: Any, status: int = 200) -> dict[str, Any]:
    if response.status_code != status:
        raise SystemExit(f"{response.request.url}: {response.status_code} {response.text[:1000]}")
    body: dict[str, Any] = response.json()
    return body


def fill(client: TestClient, code: str, size: int) -> float:
    title = "Ủng hộ đồng bào bị thiệt hại do bão Yagi"
    _ok(client.post("/v1/campaigns", json={"code": code, "title": title, "kind": "storm"}), 201)
    _ok(client.patch(f"/v1/campaigns/{code}", json={"status": "open"}))
    rng = random.Random(size)
    started = time.perf_counter()
    for first in range(0, size, CHUNK):
        data = statement(first, min(CHUNK, size - first), rng)
        _ok(client.post(f"/v1/campaigns/{code}/statements", content=data,
                        headers={"Content-Type": "text/csv"}))  # fmt: skip
        print(f"  {code}: {min(first + CHUNK, size):>9,} / {size:,}", end="\r", file=sys.stderr)
    print(file=sys.stderr)
    return time.perf_counter() - started


def time_searches(client: TestClient, code: str) -> dict[str, harness.Timing]:
    timings = {name: harness.Timing() for name in SEARCHES}
    path = f"/v1/public/campaigns/{code}/contributions"
    for _ in range(REPEATS):
        for name, params in SEARCHES.items():
            started = time.perf_counter()
            _ok(client.get(path, params=params))
            timings[name].samples_ms.append((time.perf_counter() - started) * 1000)
    return timings


def stream_csv(client: TestClient, code: str) -> tuple[float, int, float]:
    """Time to the first byte (ms), rows streamed, and peak traced memory (MiB)."""
    tracemalloc.start()
    started = time.perf_counter()
    first_byte = 0.0
    rows = 0
    with client.stream("GET", f"/v1/public/campaigns/{code}/contributions",
                       params={"format": "csv"}) as response:  # fmt: skip
        for chunk in response.iter_bytes():
            if not first_byte:
                first_byte = (time.perf_counter() - started) * 1000
            rows += chunk.count(b"\n")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return first_byte, rows - 1, peak / 2**20


def main(argv: list[str] | None = None) -> int:
    parser = harness.argument_parser(__doc__, "bench.public_search")
    harness.add_postgres_option(parser)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000],
                        help="contributions per campaign (default 10000 1000000)")  # fmt: skip
    args = parser.parse_args(argv)
    results: dict[int, dict[str, harness.Timing]] = {}
    with harness.database(postgres=args.postgres) as url:
        harness.migrate(url)
        print(f"database: {'PostgreSQL' if args.postgres else 'SQLite'}")
        with harness.admin_client(url) as client:
            for size in args.sizes:
                code = f"yagi-search-{size}"
                seconds = fill(client, code, size)
                print(f"{code}: {size:,} contributions imported in {seconds:.1f} s")
                results[size] = time_searches(client, code)
            print(f"\n{'search':<10} " + " ".join(f"{f'{s:,} p50/p95 ms':>24}" for s in args.sizes)
                  + f" {'ratio':>7}")  # fmt: skip
            worst = 0.0
            small, large = min(args.sizes), max(args.sizes)
            for name in SEARCHES:
                cells = " ".join(f"{results[s][name].median:>11.1f} /{results[s][name].p95:>10.1f}"
                                 for s in args.sizes)  # fmt: skip
                ratio = results[large][name].median / results[small][name].median
                worst = max(worst, ratio)
                print(f"{name:<10} {cells} {ratio:>7.2f}")
            first_byte, rows, peak = stream_csv(client, f"yagi-search-{large}")
    print(
        f"\nCSV export of {rows:,} rows: first byte after {first_byte:.0f} ms, "
        f"peak traced memory {peak:.1f} MiB"
    )
    ratio_met = worst <= TARGET_RATIO
    first_byte_met = first_byte <= TARGET_FIRST_BYTE_MS
    print(f"worst median ratio {worst:.2f} (target ≤ {TARGET_RATIO}): "
          f"{'met' if ratio_met else 'NOT met'}")  # fmt: skip
    print(f"first CSV byte {first_byte:.0f} ms (target ≤ {TARGET_FIRST_BYTE_MS:.0f} ms): "
          f"{'met' if first_byte_met else 'NOT met'}")  # fmt: skip
    met = ratio_met and first_byte_met
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
