"""Cursor pagination: `?limit=&cursor=` → `{"items": [...], "next_cursor": ...}`.

Lists are ordered by id; the cursor is the opaque last id seen, so pages stay stable
while new records arrive.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterator, Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy import Select
from sqlalchemy.orm import Session

from app.config import get_settings
from app.errors import Invalid

T = TypeVar("T")
# The largest id a table holds (PostgreSQL integer, as `app.ids.MAX_ID`, a module of the
# same layer): a cursor beyond it was never issued.
MAX_CURSOR_ID = 2**31 - 1
S = TypeVar("S")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


class PageParams(BaseModel):
    limit: int
    after_id: int | None


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode()).decode()
        prefix, _, value = text.partition(":")
        digits = value.isascii() and value.isdigit()
        if prefix != "id" or not digits or int(value) > MAX_CURSOR_ID:
            raise ValueError
        return int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise Invalid.field(
            "cursor", "invalid_cursor", "the cursor is not one this service issued"
        ) from exc


def page_params(
    limit: Annotated[
        int | None, Query(ge=1, description="Page size (default 50, max 500).")
    ] = None,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
) -> PageParams:
    settings = get_settings()
    size = limit or settings.default_page_size
    if size > settings.max_page_size:
        raise Invalid.field(
            "limit", "page_too_large", f"limit must be at most {settings.max_page_size}"
        )
    return PageParams(limit=size, after_id=decode_cursor(cursor) if cursor else None)


PageDep = Annotated[PageParams, Depends(page_params)]


def paginate(
    session: Session,
    stmt: Select[Any],
    id_column: Any,
    params: PageParams,
    render: Callable[[Any], S],
) -> Page[S]:
    """Run `stmt` (selecting ORM rows) one page at a time, ordered by `id_column`."""
    if params.after_id is not None:
        stmt = stmt.where(id_column > params.after_id)
    rows: Sequence[Any] = session.scalars(stmt.order_by(id_column).limit(params.limit + 1)).all()
    more = len(rows) > params.limit
    rows = rows[: params.limit]
    next_cursor = encode_cursor(rows[-1].id) if more and rows else None
    return Page[S](items=[render(r) for r in rows], next_cursor=next_cursor)


# Rows an export reads at a time: memory stays flat whatever the number of rows.
EXPORT_BATCH = 1000


def in_batches(
    session: Session, stmt: Select[Any], id_column: Any, size: int = EXPORT_BATCH
) -> Iterator[Sequence[Any]]:
    """Every row of `stmt` (selecting ORM rows with an `id`), `size` at a time, ordered by
    `id_column`: one keyset query per batch, so an export streams in constant memory."""
    after = 0
    while True:
        batch = session.scalars(stmt.where(id_column > after).order_by(id_column).limit(size)).all()
        if not batch:
            return
        yield batch
        after = batch[-1].id
