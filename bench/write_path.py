"""How fast does the service take contributions, against the floor of this machine?

Starts two servers in the same run, each one uvicorn process on a free local port:
the real service (`app.main:app`, a migrated database, an admin key, one open campaign)
and the floor (`bench.floor_app`: a bare FastAPI endpoint that validates the same body
with Pydantic and INSERTs one row into the same kind of database). Then drives both,
interleaved round by round, with 1 and with 16 concurrent clients POSTing contributions
(each with its own bank reference) to the one campaign, and prints req/s, p50, p99 and
errors for each, and the ratio service / floor (medians over the rounds). Afterwards the
books must verify (`verify=full`) and hold every accepted contribution exactly once.

Target (issue 12): at 16 clients, ratio ≥ 0.5, p99 ≤ 100 ms, zero errors, on SQLite and
on PostgreSQL.

    .venv/bin/python -m bench.write_path                  # temporary SQLite files
    .venv/bin/python -m bench.write_path --postgres       # throw-away PostgreSQL databases
    .venv/bin/python -m bench.write_path --rounds 5 --seconds 6 --clients 1 16 32
"""

from __future__ import annotations

import asyncio
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import httpx

from bench import _harness as harness

AMOUNT = 500_000
TARGET_RATIO = 0.5
TARGET_P99_MS = 100.0
CAMPAIGN = "yagi-2024-write-path"


@dataclass
class Round:
    """One run of `clients` concurrent posters for a fixed time against one server."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies_ms) / self.seconds

    def quantile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


@dataclass
class Target:
    name: str
    base_url: str
    path: str
    headers: dict[str, str]
    references: Iterator[int] = field(default_factory=itertools.count)
    rounds: dict[int, list[Round]] = field(default_factory=dict)

    def body(self) -> dict[str, str]:
        return {
            "amount": str(AMOUNT),
            "received_on": "2024-09-10",
            "method": "bank_transfer",
            "bank_reference": f"FT24254{self.name[:1].upper()}{next(self.references):09d}",
            "description": "MTTQVN ung ho dong bao bi thiet hai do bao Yagi",
        }


async def _post_until(
    client: httpx.AsyncClient, target: Target, deadline: float, result: Round
) -> None:
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        try:
            response = await client.post(target.path, json=target.body())
        except httpx.HTTPError as exc:
            result.errors.append(f"{type(exc).__name__}: {exc}")
            continue
        if response.status_code == 201:
            result.latencies_ms.append((time.perf_counter() - started) * 1000)
        else:
            result.errors.append(f"{response.status_code} {response.text[:200]}")


async def _run_round(target: Target, clients: int, seconds: float) -> Round:
    result = Round()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=target.base_url, headers=target.headers, limits=limits, timeout=60
    ) as client:
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(
            *(_post_until(client, target, deadline, result) for _ in range(clients))
        )
        result.seconds = time.perf_counter() - started
    return result


# --------------------------------------------------------------------------- servers


@contextmanager
def _uvicorn(app: str, env: dict[str, str], log: Path) -> Iterator[str]:
    port = harness.free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=harness.ROOT,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        harness.wait_until_healthy(base_url, process, log)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def _open_campaign(base_url: str, headers: dict[str, str]) -> None:
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
        created = client.post(
            "/v1/campaigns",
            json={
                "code": CAMPAIGN,
                "title": "Ủng hộ đồng bào bị thiệt hại do bão Yagi",
                "kind": "storm",
            },
        )
        created.raise_for_status()
        client.patch(f"/v1/campaigns/{CAMPAIGN}", json={"status": "open"}).raise_for_status()


def _check_books(service: Target, warm_up: int) -> str:
    """`verify=full` passes and the books hold exactly the accepted contributions."""
    accepted = warm_up + sum(len(r.latencies_ms) for rs in service.rounds.values() for r in rs)
    with httpx.Client(base_url=service.base_url, headers=service.headers, timeout=600) as client:
        response = client.get(f"/v1/campaigns/{CAMPAIGN}/reconciliation", params={"verify": "full"})
        response.raise_for_status()
        body = response.json()
    failed = [check for check in body["checks"] if not check["ok"]]
    money = body["money"]
    problems = []
    if failed:
        problems.append(f"failed checks: {failed}")
    if money["contributions_count"] != accepted:
        problems.append(
            f"{money['contributions_count']} contributions recorded, {accepted} accepted"
        )
    if Decimal(money["received"]) != accepted * AMOUNT:
        problems.append(f"received {money['received']}, expected {accepted * AMOUNT}")
    return "; ".join(problems) or (
        f"books verify: {accepted:,} contributions recorded once, "
        f"{len(body['checks'])} checks ok, {body['ledger']['entries']:,} entries"
    )


# --------------------------------------------------------------------------- report


def _line(name: str, clients: int, rounds: list[Round]) -> str:
    rate = statistics.median(r.rate for r in rounds)
    p50 = statistics.median(r.quantile(0.50) for r in rounds)
    p99 = statistics.median(r.quantile(0.99) for r in rounds)
    errors = sum(len(r.errors) for r in rounds)
    return f"{clients:>7} {name:<8} {rate:>9.1f} {p50:>9.1f} {p99:>9.1f} {errors:>7}"


def _report(floor: Target, service: Target, counts: list[int]) -> bool:
    print(f"\n{'clients':>7} {'server':<8} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9} {'errors':>7}")
    met = True
    for clients in counts:
        print(_line("floor", clients, floor.rounds[clients]))
        print(_line("relief", clients, service.rounds[clients]))
        ratios = [
            s.rate / f.rate
            for s, f in zip(service.rounds[clients], floor.rounds[clients], strict=True)
        ]
        ratio = statistics.median(ratios)
        p99 = statistics.median(r.quantile(0.99) for r in service.rounds[clients])
        errors = sum(len(r.errors) for r in service.rounds[clients])
        print(
            f"        ratio relief/floor: median {ratio:.2f} (rounds: "
            f"{', '.join(f'{r:.2f}' for r in ratios)})"
        )
        if clients >= 16:
            ok = ratio >= TARGET_RATIO and p99 <= TARGET_P99_MS and errors == 0
            met &= ok
            print(
                f"        target at {clients} clients (ratio ≥ {TARGET_RATIO}, p99 ≤ "
                f"{TARGET_P99_MS:.0f} ms, no errors): {'met' if ok else 'NOT met'}"
            )
    for rounds in service.rounds.values():
        for r in rounds:
            for error in r.errors[:3]:
                print(f"  error: {error}")
    return met


def main(argv: list[str] | None = None) -> int:
    parser = harness.argument_parser(__doc__, "bench.write_path")
    harness.add_postgres_option(parser)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument(
        "--seconds", type=float, default=4.0, help="length of one round (default 4)"
    )
    parser.add_argument(
        "--clients",
        type=int,
        nargs="+",
        default=[1, 16],
        help="concurrent clients to measure (default 1 16)",
    )
    args = parser.parse_args(argv)

    with ExitStack() as stack:
        service_url = stack.enter_context(harness.database(postgres=args.postgres))
        floor_url = stack.enter_context(harness.database(postgres=args.postgres))
        logs = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="relief-write-path-")))
        harness.migrate(service_url)
        headers = harness.admin_headers(service_url)
        print(
            f"database: {'PostgreSQL' if args.postgres else 'SQLite'}; "
            f"{args.rounds} rounds of {args.seconds:g} s per server and client count"
        )
        service_base = stack.enter_context(
            _uvicorn("app.main:app", {"DATABASE_URL": service_url}, logs / "relief.log")
        )
        floor_base = stack.enter_context(
            _uvicorn("bench.floor_app:app", {"FLOOR_DATABASE_URL": floor_url}, logs / "floor.log")
        )
        _open_campaign(service_base, headers)
        service = Target("relief", service_base, f"/v1/campaigns/{CAMPAIGN}/contributions", headers)
        floor = Target("floor", floor_base, "/contributions", {})

        # A short warm-up of each (imports, caches, connection pools): not in the figures,
        # but what it recorded is in the books.
        warm_ups = [asyncio.run(_run_round(target, 4, 1.0)) for target in (floor, service)]

        for number in range(args.rounds):
            for clients in args.clients:
                for target in (floor, service) if number % 2 == 0 else (service, floor):
                    result = asyncio.run(_run_round(target, clients, args.seconds))
                    target.rounds.setdefault(clients, []).append(result)
            print(f"round {number + 1}/{args.rounds} done", file=sys.stderr)

        met = _report(floor, service, args.clients)
        print(_check_books(service, len(warm_ups[1].latencies_ms)))
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
