"""What the service counts, for Prometheus: `GET /metrics` in the text format.

Requests are counted by route TEMPLATE (`/v1/campaigns/{code}/contributions`, never the
raw path: one series per route, not per campaign) and status, with latency histograms
(`observe_request`, called once per request by `app.requests.AccessMiddleware`).

What requests write is counted only once it is COMMITTED: `count_on_commit(session, …)`
keeps the increment in the session until its transaction commits (a session
`after_commit` event), and forgets it when the transaction ends any other way, so a
refused or rolled-back request (or an attempt re-run after a lost race) counts nothing.

Database pool use is read at scrape time from the `Database` given to `watch` (its
engine's pool and its `turn` turnstiles): nothing is sampled between scrapes.

Several processes: with `PROMETHEUS_MULTIPROC_DIR` set (an empty directory, shared by
the processes, emptied before they start), prometheus-client keeps every counter and
histogram in files there and a scrape of any process adds up all of them; the pool
gauges are then the answering process's own (docs/operations.md).
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterator, Mapping
from typing import Literal, Protocol

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

CONTENT_TYPE = CONTENT_TYPE_LATEST
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"

# This process's metrics. In multiprocess mode the values live in files and a scrape reads
# them through a fresh registry (`render`).
REGISTRY = CollectorRegistry()
if not os.environ.get(MULTIPROCESS_ENV):
    ProcessCollector(registry=REGISTRY)

HTTP_REQUESTS = Counter(
    "relief_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_DURATION = Histogram(
    "relief_http_request_duration_seconds",
    "Time from a request's arrival to the end of its response, by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=REGISTRY,
)
LEDGER_ENTRIES = Counter(
    "relief_ledger_entries",
    "Ledger entries committed, by entry kind.",
    ["kind"],
    registry=REGISTRY,
)
StatementOutcome = Literal["imported", "duplicate", "skipped"]
STATEMENT_ROWS = Counter(
    "relief_statement_rows",
    "Bank statement rows of committed imports: credits booked (imported), credits already "
    "recorded (duplicate), debits and other rows not booked (skipped).",
    ["outcome"],
    registry=REGISTRY,
)
FeedOutcome = Literal["accepted", "duplicate", "refused"]
FEED_POSTS = Counter(
    "relief_feed_posts",
    "Bank feed posts: accepted (booked), duplicate (a transfer already recorded, by the "
    "bank's transaction id or as a bank line), refused (bad or missing signature, stale "
    "timestamp, invalid body).",
    ["outcome"],
    registry=REGISTRY,
)
VerifyCheck = Literal["reconciliation", "audit"]
VERIFY_FAILURES = Counter(
    "relief_verify_failures",
    "Verifications that found something wrong: a reconciliation with verify=full whose "
    "checks did not all pass, or GET /v1/audit/verify answering ok=false.",
    ["check"],
    registry=REGISTRY,
)
# Every series that alerts watch exists from the start, at 0 (a rate needs two points).
for _outcome in ("imported", "duplicate", "skipped"):
    STATEMENT_ROWS.labels(_outcome)
for _outcome in ("accepted", "duplicate", "refused"):
    FEED_POSTS.labels(_outcome)
for _check in ("reconciliation", "audit"):
    VERIFY_FAILURES.labels(_check)


# ---- counted on commit -------------------------------------------------------------

_PENDING = "relief_metrics_pending"


def count_on_commit(session: Session, counter: Counter, amount: float = 1) -> None:
    """Add `amount` to `counter` (a labelled child) when `session`'s transaction commits;
    nothing if it rolls back."""
    if amount:
        session.info.setdefault(_PENDING, []).append((counter, amount))


@event.listens_for(Session, "after_commit")
def _apply_pending(session: Session) -> None:
    for counter, amount in session.info.pop(_PENDING, ()):
        counter.inc(amount)


@event.listens_for(Session, "after_transaction_end")
def _forget_pending(session: Session, transaction: SessionTransaction) -> None:
    # Runs after `after_commit` too (which has emptied the list): only a transaction that
    # ended otherwise — rolled back, or closed unfinished — still has increments to drop.
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


# ---- the helpers the services call (one line each) ---------------------------------


def entries_written(session: Session, kinds: Mapping[str, int]) -> None:
    """Ledger entries appended in this transaction, counted by kind once it commits."""
    for kind, count in kinds.items():
        count_on_commit(session, LEDGER_ENTRIES.labels(kind), count)


def statement_imported(session: Session, *, imported: int, duplicates: int, skipped: int) -> None:
    """A bank statement import's rows, counted once the import commits (a dry run or a
    refused file counts nothing: do not call it for them)."""
    count_on_commit(session, STATEMENT_ROWS.labels("imported"), imported)
    count_on_commit(session, STATEMENT_ROWS.labels("duplicate"), duplicates)
    count_on_commit(session, STATEMENT_ROWS.labels("skipped"), skipped)


def feed_post(outcome: FeedOutcome, *, session: Session | None = None) -> None:
    """Count one bank feed post (`relief_feed_posts_total{outcome}`).

    An accepted or duplicate post passes the request's `session`: it counts when that
    transaction commits, so a post rolled back (and retried after a lost race) counts
    once. A refused post (401 bad or missing signature, a stale timestamp, an invalid
    body: answers that roll back) passes no session and counts at once.
    """
    child = FEED_POSTS.labels(outcome)
    if session is None:
        child.inc()
    else:
        count_on_commit(session, child)


def verify_failed(session: Session, check: VerifyCheck) -> None:
    """A verification found something wrong (counted with its request's transaction)."""
    count_on_commit(session, VERIFY_FAILURES.labels(check))


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """One answered HTTP request (`route` is its template, or `unmatched`)."""
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_DURATION.labels(method, route).observe(seconds)


# ---- database pool use, read at scrape time ----------------------------------------


class PoolSource(Protocol):
    def pool_use(self) -> Mapping[str, int]: ...


class _PoolCollector(Collector):
    """Gauges of the watched database's pool and turnstiles (see `Database.pool_use`)."""

    def __init__(self) -> None:
        self.source: weakref.ReferenceType[PoolSource] | None = None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        source = self.source() if self.source is not None else None
        if source is None:
            return
        use = source.pool_use()
        family = GaugeMetricFamily(
            "relief_db_pool",
            "Database connections and request turns of this process, by state: "
            "connections checked_out, idle (in the pool), overflow, size (pool_size); "
            "turns holding a transaction and waiting for one, for writers and readers.",
            labels=["state"],
        )
        for state, value in sorted(use.items()):
            family.add_metric([state], value)
        yield family


_POOL = _PoolCollector()
REGISTRY.register(_POOL)


def watch(database: PoolSource) -> None:
    """Report this database's pool use (the process's one `Database`; the latest wins)."""
    _POOL.source = weakref.ref(database)


# ---- the scrape --------------------------------------------------------------------


def render() -> bytes:
    """The metrics in the Prometheus text format: this process's, or in multiprocess mode
    every process's counters and histograms plus this process's pool gauges."""
    if os.environ.get(MULTIPROCESS_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        registry.register(_POOL)
        return generate_latest(registry)
    return generate_latest(REGISTRY)
