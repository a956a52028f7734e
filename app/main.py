"""The ASGI application: `app.main:app`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import text

from app.allocations.router import router as allocations_router
from app.audit import log as audit_log
from app.audit.router import router as audit_router
from app.campaigns.router import router as campaigns_router
from app.config import get_settings
from app.contributions.router import router as contributions_router
from app.db import Database
from app.distribution.router import router as distribution_router
from app.donors.router import router as donors_router
from app.errors import install_error_handlers
from app.idempotency import service as idempotency
from app.items.router import router as items_router
from app.keys.cli import warn_without_admin_key
from app.keys.router import router as keys_router
from app.ledger.router import router as ledger_router
from app.locations.router import router as locations_router
from app.pledges.router import router as pledges_router
from app.public.router import router as public_router
from app.receiving_accounts.router import public_router as public_accounts_router
from app.receiving_accounts.router import router as receiving_accounts_router
from app.reconciliation.router import router as reconciliation_router
from app.requests import RequestIdMiddleware
from app.statements.router import router as statements_router
from app.transparency import interval as checkpoint_interval
from app.transparency import router as transparency
from app.transparency import signing
from app.units.router import router as units_router

DESCRIPTION = """
Relief Ledger records disaster-relief appeals, pledges, money received, and its
allocation to places, on an append-only, hash-chained double-entry ledger, and proves
every campaign's totals in a reconciliation an auditor can check to the last đồng.

Amounts are exact decimal strings. Errors are RFC 9457 `application/problem+json`.
"""


def create_app(database_url: str | None = None) -> FastAPI:
    database = Database(database_url or get_settings().database_url)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        warn_without_admin_key(database)
        signing.load()  # refuses to start with a signing key others may read
        stop_checkpoints = checkpoint_interval.start(database)
        yield
        stop_checkpoints.set()
        database.dispose()

    app = FastAPI(
        title="Relief Ledger",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.database = database
    audit_log.install()
    app.add_middleware(RequestIdMiddleware)
    install_error_handlers(app)
    idempotency.install(app)
    for router in (
        campaigns_router,
        donors_router,
        pledges_router,
        contributions_router,
        items_router,
        locations_router,
        allocations_router,
        reconciliation_router,
        distribution_router,
        ledger_router,
        audit_router,
        public_router,
        receiving_accounts_router,
        public_accounts_router,
        statements_router,
        units_router,
        keys_router,
        transparency.public_router,
        transparency.router,
        transparency.auditor_router,
    ):
        app.include_router(router)

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        with database.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok", "database": database.engine.dialect.name}

    return app


app = create_app()
