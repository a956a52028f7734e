"""The floor for `bench.write_path`: the least a contribution POST can cost on this machine.

A bare FastAPI app with one sync endpoint that validates a contribution-shaped body with
Pydantic and INSERTs one row into one table of the same kind of database (a pooled
SQLAlchemy engine, one transaction per request), and nothing else: no key, no campaign,
no ledger, no audit log. Served by uvicorn like the real service:

    FLOOR_DATABASE_URL=sqlite:////tmp/floor.db uvicorn bench.floor_app:app
"""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import (
    Column,
    Date,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    create_engine,
    event,
    insert,
)

metadata = MetaData()
floor_contributions = Table(
    "floor_contributions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("amount", Numeric(38, 18), nullable=False),
    Column("received_on", Date, nullable=False),
    Column("method", String(20), nullable=False),
    Column("bank_reference", String(100), nullable=False, unique=True),
    Column("description", String(1000)),
)


class FloorContribution(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Decimal = Field(gt=0)
    received_on: date
    method: str = Field(max_length=20)
    bank_reference: str = Field(max_length=100)
    description: str | None = Field(None, max_length=1000)


url = os.environ.get("FLOOR_DATABASE_URL", "sqlite:///./floor.db")
engine = create_engine(url)
if url.startswith("sqlite"):

    @event.listens_for(engine, "connect")
    def _wal(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        dbapi_conn.execute("PRAGMA journal_mode=WAL")
        dbapi_conn.execute("PRAGMA synchronous=NORMAL")
        dbapi_conn.execute("PRAGMA busy_timeout=30000")


metadata.create_all(engine)
app = FastAPI()


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/contributions", status_code=201)
def contribute(body: FloorContribution) -> dict[str, int]:
    with engine.begin() as conn:
        new_id = conn.execute(
            insert(floor_contributions).returning(floor_contributions.c.id),
            body.model_dump(),
        ).scalar_one()
    return {"id": new_id}
