from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response, status

from app import metrics, routing
from app.db import SessionDep, utcnow
from app.feed import schemas, service
from app.feed.models import FeedOutcome, FeedSecret
from app.ids import IdPath
from app.keys.auth import Authorized
from app.receiving_accounts.models import ReceivingAccount
from app.requests import request_id
from app.routing import TransactionalRoute, problem_response


class FeedRoute(TransactionalRoute):
    """The bank's door counts what it refuses (`relief_feed_posts_total{outcome="refused"}`):
    a bad or missing signature, a stale post, an invalid body — every answer of 400 or more,
    whether raised before the endpoint (the signature, the body) or in it."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def count_refusals(request: Request) -> Response:
            try:
                response = await handler(request)
            except Exception:
                metrics.feed_post("refused")
                raise
            if response.status_code >= 400:
                metrics.feed_post("refused")
            return response

        return count_refusals


# Officers of the campaign's unit (and admins) manage the secrets; auditors list them.
router = routing.router(tags=["feed"], dependencies=[Authorized])
# The bank's door: no API key, the signature is the authentication (`service.authenticate`).
feed_router = routing.router(tags=["feed"], route_class=FeedRoute)

EXAMPLE = {
    "transaction_id": "FT22278093511",
    "account_number": "0011004012345",
    "direction": "credit",
    "amount": "500000",
    "transferred_at": "2022-10-05T09:15:02+07:00",
    "sent_at": "2022-10-05T09:15:03+07:00",
    "message": "MBVCB.2471163018.NGUYEN VAN AN.ung ho dong bao lu lut Ky Son",
    "counterparty": {"name": "NGUYEN VAN AN", "account": "0451000123456", "bank": "Vietcombank"},
}
_UNSIGNED = (
    "Not signed with a valid feed secret of the account (`feed_signature_required`, "
    "`feed_signature_invalid`), or sent more than five minutes ago or more than a minute "
    "ahead (`feed_post_expired`, `feed_post_from_the_future`). Nothing is written."
)


def _out(secret: FeedSecret, now: datetime) -> schemas.FeedSecret:
    return schemas.FeedSecret(
        id=secret.id,
        receiving_account_id=secret.receiving_account_id,
        created_at=secret.created_at,
        retires_at=secret.retires_at,
        revoked_at=secret.revoked_at,
        status=secret.status(now),
    )


@router.post(
    "/receiving-accounts/{account_id}/feed-secrets",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.FeedSecretIssued,
)
def issue_feed_secret(account_id: IdPath, session: SessionDep) -> schemas.FeedSecretIssued:
    """Issue (or rotate) the account's feed secret

    The new secret is shown once, in this answer: give it to the bank. Secrets issued
    before it stay valid for 24 hours (`retires_at`), so posts signed during the switch
    are accepted; revoke one to stop it at once.
    """
    account = service.get_account(session, account_id)
    secret, value = service.issue_secret(session, account)
    return schemas.FeedSecretIssued(**_out(secret, utcnow()).model_dump(), secret=value)


@router.get(
    "/receiving-accounts/{account_id}/feed-secrets", response_model=list[schemas.FeedSecret]
)
def list_feed_secrets(account_id: IdPath, session: SessionDep) -> list[schemas.FeedSecret]:
    """List the account's feed secrets

    Oldest first, with their status (`active`, `retiring` until `retires_at`, `retired`,
    `revoked`); never their values.
    """
    account = service.get_account(session, account_id)
    now = utcnow()
    return [_out(secret, now) for secret in service.secrets_of(session, account)]


@router.post("/feed-secrets/{secret_id}/revoke", response_model=schemas.FeedSecret)
def revoke_feed_secret(secret_id: IdPath, session: SessionDep) -> schemas.FeedSecret:
    """Revoke a feed secret

    Posts signed with it are refused from now on (no grace period).

    Refuses: `feed_secret_already_revoked` (409).
    """
    secret = service.revoke_secret(session, service.get_secret(session, secret_id))
    return _out(secret, utcnow())


def signed_account(
    account_id: IdPath,
    request: Request,
    session: SessionDep,
    x_relief_signature: Annotated[
        str | None,
        Header(
            max_length=200,
            description="`sha256=` and the hex HMAC-SHA256 of the raw body, keyed with the "
            "account's feed secret.",
        ),
    ] = None,
) -> ReceivingAccount:
    """The receiving account of the path, once the post's signature is proven (401)."""
    return service.authenticate(
        session,
        account_id,
        request.state.body,
        x_relief_signature,
        request_id=request_id(request),
    )


@feed_router.post(
    "/receiving-accounts/{account_id}/feed",
    response_model=schemas.FeedResult,
    responses={401: problem_response(401, _UNSIGNED)},
    openapi_extra=routing.body_example(EXAMPLE),
)
def post_feed_transfer(
    account: Annotated[ReceivingAccount, Depends(signed_account)],
    transfer: schemas.FeedTransfer,
    session: SessionDep,
) -> schemas.FeedResult:
    """Post one incoming transfer (the bank's live feed)

    Signed with `X-Relief-Signature` (see docs/api.md, "The bank feed"), no API key. A
    credit is booked exactly as the same line of a bank statement would be: its pledge
    matched by reference, and `outcome` `duplicate` (nothing booked) when the bank line is
    already recorded. The same `transaction_id` again answers the first result with
    `replayed: true`; with other content it is refused.

    Refuses: `feed_account_mismatch`, `feed_debit_not_booked`, `feed_currency_mismatch`,
    `transferred_at_out_of_range`, `amount_not_canonical` (422);
    `feed_transaction_id_reused`, `campaign_not_accepting` (409).
    """
    result = service.receive(session, account, transfer)
    booked = result.outcome is FeedOutcome.booked and not result.replayed
    metrics.feed_post("accepted" if booked else "duplicate", session=session)
    return result
