from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from app import routing
from app.campaigns.dependencies import CampaignDep
from app.db import SessionDep
from app.errors import DomainError
from app.keys.auth import Authorized
from app.routing import MAX_BODY_EXTRA
from app.statements import service
from app.statements.schemas import StatementReport

router = routing.router(tags=["statements"], dependencies=[Authorized])

CSV_MEDIA_TYPES = {"text/csv", "application/csv"}
# 100,000 rows are about 10 MB; five times that is still one statement, not an accident.
MAX_STATEMENT_BYTES = 50 * 1024 * 1024

EXAMPLE = (
    "date,amount,description,bank_reference\n"
    '05/10/2022,"1.500.000",KS-9PLD ung ho dong bao lu lut Ky Son,FT22278001\n'
    "2022-10-06,200000,QR - NGUYEN VAN AN ung ho,FT22279002\n"
)


class UnsupportedMediaType(DomainError):
    status = 415


async def statement_csv(request: Request) -> bytes:
    """The request body, which must be CSV (and at most `MAX_STATEMENT_BYTES`)."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type not in CSV_MEDIA_TYPES:
        raise UnsupportedMediaType(
            "statement_must_be_csv",
            f"Send the statement as Content-Type: text/csv, not {media_type or 'nothing'!r}.",
        )
    # TransactionalRoute has read it already, refusing (413) more than MAX_STATEMENT_BYTES.
    return await request.body()


StatementCsv = Annotated[bytes, Depends(statement_csv)]


@router.post(
    "/campaigns/{code}/statements",
    response_model=StatementReport,
    summary="Import a bank statement (CSV)",
    description=(
        "Credit rows become bank-transfer contributions; a description carrying a pledge's "
        "`reference` fulfils that pledge; debit rows are `skipped`; bank references already "
        "recorded are `duplicates`. Any bad line imports nothing: 422 with "
        "`errors: [{line, reason}]` for every one (the header is line 1)."
    ),
    openapi_extra={
        MAX_BODY_EXTRA: MAX_STATEMENT_BYTES,
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string"}, "example": EXAMPLE}},
        },
    },
)
def import_statement(
    campaign: CampaignDep,
    body: StatementCsv,
    session: SessionDep,
    dry_run: Annotated[
        bool, Query(description="Compute the whole report and write nothing.")
    ] = False,
) -> StatementReport:
    return service.import_statement(session, campaign, data=body, dry_run=dry_run)
