"""Does the reconciliation's cost stay flat as a campaign grows?

Builds two campaigns, one with 1,000 and one with 100,000 contributions, through the
app's own services (so every contribution is a real, balanced, hash-chained ledger entry
with kept balances), then times `GET /v1/campaigns/{code}/reconciliation` over HTTP
(FastAPI TestClient) for each and compares the medians. Target: median(100k) /
median(1k) ≤ 1.5. Above it, the statements of one request are timed per campaign and
the ones that grow are printed with their query plans.

    .venv/bin/python -m bench.reconciliation                      # temporary SQLite file
    .venv/bin/python -m bench.reconciliation --postgres           # throw-away PostgreSQL database
    .venv/bin/python -m bench.reconciliation --database-url URL   # an existing database (migrated, kept)
    .venv/bin/python -m bench.reconciliation --small 100 --large 1000 --requests 20   # a quick run

With `--verify-full` it also times `?verify=full` of each campaign and `GET /v1/audit/verify`
in entries per second (target ≥ 50,000); `--keep` then `--database-url URL --verify-only N`
times only those, N rounds, on the database kept.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event, make_url, select

from app.allocations import service as allocations
from app.allocations.schemas import AllocationCreate, AllocationDeliver
from app.campaigns import service as campaigns
from app.campaigns.models import Campaign
from app.campaigns.schemas import CampaignCreate, CampaignUpdate
from app.contributions import service as contributions
from app.contributions.schemas import ContributionCreate
from app.db import Database
from app.donors import service as donors
from app.donors.schemas import DonorCreate
from app.locations import service as locations
from app.locations.schemas import LocationCreate
from app.pledges import service as pledges
from app.pledges.schemas import PledgeCreate
from bench import _harness as harness
from bench._harness import Timing

TARGET_RATIO = 1.5
# Full verification (`?verify=full`, `/v1/audit/verify`): entries replayed per second.
VERIFY_TARGET = 50_000
# Contributions per transaction: big enough to be fast, small enough to keep memory flat.
BATCH = 5_000

# Foreign currencies kiều bào send, with a plausible VND rate and the currency's minor units.
FOREIGN = [("USD", Decimal("25380"), 2), ("EUR", Decimal("27450"), 2), ("JPY", Decimal("168"), 0)]
FOREIGN += [("AUD", Decimal("16620"), 2)]


# --------------------------------------------------------------------------- building


@dataclass
class Built:
    code: str
    contributions: int
    pledges: int
    foreign: int
    reversals: int
    allocations: int
    deliveries: int
    seconds: float


def _vnd(rng: random.Random) -> Decimal:
    # 50,000 to 50,000,000 VND, in round thousands, like bank transfers to a relief account.
    return Decimal(rng.randrange(50, 50_000) * 1_000)


def build_campaign(
    database: Database,
    code: str,
    n: int,
    *,
    seed: int,
    on_batch: Callable[[str], None] | None = None,
) -> Built:
    """Record `n` contributions (and pledges, foreign money, reversals, allocations,
    deliveries) through the services, `BATCH` contributions per transaction; `on_batch`
    is called with the campaign code after each committed batch."""
    rng = random.Random(seed)
    started = time.perf_counter()
    today = date.today()

    with harness.system_transaction(database) as session:
        campaign = campaigns.create(
            session,
            campaign_in=CampaignCreate(
                code=code,
                title=f"Ủng hộ đồng bào bị ảnh hưởng bởi bão Yagi ({n:,} đóng góp)",
                kind="storm",
                target_amount=Decimal(10) ** 13,
            ),
        )
        campaigns.update(session, campaign, changes=CampaignUpdate(status="open"))
        donor_ids = [
            donors.create(
                session,
                donor_in=DonorCreate(
                    name=f"Nhà hảo tâm {i}",
                    kind="overseas_vietnamese" if i % 10 == 0 else "individual",
                    country="AU" if i % 10 == 0 else "VN",
                    anonymous=i % 7 == 0,
                ),
            ).id
            for i in range(max(10, min(2_000, n // 50)))
        ]
        # One pledge for every 50 contributions; about 10% of contributions fulfil one.
        pledge_ids = [
            pledges.create(
                session,
                campaign,
                pledge_in=PledgeCreate(
                    donor_id=rng.choice(donor_ids),
                    amount=Decimal(rng.randrange(1, 200) * 1_000_000),
                    due_on=today + timedelta(days=30),
                ),
            ).id
            for _ in range(max(5, n // 50))
        ]
        location_ids = [
            locations.create(
                session, location_in=LocationCreate(name=f"Xã {name} ({code})", level="commune")
            ).id
            for name in ("Mường Lống", "Huồi Tụ", "Na Ngoi", "Tà Cạ", "Mỹ Lý")
        ]
    campaign_id = campaign.id

    pledged = foreign = 0
    recorded: list[int] = []
    done = 0
    while done < n:
        with harness.system_transaction(database) as session:
            campaign = session.get_one(Campaign, campaign_id)
            for i in range(done, min(n, done + BATCH)):
                roll = rng.random()
                received_on = today - timedelta(days=rng.randrange(0, 60))
                if roll < 0.10:
                    body = ContributionCreate(
                        pledge_id=rng.choice(pledge_ids),
                        amount=_vnd(rng),
                        received_on=received_on,
                        method="bank_transfer",
                        bank_reference=f"FT{seed}{i:08d}",
                    )
                    pledged += 1
                elif roll < 0.15:
                    currency, rate, places = rng.choice(FOREIGN)
                    amount = Decimal(rng.randrange(2_000, 500_000)).scaleb(-places)
                    body = ContributionCreate(
                        donor_id=rng.choice(donor_ids),
                        amount=amount,
                        currency=currency,
                        settled_amount=(amount * rate).quantize(Decimal(1), ROUND_HALF_EVEN),
                        received_on=received_on,
                        method="bank_transfer",
                        bank_reference=f"SW{seed}{i:08d}",
                    )
                    foreign += 1
                else:
                    body = ContributionCreate(
                        donor_id=rng.choice(donor_ids) if roll < 0.6 else None,
                        amount=_vnd(rng),
                        received_on=received_on,
                        method="bank_transfer" if roll < 0.9 else "cash",
                        bank_reference=f"FT{seed}{i:08d}" if roll < 0.9 else None,
                    )
                contribution = contributions.create(session, campaign, contribution_in=body)
                if len(recorded) < 20:
                    recorded.append(contribution.id)
            done = min(n, done + BATCH)
        if on_batch is not None:
            on_batch(code)
        print(f"  {code}: {done:>7,} / {n:,} contributions", end="\r", file=sys.stderr, flush=True)
    print(file=sys.stderr)

    reversals = allocated = delivered = 0
    with harness.system_transaction(database) as session:
        # A few corrections, then money allocated to the communes, some of it delivered.
        for contribution_id in recorded[:3]:
            contributions.reverse(
                session, contributions.get(session, contribution_id), reason="Nhập trùng sao kê"
            )
            reversals += 1
        campaign = session.get_one(Campaign, campaign_id)
        allocation_ids = []
        for i in range(12):
            allocation = allocations.create(
                session,
                campaign,
                allocation_in=AllocationCreate(
                    location_id=location_ids[i % len(location_ids)],
                    amount=Decimal(rng.randrange(1, 50) * 1_000_000),
                    purpose="Hỗ trợ làm nhà cho hộ mất nhà",
                    allocated_on=today,
                ),
            )
            allocation_ids.append(allocation.id)
            allocated += 1
        for allocation_id in allocation_ids[:6]:
            allocations.deliver(
                session,
                allocations.get(session, allocation_id),
                delivery=AllocationDeliver(delivered_on=today, delivery_note="Đã trao tận tay"),
            )
            delivered += 1
        allocations.cancel(session, allocations.get(session, allocation_ids[-1]), reason="Trùng")

    return Built(
        code=code,
        contributions=n,
        pledges=pledged,
        foreign=foreign,
        reversals=reversals,
        allocations=allocated,
        deliveries=delivered,
        seconds=time.perf_counter() - started,
    )


# --------------------------------------------------------------------------- measuring


def measure(
    client: TestClient, codes: list[str], *, requests: int, warmup: int
) -> dict[str, Timing]:
    """Time `requests` reconciliations per campaign, alternating campaigns so that
    drift (caches, other load on the machine) hits both alike."""
    timings = {code: Timing() for code in codes}
    for round_ in range(warmup + requests):
        for code in codes:
            started = time.perf_counter()
            response = client.get(f"/v1/campaigns/{code}/reconciliation")
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                raise SystemExit(
                    f"reconciliation of {code}: {response.status_code} {response.text}"
                )
            if round_ >= warmup:
                timings[code].samples_ms.append(elapsed)
    return timings


def check_reconciliation(client: TestClient, built: Built) -> dict[str, Any]:
    body: dict[str, Any] = client.get(f"/v1/campaigns/{built.code}/reconciliation").json()
    failed = [c["name"] for c in body["checks"] if not c["ok"]]
    if failed:
        raise SystemExit(f"{built.code}: failed checks {failed}")
    expected = built.contributions - built.reversals
    if body["money"]["contributions_count"] != expected:
        raise SystemExit(f"{built.code}: {body['money']['contributions_count']} ≠ {expected}")
    return body


def verify_full(client: TestClient, code: str) -> tuple[float, int]:
    """Seconds for one `?verify=full` of `code`, and the entries it replayed."""
    started = time.perf_counter()
    body = client.get(f"/v1/campaigns/{code}/reconciliation", params={"verify": "full"}).json()
    elapsed = time.perf_counter() - started
    failed = [c["name"] for c in body["checks"] if not c["ok"]]
    if failed:
        raise SystemExit(f"{code}: verify=full failed checks {failed}")
    return elapsed, int(body["ledger"]["entries"])


def audit_verify(client: TestClient) -> tuple[float, int, int]:
    """Seconds for one `GET /v1/audit/verify`, the ledger entries and audit events it checked."""
    started = time.perf_counter()
    body = client.get("/v1/audit/verify").json()
    elapsed = time.perf_counter() - started
    if not body.get("ok"):
        raise SystemExit(f"/v1/audit/verify failed: {body}")
    return elapsed, int(body["ledger_entries"]), int(body["audit_events"])


def report_verification(client: TestClient, codes: list[str], rounds: int) -> None:
    """Full verification in entries per second (target ≥ 50,000), `rounds` times each."""
    print(f"\nFull verification ({client.app.state.database.engine.dialect.name}), "  # type: ignore[attr-defined]
          f"{rounds} round(s); target ≥ {VERIFY_TARGET:,} entries/s")  # fmt: skip
    for _ in range(rounds):
        for code in codes:
            seconds, entries = verify_full(client, code)
            rate = entries / seconds
            verdict = "OK" if rate >= VERIFY_TARGET else "BELOW TARGET"
            print(f"  verify=full {code:<24} {entries:>9,} entries {seconds:7.2f}s "
                  f"{rate:>9,.0f} entries/s  {verdict}")  # fmt: skip
        seconds, entries, events = audit_verify(client)
        rate = entries / seconds
        verdict = "OK" if rate >= VERIFY_TARGET else "BELOW TARGET"
        print(f"  /v1/audit/verify {'':<19} {entries:>9,} entries {seconds:7.2f}s "
              f"{rate:>9,.0f} entries/s  {verdict} (and {events:,} audit events)")  # fmt: skip


@dataclass
class Statement:
    sql: str
    params: Any
    ms: list[float] = field(default_factory=list)


def profile(
    client: TestClient, database: Database, codes: list[str], runs: int = 30
) -> dict[str, dict[str, Statement]]:
    """Per-statement time of one reconciliation request, averaged over `runs` requests."""
    engine = database.engine
    current: dict[str, Statement] = {}
    starts: list[float] = []

    def before(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        starts.append(time.perf_counter())

    def after(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        elapsed = (time.perf_counter() - starts.pop()) * 1000
        current.setdefault(statement, Statement(statement, params)).ms.append(elapsed)

    result: dict[str, dict[str, Statement]] = {}
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        for code in codes:
            current = {}
            for _ in range(runs):
                client.get(f"/v1/campaigns/{code}/reconciliation")
            result[code] = current
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    return result


def explain(database: Database, statement: Statement) -> str:
    prefix = "EXPLAIN QUERY PLAN " if database.is_sqlite else "EXPLAIN (ANALYZE, BUFFERS) "
    with database.engine.connect() as conn:
        rows = conn.exec_driver_sql(prefix + statement.sql, statement.params).fetchall()
    if database.is_sqlite:
        return "\n".join(f"    {row[-1]}" for row in rows)
    return "\n".join(f"    {row[0]}" for row in rows)


def report_growth(
    client: TestClient, database: Database, small: str, large: str, runs: int
) -> None:
    by_code = profile(client, database, [small, large], runs=runs)
    per_request: dict[str, tuple[float, float]] = defaultdict(lambda: (0.0, 0.0))
    statements: dict[str, Statement] = {}
    for index, code in enumerate((small, large)):
        for sql, stmt in by_code[code].items():
            total = sum(stmt.ms) / runs
            pair = list(per_request[sql])
            pair[index] = total
            per_request[sql] = (pair[0], pair[1])
            statements.setdefault(sql, stmt)
    print("\nPer-statement time per request (ms), sorted by growth:")
    print(f"{small:>20} {large:>20} {'Δ':>9}  statement")
    ranked = sorted(per_request.items(), key=lambda kv: kv[1][1] - kv[1][0], reverse=True)
    for sql, (a, b) in ranked:
        one_line = " ".join(sql.split())
        print(f"{a:20.3f} {b:20.3f} {b - a:9.3f}  {one_line[:150]}")
    for sql, (a, b) in ranked[:3]:
        if b - a <= 0.05:
            continue
        print(f"\nPlan on {large} of: {' '.join(sql.split())[:300]}")
        print(explain(database, by_code[large].get(sql, statements[sql])))


# --------------------------------------------------------------------------- main


def run(url: str, args: argparse.Namespace) -> float:
    backend = make_url(url).get_backend_name()
    print(f"database: {make_url(url).render_as_string()} ({backend})")
    if backend == "postgresql":
        # Without autovacuum nothing ever ANALYZEs the new tables: plans rest on guesses.
        engine = create_engine(url)
        with engine.connect() as conn:
            version = conn.exec_driver_sql("SHOW server_version").scalar()
            autovacuum = conn.exec_driver_sql("SHOW autovacuum").scalar()
        engine.dispose()
        print(f"server {version}, autovacuum {autovacuum}")
    started = time.perf_counter()
    harness.migrate(url)
    print(f"migrated in {time.perf_counter() - started:.1f}s")

    suffix = uuid.uuid4().hex[:6]
    built: list[Built] = []
    # The server is up while the campaigns grow and answers reconciliations after every
    # batch, like a service that auditors query all along: its pooled connections (and,
    # on PostgreSQL, their prepared statements) first see the campaigns small.
    with harness.admin_client(url) as live:
        database: Database = live.app.state.database  # type: ignore[attr-defined]

        def serve_auditors(code: str) -> None:
            for _ in range(8):
                if live.get(f"/v1/campaigns/{code}/reconciliation").status_code != 200:
                    raise SystemExit(f"reconciliation of {code} failed while building")

        for n in (args.small, args.large):
            code = f"bench-{n}-{suffix}"
            print(f"building {code} …", file=sys.stderr)
            built.append(build_campaign(database, code, n, seed=n, on_batch=serve_auditors))

        print()
        print(f"{'campaign':<22} {'contrib.':>9} {'pledged':>8} {'foreign':>8} {'reversed':>8} "
              f"{'alloc.':>6} {'deliv.':>6} {'build s':>8} {'per contrib.':>12}")  # fmt: skip
        for b in built:
            print(
                f"{b.code:<22} {b.contributions:>9,} {b.pledges:>8,} {b.foreign:>8,} "
                f"{b.reversals:>8} {b.allocations:>6} {b.deliveries:>6} {b.seconds:>8.1f} "
                f"{b.seconds / b.contributions * 1000:>10.2f}ms"
            )
        for b in built:
            body = check_reconciliation(live, b)
            print(
                f"{b.code}: received {body['money']['received']} VND, "
                f"{body['money']['contributions_count']:,} contributions, "
                f"{body['ledger']['entries']:,} entries, checks ok"
            )
        if args.verify_full:
            report_verification(live, [b.code for b in built], rounds=1)
        ratios = [benchmark(live, built, args, "server that saw them grow")]

    with harness.admin_client(url) as fresh:
        ratios.append(benchmark(fresh, built, args, "freshly started server"))
    return max(ratios)


def benchmark(
    client: TestClient, built: list[Built], args: argparse.Namespace, label: str
) -> float:
    database: Database = client.app.state.database  # type: ignore[attr-defined]
    timings = measure(client, [b.code for b in built], requests=args.requests, warmup=args.warmup)
    small, large = (timings[b.code] for b in built)
    ratio = large.median / small.median
    print()
    print(f"GET /v1/campaigns/{{code}}/reconciliation on a {label} ({database.engine.dialect.name}): "
          f"{args.requests} requests each after {args.warmup} warm-up")  # fmt: skip
    print(f"{'contributions':>14} {'median ms':>10} {'p95 ms':>10} {'min ms':>10}")
    for b in built:
        t = timings[b.code]
        print(f"{b.contributions:>14,} {t.median:>10.2f} {t.p95:>10.2f} {min(t.samples_ms):>10.2f}")
    verdict = "OK" if ratio <= TARGET_RATIO else "ABOVE TARGET"
    print(
        f"{'ratio':>14} {ratio:>10.2f}   median({built[1].contributions:,}) / "
        f"median({built[0].contributions:,}); target ≤ {TARGET_RATIO} → {verdict}"
    )
    if ratio > TARGET_RATIO or args.profile:
        report_growth(client, database, built[0].code, built[1].code, runs=30)
    return ratio


def main(argv: list[str] | None = None) -> int:
    parser = harness.argument_parser(__doc__, "bench.reconciliation")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--database-url",
        help="an existing database to migrate and fill (kept); default: a temporary SQLite file",
    )
    harness.add_postgres_option(where)
    parser.add_argument(
        "--small", type=int, default=1_000, help="contributions in the small campaign"
    )
    parser.add_argument(
        "--large", type=int, default=100_000, help="contributions in the large campaign"
    )
    parser.add_argument("--requests", type=int, default=200, help="timed requests per campaign")
    parser.add_argument(
        "--warmup", type=int, default=20, help="untimed requests per campaign first"
    )
    parser.add_argument(
        "--verify-full", action="store_true", help="also time one ?verify=full each"
    )
    parser.add_argument(
        "--profile", action="store_true", help="print per-statement times even when on target"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary database")
    parser.add_argument(
        "--verify-only",
        type=int,
        metavar="ROUNDS",
        help="with --database-url of a database this benchmark filled: build nothing, only "
        "time ?verify=full of its campaigns and /v1/audit/verify, ROUNDS times",
    )
    args = parser.parse_args(argv)
    if args.verify_only:
        if not args.database_url:
            parser.error("--verify-only needs --database-url")
        with harness.admin_client(args.database_url) as client:
            database: Database = client.app.state.database  # type: ignore[attr-defined]
            with database.engine.connect() as conn:
                codes = list(
                    conn.scalars(
                        select(Campaign.code)
                        .where(Campaign.code.like("bench-%"))
                        .order_by(Campaign.id)
                    )
                )
            report_verification(client, codes, rounds=args.verify_only)
        return 0

    with harness.database(url=args.database_url, postgres=args.postgres, keep=args.keep) as url:
        ratio = run(url, args)
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())
