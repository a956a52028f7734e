"""The live bank feed: one signed transfer at a time, booked exactly as a statement line.

A post is refused (4xx, nothing written, not even the audit log) unless it is signed with
one of the receiving account's valid secrets and was sent within `WINDOW` of now. An
accepted credit goes through the statement import's own steps: pledge matching
(`statements.matching`), the bank-line duplicate rule (`contributions.bank_lines`, under the
same locks) and the one writer of bank credits (`contributions.record_bank_credits`).

Its identity as a bank line is its bank reference, amount and message: it is stored like a
contribution typed in with a bank reference (no statement fingerprint, which depends on the
statement's layout), so when the monthly statement lists the same line — same reference or
document number, same amount, same message — the import counts it as a duplicate.

The bank's transaction id makes the feed idempotent (`FeedPost`): the same id again answers
the first result; the same id with other content is refused (409).

Every outcome has one home: an accepted post returns a `FeedResult` whose `outcome` is a
`FeedOutcome` (and `replayed`); a refused one raises a `DomainError` whose code is one of
`REFUSALS` (or a validation error, 422).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from app.audit import log as audit_log
from app.campaigns import service as campaigns
from app.campaigns.models import Campaign, CampaignStatus
from app.campaigns.service import require_status
from app.contributions import service as contributions
from app.contributions.models import Contribution
from app.dates import VIETNAM
from app.db import utcnow
from app.errors import Conflict, DomainError, Invalid, NotFound
from app.feed import signing
from app.feed.models import FeedOutcome, FeedPost, FeedSecret
from app.feed.schemas import FeedResult, FeedTransfer
from app.keys import scope
from app.keys.scope import Principal
from app.money import canonical, check_amount
from app.receiving_accounts.models import ReceivingAccount, account_relations
from app.receiving_accounts.service import normalise_number
from app.schemas import EARLIEST_DATE
from app.statements import service as statements
from app.statements.matching import PledgeMatcher

# A post must have been sent within the last five minutes (a captured request cannot be
# replayed later), and not more than a minute ahead of our clock (clock skew).
WINDOW = timedelta(minutes=5)
SKEW = timedelta(minutes=1)
# After a rotation the previous secret stays valid this long, so the bank can switch over.
GRACE = timedelta(hours=24)


class Unsigned(DomainError):
    """The post is not proven to come from the bank (401): nothing is written."""

    status = 401


# Every code a refused post can carry (besides `validation_failed` and the amount rules).
REFUSALS = (
    "feed_signature_required",
    "feed_signature_invalid",
    "feed_post_expired",
    "feed_post_from_the_future",
    "receiving_account_not_found",
    "feed_account_mismatch",
    "feed_debit_not_booked",
    "feed_currency_mismatch",
    "transferred_at_out_of_range",
    "feed_transaction_id_reused",
    "campaign_not_accepting",
)


def _account_absent(account_id: int) -> NotFound:
    return NotFound("receiving_account_not_found", f"No receiving account has id {account_id}.")


def get_account(session: Session, account_id: int) -> ReceivingAccount:
    """The receiving account, if the caller's key reaches its campaign (404 otherwise)."""
    return campaigns.get_record(
        session, ReceivingAccount, account_id, _account_absent(account_id), load=account_relations()
    )


# --- secrets -------------------------------------------------------------------------------


def issue_secret(session: Session, account: ReceivingAccount) -> tuple[FeedSecret, str]:
    """A new secret for the account's feed (shown once). Secrets it replaces stay valid for
    `GRACE`, so posts signed with them during the switch are not lost."""
    now = utcnow()
    for previous in session.scalars(
        select(FeedSecret)
        .where(
            FeedSecret.receiving_account_id == account.id,
            FeedSecret.revoked_at.is_(None),
            FeedSecret.retires_at.is_(None),
        )
        .with_for_update()
    ):
        previous.retires_at = now + GRACE
    value = signing.new_secret()
    secret = FeedSecret(receiving_account_id=account.id, secret=value, created_at=now)
    session.add(secret)
    session.flush()
    return secret, value


def secrets_of(session: Session, account: ReceivingAccount) -> list[FeedSecret]:
    """The account's secrets, oldest first (their values are never shown again)."""
    stmt = (
        select(FeedSecret)
        .where(FeedSecret.receiving_account_id == account.id)
        .order_by(FeedSecret.id)
    )
    return list(session.scalars(stmt))


def get_secret(session: Session, secret_id: int) -> FeedSecret:
    """The secret, if the caller's key reaches its account's campaign (404 otherwise)."""
    absent = NotFound("feed_secret_not_found", f"No feed secret has id {secret_id}.")
    secret = session.get(FeedSecret, secret_id)
    if secret is None:
        raise absent
    get_account(session, secret.receiving_account_id)  # 404 alike when out of reach
    return secret


def revoke_secret(session: Session, secret: FeedSecret) -> FeedSecret:
    """Stop accepting posts signed with this secret, at once (no grace)."""
    if secret.revoked_at is not None:
        raise Conflict("feed_secret_already_revoked", f"Feed secret {secret.id} is revoked.")
    secret.revoked_at = utcnow()
    session.flush()
    return secret


# --- posts ---------------------------------------------------------------------------------


def authenticate(
    session: Session, account_id: int, body: bytes, header: str | None, *, request_id: str | None
) -> ReceivingAccount:
    """The receiving account the post is for, once its signature is one of the account's
    valid secrets' (401 otherwise); binds the feed as the request's actor."""
    if not header or not header.strip():
        raise Unsigned(
            "feed_signature_required",
            f"Sign the raw body: {signing.HEADER}: sha256=<hex HMAC-SHA256 with the "
            "account's feed secret>.",
        )
    account = session.scalar(
        select(ReceivingAccount)
        .where(ReceivingAccount.id == account_id)
        .options(joinedload(ReceivingAccount.campaign))  # one round trip, not two
    )
    if account is None:
        raise _account_absent(account_id)
    now = utcnow()
    valid = [s.secret for s in secrets_of(session, account) if s.valid(now)]
    if not signing.matches(header, body, valid):
        raise Unsigned(
            "feed_signature_invalid",
            "The signature does not match the body with any valid feed secret of this "
            "receiving account.",
        )
    name = f"bank feed of receiving account {account.id}"
    scope.bind(session, dataclasses.replace(Principal.system(name), request_id=request_id))
    return account


def _check_fresh(transfer: FeedTransfer, now: datetime) -> None:
    if transfer.sent_at < now - WINDOW:
        raise Unsigned(
            "feed_post_expired",
            f"sent_at {transfer.sent_at.isoformat()} is more than five minutes ago: a post is "
            "accepted only within five minutes of sending. Resend it with a fresh sent_at.",
        )
    if transfer.sent_at > now + SKEW:
        raise Unsigned(
            "feed_post_from_the_future",
            f"sent_at {transfer.sent_at.isoformat()} is more than a minute ahead of the "
            "service's clock.",
        )


def _content_sha256(transfer: FeedTransfer) -> str:
    """What the transfer says, send time excepted, as canonical JSON, hashed."""
    content: dict[str, Any] = transfer.model_dump(mode="json", exclude={"sent_at"})
    content["amount"] = canonical(transfer.amount)
    content["transferred_at"] = transfer.transferred_at.timestamp()
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _check_rules(account: ReceivingAccount, transfer: FeedTransfer, now: datetime) -> None:
    campaign = account.campaign
    if normalise_number(transfer.account_number, "account_number") != account.number:
        raise Invalid.field(
            "account_number",
            "feed_account_mismatch",
            f"this feed is receiving account {account.id}'s, whose number is not "
            f"{transfer.account_number!r}",
        )
    if transfer.direction != "credit":
        raise Invalid.field(
            "direction",
            "feed_debit_not_booked",
            "only credits (money in) are contributions; debits are not booked",
        )
    if transfer.currency is not None and transfer.currency != campaign.currency:
        raise Invalid.field(
            "currency",
            "feed_currency_mismatch",
            f"campaign {campaign.code!r} receives {campaign.currency} on this account",
        )
    check_amount(transfer.amount, campaign.currency, "amount")
    received_on = transfer.transferred_at.astimezone(VIETNAM).date()
    if transfer.transferred_at > now + SKEW or received_on < EARLIEST_DATE:
        raise Invalid.field(
            "transferred_at",
            "transferred_at_out_of_range",
            f"a transfer is credited between {EARLIEST_DATE.isoformat()} and now",
        )


def _result(session: Session, post: FeedPost, *, replayed: bool) -> FeedResult:
    # The account's campaign is the caller's by the signature: no reach to check. What the
    # schema reads (`contribution_relations`) is joined: one round trip, not four.
    contribution = (
        session.scalars(
            select(Contribution)
            .where(Contribution.id == post.contribution_id)
            .options(
                joinedload(Contribution.campaign),
                joinedload(Contribution.item),
                joinedload(Contribution.reversal),
            )
        ).one()
        if post.contribution_id is not None
        else None
    )
    return FeedResult.model_validate(
        {
            "transaction_id": post.transaction_id,
            "outcome": post.outcome,
            "replayed": replayed,
            "contribution": contribution,
        },
        from_attributes=True,
    )


def receive(session: Session, account: ReceivingAccount, transfer: FeedTransfer) -> FeedResult:
    """Book one signed transfer (`authenticate` has checked the signature): see the module
    doc for what is refused and how a transfer is matched with statement lines."""
    now = utcnow()
    _check_fresh(transfer, now)
    _check_rules(account, transfer, now)
    campaign: Campaign = account.campaign
    reference = transfer.bank_reference or transfer.transaction_id
    recorded = contributions.lock_bank_line(session, campaign, reference)
    digest = _content_sha256(transfer)
    earlier = session.scalar(
        select(FeedPost).where(
            FeedPost.receiving_account_id == account.id,
            FeedPost.transaction_id == transfer.transaction_id,
        )
    )
    if earlier is not None:
        if earlier.content_sha256 != digest:
            raise Conflict(
                "feed_transaction_id_reused",
                f"Transaction {transfer.transaction_id!r} was posted before with other "
                "content; a transaction id names one transfer.",
            )
        return _result(session, earlier, replayed=True)
    campaigns.reread(session, campaign)
    require_status(campaign, {CampaignStatus.open}, "a bank feed post")
    contribution_id: int | None = None
    outcome = FeedOutcome.duplicate
    if not recorded.take(None, reference, transfer.amount, transfer.message):
        outcome = FeedOutcome.booked
        matcher = PledgeMatcher(statements.open_pledges(session, campaign))
        credit = contributions.BankCredit(
            received_on=transfer.transferred_at.astimezone(VIETNAM).date(),
            amount=transfer.amount,
            bank_reference=reference,
            description=transfer.message,
            pledge=matcher.match(transfer.message),
        )
        (contribution_id,) = contributions.record_bank_credits(session, campaign, [credit])
        audit_log.note_bulk(
            session,
            table="contributions",
            entity_id=contribution_id,
            action="fed",
            changes={
                "receiving_account_id": account.id,
                "transaction_id": transfer.transaction_id,
                "bank_reference": reference,
                "amount": canonical(transfer.amount),
                "pledge_id": credit.pledge.id if credit.pledge else None,
            },
            campaign_id=campaign.id,
        )
    party = transfer.counterparty
    post = FeedPost(
        receiving_account_id=account.id,
        transaction_id=transfer.transaction_id,
        content_sha256=digest,
        outcome=outcome,
        contribution_id=contribution_id,
        counterparty_name=party.name if party else None,
        counterparty_account=party.account if party else None,
        counterparty_bank=party.bank if party else None,
        received_at=now,
    )
    session.add(post)
    session.flush()
    return _result(session, post, replayed=False)
