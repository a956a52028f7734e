from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field

from app.campaigns.schemas import Currency
from app.contributions.schemas import Contribution
from app.feed.models import FeedOutcome
from app.money import PositiveDecimal
from app.schemas import InputModel
from app.text import Text, Token


class Counterparty(InputModel):
    """Who sent the money, as the bank knows them (kept with the post, never published)."""

    name: Annotated[Text | None, Field(max_length=300, examples=["NGUYEN VAN AN"])] = None
    account: Annotated[Token | None, Field(max_length=64, examples=["0451000123456"])] = None
    bank: Annotated[Text | None, Field(max_length=200, examples=["Vietcombank"])] = None


class FeedTransfer(InputModel):
    """One incoming transfer, as the bank posts it (see docs/api.md, "The bank feed")."""

    transaction_id: Annotated[
        Token,
        Field(
            max_length=100,
            description="The bank's (or aggregator's) id of this transfer, unique per "
            "receiving account: the feed's idempotency key.",
        ),
    ]
    bank_reference: Annotated[
        Token | None,
        Field(
            max_length=100,
            description="The number the bank statement prints for this line (reference "
            "number, or else document number); defaults to `transaction_id`.",
        ),
    ] = None
    account_number: Annotated[
        str, Field(min_length=1, max_length=64, description="The receiving account's number.")
    ]
    direction: Literal["credit", "debit"] = Field(
        description="`credit` (money in) is booked; `debit` is refused."
    )
    amount: PositiveDecimal = Field(description="Plain decimal in the account's currency.")
    currency: Currency | None = Field(None, description="Defaults to the campaign's currency.")
    transferred_at: AwareDatetime = Field(
        description="When the bank credited the account (RFC 3339 with offset); its date in "
        "Vietnam is the contribution's `received_on`."
    )
    sent_at: AwareDatetime = Field(
        description="When this request was sent: refused unless within the last five "
        "minutes (and at most a minute ahead)."
    )
    message: Annotated[
        Text | None,
        Field(max_length=1000, description="The transfer message, as the statement prints it."),
    ] = None
    counterparty: Counterparty | None = None


class FeedResult(BaseModel):
    """What the feed did with a transfer; a repeat of its transaction id answers the same."""

    transaction_id: str
    outcome: FeedOutcome
    replayed: bool = Field(description="True when this transaction id was answered before.")
    contribution: Contribution | None = Field(
        description="The contribution booked (null for a `duplicate`)."
    )


class FeedSecret(BaseModel):
    id: int
    receiving_account_id: int
    created_at: datetime
    retires_at: datetime | None
    revoked_at: datetime | None
    status: Literal["active", "retiring", "retired", "revoked"]


class FeedSecretIssued(FeedSecret):
    secret: str = Field(description="Shown once: the HMAC-SHA256 key, as UTF-8 bytes.")
