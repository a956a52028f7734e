"""The ASGI application: `app.main:app`."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.allocations.router import router as allocations_router
from app.audit import log as audit_log
from app.audit.router import router as audit_router
from app.campaigns.router import router as campaigns_router
from app.config import get_settings
from app.contributions.router import router as contributions_router
from app.db import Database
from app.distribution.router import router as distribution_router
from app.donors.router import router as donors_router
from app.errors import (
    PROBLEM_MEDIA_TYPE,
    Problem,
    database_unavailable,
    install_error_handlers,
    problem,
)
from app.idempotency import service as idempotency
from app.items.router import router as items_router
from app.keys import service as keys
from app.keys.router import router as keys_router
from app.ledger.router import router as ledger_router
from app.locations.router import router as locations_router
from app.pledges.router import router as pledges_router
from app.public.router import router as public_router
from app.receiving_accounts.router import public_router as public_accounts_router
from app.receiving_accounts.router import router as receiving_accounts_router
from app.reconciliation.router import router as reconciliation_router
from app.reconciliation.router import verify_router as audit_verify_router
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

Amounts are exact decimal strings. Errors are RFC 9457 `application/problem+json`
(the `Problem` schema): `code` names the rule that refused the request. Every operation
lists the error statuses it can answer. Unknown body fields and unknown query parameters
are refused (422), never ignored.

Send an API key as `Authorization: Bearer <key>` (`relief keys create`): admins do
everything, officers write within their unit, auditors read everything and change
nothing. The `public` operations need no key.
"""

TAGS = [
    {
        "name": "campaigns",
        "description": "Relief appeals: create (draft), open, close; sub-campaigns belong to the parent's unit or a unit below it.",
    },
    {
        "name": "donors",
        "description": "Who gives: individuals and organisations; an anonymous donor's name is never shown publicly.",
    },
    {"name": "pledges", "description": "Promises to give, fulfilled by contributions."},
    {
        "name": "contributions",
        "description": "Money and goods received, each booked once on the campaign's ledger; corrections are reversals, never edits.",
    },
    {
        "name": "items",
        "description": "The catalogue of goods (rice, breeding goats …) and their units.",
    },
    {
        "name": "locations",
        "description": "Places money and goods go to: provinces, districts, communes.",
    },
    {
        "name": "allocations",
        "description": "Money or goods assigned to a place, then delivered with evidence.",
    },
    {
        "name": "reconciliation",
        "description": "A campaign's proven totals as of any moment, with the checks an auditor can repeat.",
    },
    {
        "name": "distribution",
        "description": "Where a campaign's money and goods went, place by place.",
    },
    {"name": "ledger", "description": "The append-only, hash-chained entries behind every figure."},
    {
        "name": "audit",
        "description": "Who changed what and when, and a verification of every chain. Auditor and admin keys only.",
    },
    {
        "name": "public",
        "description": "What anyone may see without a key: open and closed campaigns, their statements (JSON or CSV) and receipts.",
    },
    {
        "name": "receiving accounts",
        "description": "The official bank accounts a campaign receives money on.",
    },
    {
        "name": "statements",
        "description": "Bank statement import: one CSV file, all its lines booked or none.",
    },
    {
        "name": "units",
        "description": "The organisation's units (province, district …); keys and campaigns belong to one. Admin keys only.",
    },
    {"name": "keys", "description": "API keys: create, list, revoke. Admin keys only."},
    {
        "name": "transparency",
        "description": "Each campaign's ledger as a transparency log: signed checkpoints, "
        "inclusion and consistency proofs, auditors' cosignatures (RFC 9162, C2SP).",
    },
    {
        "name": "health",
        "description": "Probes for the orchestrator: liveness (`/health`) and readiness (`/ready`).",
    },
]

# Swagger UI and ReDoc assets shipped in the fastapi-offline package: no CDN.
DOCS_ASSETS = "/docs-assets"
_ASSETS_DIR = resources.files("fastapi_offline") / "static"


def _install_docs(app: FastAPI) -> None:
    """Serve /docs and /redoc from assets packaged with the service (no CDN)."""
    app.mount(DOCS_ASSETS, StaticFiles(directory=str(_ASSETS_DIR)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Relief Ledger – API",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json",
            title="Relief Ledger – API",
            redoc_js_url=f"{DOCS_ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{DOCS_ASSETS}/favicon.png",
            with_google_fonts=False,
        )


def _install_problem_schema(app: FastAPI) -> None:
    """Put the `Problem` schema, which every error response refers to, in the document."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            problem_schema = Problem.model_json_schema(
                ref_template="#/components/schemas/{model}", by_alias=True
            )
            schemas.update(problem_schema.pop("$defs", {}))
            schemas["Problem"] = problem_schema
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _install_probes(app: FastAPI, database: Database) -> None:
    @app.get(
        "/health",
        tags=["health"],
        summary="Liveness: the process answers",
        description="Answers at once without touching the database (so a long import "
        "holding the write lock never makes the process look dead). Needs no key.",
    )
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/ready",
        tags=["health"],
        summary="Readiness: the database answers a read",
        description="Reads one row of the migrated schema on a read-only connection (never "
        "the write lock). 503 `database_unavailable` or `database_not_migrated` when the "
        "service cannot serve requests. Needs no key.",
        responses={
            503: {
                "description": "The database is unreachable or not migrated.",
                "content": {
                    PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}
                },
            }
        },
    )
    def ready() -> Any:
        started = time.perf_counter()
        try:
            with database.session(read_only=True) as session:
                session.execute(text("SELECT id FROM units LIMIT 1")).all()
        except DBAPIError as exc:
            outage = database_unavailable(exc)
            if outage is None:
                raise
            response = problem(503, outage.code, outage.detail, instance="/ready")
            response.headers["Retry-After"] = "5"
            return response
        return {
            "status": "ready",
            "database": database.engine.dialect.name,
            "read_ms": round((time.perf_counter() - started) * 1000, 1),
        }


def create_app(database_url: str | None = None) -> FastAPI:
    database = Database(database_url or get_settings().database_url)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        keys.warn_without_admin_key(database)
        signing.load()  # refuses to start with a signing key others may read
        stop_checkpoints = checkpoint_interval.start(database)
        yield
        stop_checkpoints.set()
        database.dispose()

    app = FastAPI(
        title="Relief Ledger",
        version="0.1.0",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
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
        audit_verify_router,
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

    _install_docs(app)
    _install_probes(app, database)
    _install_problem_schema(app)
    return app


app = create_app()
