"""Contribution rules: money received, in any currency, settled in the campaign's; or
goods received, counted in their item's unit, with an optional estimated value.

A contribution is never edited. A mistake is corrected by a reversal (a new record that
cancels the old one), refused when the money or goods have already been allocated.

This package is the only writer of contributions: one at a time with `create`, or
many bank credits at once with `record_bank_credits` (a bank statement import).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, ClassVar, Protocol, cast

from sqlalchemy import Select, Table, select
from sqlalchemy.orm import Session, selectinload

from app import hxl
from app.campaigns import service as campaigns
from app.campaigns.models import Campaign, CampaignStatus
from app.campaigns.service import require_status
from app.codes import random_code
from app.contributions import bank_lines, schemas
from app.contributions.models import (
    Contribution,
    ContributionReversal,
    PaymentMethod,
    contribution_relations,
)
from app.contributions.schemas import ContributionCreate
from app.dates import not_in_future
from app.db import Database, bulk_insert, reserve_ids
from app.donors import service as donors
from app.donors.models import Donor
from app.errors import Conflict, Invalid, NotFound
from app.items import service as items
from app.items.models import Item
from app.keys import scope
from app.ledger import accounts
from app.ledger import service as ledger
from app.ledger.accounts import Posting, credit, debit
from app.money import MAX_AMOUNT, canonical, check_amount, is_known_currency, minor_units
from app.pagination import in_batches
from app.pledges import service as pledges
from app.pledges.models import Pledge, pledge_relations
from app.text import csv_rows, fold


@dataclass(slots=True, kw_only=True)
class BankCredit:
    """Money a bank credited to the campaign's account, in the campaign's currency: a credit
    row of a bank statement (or of a live bank feed), for `record_bank_credits`."""

    received_on: date
    amount: Decimal
    bank_reference: str | None
    description: str | None
    # The open pledge of the campaign it fulfils, if the caller matched one.
    pledge: Pledge | None = None
    # The statement line's identity (`app.contributions.bank_lines`).
    line_fingerprint: str | None = None


def get(session: Session, contribution_id: int) -> Contribution:
    """The contribution, if the caller's key reaches its campaign (404 otherwise)."""
    absent = NotFound("contribution_not_found", f"No contribution has id {contribution_id}.")
    return campaigns.get_record(
        session, Contribution, contribution_id, absent, load=contribution_relations()
    )


def _new_receipt_code() -> str:
    # 32^10 ≈ 10^15 codes: guessing one that exists is hopeless; uniqueness is enforced in SQL.
    # `random_code` draws each character uniformly, with one urandom call per code.
    chars = random_code(10)
    return f"RL-{chars[:5]}-{chars[5:]}"


def _new_receipt_codes(count: int) -> list[str]:
    # Distinct within the batch: one repeated code would fail the whole multi-row INSERT.
    codes: set[str] = set()
    while len(codes) < count:
        codes.add(_new_receipt_code())
    return list(codes)


def _settled_amount(
    campaign: Campaign, body: ContributionCreate, amount: Decimal, currency: str
) -> Decimal:
    if currency == campaign.currency:
        if body.fx_rate is not None:
            raise Invalid.field(
                "fx_rate",
                "fx_rate_not_applicable",
                "fx_rate is only for a currency other than the campaign's",
            )
        if body.settled_amount is not None and body.settled_amount != amount:
            raise Invalid.field(
                "settled_amount",
                "settled_amount_mismatch",
                "in the campaign's currency settled_amount must equal amount",
            )
        return amount
    if body.fx_rate is not None:
        quantum = Decimal(1).scaleb(-minor_units(campaign.currency))
        computed = (amount * body.fx_rate).quantize(quantum, rounding=ROUND_HALF_EVEN)
        if body.settled_amount is not None and body.settled_amount != computed:
            raise Invalid.field(
                "settled_amount",
                "settled_amount_mismatch",
                f"amount × fx_rate is {canonical(computed)}; send one of settled_amount or fx_rate",
            )
        if not 0 < computed < MAX_AMOUNT:
            raise Invalid.field(
                "fx_rate",
                "settled_amount_out_of_range",
                "amount × fx_rate must be above zero and below 10^18",
            )
        return computed
    if body.settled_amount is None:
        raise Invalid.field(
            "settled_amount",
            "settled_amount_required",
            f"a contribution in {currency} needs settled_amount (or fx_rate) in {campaign.currency}",
        )
    check_amount(body.settled_amount, campaign.currency, "settled_amount")
    return body.settled_amount


def _pledge_for(
    session: Session, campaign: Campaign, body: ContributionCreate, item: Item | None
) -> Pledge | None:
    if body.pledge_id is None:
        return None
    pledge = session.get(Pledge, body.pledge_id, populate_existing=True, options=pledge_relations())
    if pledge is None or pledge.campaign_id != campaign.id:
        raise Invalid.field(
            "pledge_id",
            "pledge_not_found",
            f"campaign {campaign.code!r} has no pledge {body.pledge_id}",
        )
    if pledge.cancelled_at is not None:
        raise Conflict(
            "pledge_cancelled",
            f"Pledge {pledge.id} is cancelled; record the money without pledge_id.",
        )
    if pledge.item_id != (item.id if item else None):
        promised = f"goods ({pledge.item_code})" if pledge.item_code else "money"
        raise Invalid.field(
            "pledge_id",
            "pledge_kind_mismatch",
            f"pledge {pledge.id} promised {promised}: it is fulfilled by the same",
        )
    currency = body.currency or campaign.currency
    if item is None and pledge.currency != currency:
        raise Invalid.field(
            "currency",
            "contribution_currency_mismatch",
            f"pledge {pledge.id} is in {pledge.currency}: only contributions in "
            f"{pledge.currency} fulfil it (by their original amount)",
        )
    if body.donor_id is not None and body.donor_id != pledge.donor_id:
        raise Invalid.field(
            "donor_id", "donor_mismatch", f"pledge {pledge.id} belongs to donor {pledge.donor_id}"
        )
    return pledge


def _postings(
    contribution: Contribution | _BankContribution, campaign: Campaign, *, pledged: bool
) -> list[Posting]:
    """What receiving the contribution does to the campaign's accounts."""
    if isinstance(contribution, Contribution) and contribution.item is not None:
        asset = contribution.item.asset
        quantity = contribution.received
        postings = [
            debit(accounts.on_hand(asset), quantity),
            credit(accounts.goods_donations(asset, pledged=pledged), quantity),
        ]
        if contribution.estimated_value is not None:
            value, offset = accounts.in_kind_value(contribution.item.code, campaign.currency)
            postings += [
                debit(value, contribution.estimated_value),
                credit(offset, contribution.estimated_value),
            ]
        return postings
    assert contribution.currency is not None and contribution.amount is not None
    return _money_postings(cast(Received, contribution), campaign, pledged=pledged)


@dataclass(slots=True)
class _BankContribution:
    """A bank credit becoming a contribution (`id` once inserted): what its entry needs."""

    receipt_code: str
    donor_id: int | None
    pledge_id: int | None
    amount: Decimal
    currency: str
    received_on: date
    bank_reference: str | None
    description: str | None
    id: int = 0
    item: ClassVar[None] = None  # money only

    @property
    def settled_amount(self) -> Decimal:
        return self.amount  # bank credits are in the campaign's own currency

    @property
    def received(self) -> Decimal:
        return self.amount


class Received(Protocol):
    """What the ledger needs of money received: a `Contribution`, or one about to be."""

    @property
    def amount(self) -> Decimal: ...
    @property
    def currency(self) -> str: ...
    @property
    def settled_amount(self) -> Decimal: ...


class Recorded(Received, Protocol):
    @property
    def id(self) -> int: ...
    @property
    def receipt_code(self) -> str: ...
    @property
    def donor_id(self) -> int | None: ...
    @property
    def pledge_id(self) -> int | None: ...
    @property
    def received_on(self) -> date: ...
    @property
    def bank_reference(self) -> str | None: ...
    @property
    def description(self) -> str | None: ...


def _money_detail(contribution: Recorded) -> dict[str, Any]:
    """What the chain keeps of a money contribution (its `contribution_recorded` detail)."""
    return {
        "contribution_id": contribution.id,
        "receipt_code": contribution.receipt_code,
        "donor_id": contribution.donor_id,
        "pledge_id": contribution.pledge_id,
        "amount": canonical(contribution.amount),
        "currency": contribution.currency,
        "settled_amount": canonical(contribution.settled_amount),
        "received_on": contribution.received_on.isoformat(),
        "bank_reference": contribution.bank_reference,
        "description": contribution.description,
    }


def _money_postings(contribution: Received, campaign: Campaign, *, pledged: bool) -> list[Posting]:
    asset = campaign.currency
    settled = contribution.settled_amount
    postings = [
        debit(accounts.cash(asset), settled),
        credit(
            accounts.donations(asset, pledged=pledged, original_currency=contribution.currency),
            settled,
        ),
    ]
    if contribution.currency != campaign.currency:
        original, offset = accounts.originals(contribution.currency)
        postings += [debit(original, contribution.amount), credit(offset, contribution.amount)]
    return postings


def _money_fields(
    campaign: Campaign, body: ContributionCreate
) -> tuple[Decimal, str, Decimal, PaymentMethod]:
    """Amount, currency, settled amount and method of a money contribution, checked."""
    assert body.amount is not None  # items.money_or_goods made sure
    if body.estimated_value is not None:
        raise Invalid.field(
            "estimated_value", "not_for_money", "estimated_value is for goods, not money"
        )
    if body.method is None:
        raise Invalid.field("method", "method_required", "say how the money was received")
    currency = body.currency or campaign.currency
    if not is_known_currency(currency):
        raise Invalid.field(
            "currency", "unknown_currency", f"{currency} is not an ISO 4217 currency in use"
        )
    check_amount(body.amount, currency, "amount")
    return (
        body.amount,
        currency,
        _settled_amount(campaign, body, body.amount, currency),
        body.method,
    )


def create(
    session: Session, campaign: Campaign, *, contribution_in: ContributionCreate
) -> Contribution:
    """Record money or goods received by an open (or closed, for late gifts) campaign."""
    lines = _lock_line_scope(session, campaign) if contribution_in.bank_reference else []
    head = ledger.lock(session, campaign.id)
    stamp = ledger.clock(head)
    campaigns.reread(session, campaign)
    require_status(campaign, {CampaignStatus.open, CampaignStatus.closed}, "a contribution")
    body = contribution_in
    item = items.money_or_goods(
        session,
        amount=body.amount,
        item_code=body.item_code,
        quantity=body.quantity,
        money_only={
            "currency": body.currency,
            "settled_amount": body.settled_amount,
            "fx_rate": body.fx_rate,
            "method": body.method,
            "bank_reference": body.bank_reference,
        },
    )
    amount = currency = settled = method = None
    if item is None:
        amount, currency, settled, method = _money_fields(campaign, body)
    elif body.estimated_value is not None:
        check_amount(body.estimated_value, campaign.currency, "estimated_value")
    not_in_future(body.received_on, "received_on")
    pledge = _pledge_for(session, campaign, body, item)
    donor_id = pledge.donor_id if pledge else body.donor_id
    if donor_id is not None:
        donors.referenced(session, donor_id)
    if body.bank_reference and settled is not None:
        recorded = bank_lines.recorded_lines(session, lines, bank_reference=body.bank_reference)
        if recorded.take(None, body.bank_reference, settled, body.description):
            raise Conflict(
                "bank_reference_already_recorded",
                f"The bank line {body.bank_reference!r} of {canonical(settled)} "
                f"{campaign.currency} is already recorded in this campaign, its campaign "
                "tree or a campaign sharing its receiving account.",
            )
    contribution = Contribution(
        campaign_id=campaign.id,
        campaign=campaign,
        donor_id=donor_id,
        pledge_id=pledge.id if pledge else None,
        amount=amount,
        currency=currency,
        settled_amount=settled,
        fx_rate=body.fx_rate,
        item_id=item.id if item else None,
        item=item,
        quantity=body.quantity if item else None,
        estimated_value=body.estimated_value if item else None,
        received_on=body.received_on,
        method=method,
        bank_reference=body.bank_reference,
        description=body.description,
        description_folded=fold(body.description) if body.description else None,
        receipt_code=_new_receipt_code(),
        reversal=None,
        recorded_at=stamp,
    )
    session.add(contribution)
    session.flush()
    draft = _recorded_entry(contribution, campaign, pledge)
    ledger.post_entry(
        session,
        head,
        kind=draft.kind,
        detail=draft.detail,
        postings=draft.postings,
        counters=draft.counters,
        recorded_at=stamp,
    )
    return contribution


def _lock_line_scope(session: Session, campaign: Campaign) -> list[int]:
    """The campaigns a bank line of `campaign` may already be in (`bank_lines.line_scope`),
    with the first one's ledger lock taken: every writer of bank lines in that scope takes
    it before its own campaign's, so two of them cannot book one line into two campaigns."""
    lines = bank_lines.line_scope(session, campaign.id)
    ledger.lock(session, lines[0])
    return lines


def lock_bank_lines(session: Session, campaign: Campaign) -> bank_lines.RecordedLines:
    """For a statement import: take the locks (`_lock_line_scope`, then the campaign's own)
    and read the bank lines already recorded where this campaign's may be."""
    lines = _lock_line_scope(session, campaign)
    ledger.lock(session, campaign.id)
    return bank_lines.recorded_lines(session, lines)


def lock_bank_line(
    session: Session, campaign: Campaign, bank_reference: str
) -> bank_lines.RecordedLines:
    """For one bank line arriving alone (the live bank feed): the same locks as
    `lock_bank_lines`, and the recorded lines carrying its bank reference, all compared as
    typed-in ones (as `create` compares a contribution given a bank reference)."""
    lines = _lock_line_scope(session, campaign)
    ledger.lock(session, campaign.id)
    return bank_lines.recorded_lines(session, lines, bank_reference=bank_reference)


def recorded_bank_lines(session: Session, campaign: Campaign) -> bank_lines.RecordedLines:
    """The same read without the locks: what a dry run compares its lines with."""
    return bank_lines.recorded_lines(session, bank_lines.line_scope(session, campaign.id))


def record_bank_credits(
    session: Session, campaign: Campaign, credits: Sequence[BankCredit]
) -> list[int]:
    """Record many bank credits at once as bank-transfer contributions; return their ids,
    in the order of `credits`.

    Each is what `create` would record (a receipt code, the pledge's donor, the pledge
    fulfilled, its own hash-chained `contribution_recorded` entry), written in bulk: ids
    reserved up front (`app.db.reserve_ids`), one bulk write of the contributions
    (`app.db.bulk_insert`: COPY / multi-row INSERTs), then `ledger.post_entries`. The
    caller has taken `ledger.lock` (of `bank_lines.line_scope`'s first campaign, then of
    this one) before choosing the credits, checked the campaign's status, and left out
    lines already recorded (`bank_lines.recorded_lines`): none of that is checked again.
    """
    if not credits:
        return []
    head = ledger.lock(session, campaign.id)  # already held by the caller: no query
    stamp = ledger.clock(head)
    new = [
        _BankContribution(
            receipt_code=code,
            # As `create` does: money against a pledge comes from its donor.
            donor_id=c.pledge.donor_id if c.pledge else None,
            pledge_id=c.pledge.id if c.pledge else None,
            amount=c.amount,
            currency=campaign.currency,
            received_on=c.received_on,
            bank_reference=c.bank_reference,
            description=c.description,
        )
        for code, c in zip(_new_receipt_codes(len(credits)), credits, strict=True)
    ]
    # Ids first (the entries' details carry them), then one bulk write: COPY / executemany.
    connection = session.connection()
    table = cast(Table, Contribution.__table__)
    for n, row_id in zip(new, reserve_ids(connection, table, len(new)), strict=True):
        n.id = row_id
    folded: dict[str, str] = {}  # a statement repeats its messages; fold each once
    rows = [
        (
            n.id,
            campaign.id,
            n.donor_id,
            n.pledge_id,
            n.amount,
            n.currency,
            n.amount,  # settled_amount: in the campaign's own currency
            None,
            n.received_on,
            PaymentMethod.bank_transfer.value,
            n.bank_reference,
            c.line_fingerprint,
            n.receipt_code,
            n.description,
            (
                folded[n.description]
                if n.description in folded
                else folded.setdefault(n.description, fold(n.description))
            )
            if n.description
            else None,
            stamp,
        )
        for n, c in zip(new, credits, strict=True)
    ]
    bulk_insert(connection, table, _BANK_CREDIT_COLUMNS, rows)
    drafts = [_recorded_entry(n, campaign, c.pledge) for n, c in zip(new, credits, strict=True)]
    ledger.post_entries(session, head, drafts, recorded_at=stamp)
    return [n.id for n in new]


_BANK_CREDIT_COLUMNS = (
    "id",
    "campaign_id",
    "donor_id",
    "pledge_id",
    "amount",
    "currency",
    "settled_amount",
    "fx_rate",
    "received_on",
    "method",
    "bank_reference",
    "line_fingerprint",
    "receipt_code",
    "description",
    "description_folded",
    "recorded_at",
)


def _recorded_entry(
    contribution: Contribution | _BankContribution, campaign: Campaign, pledge: Pledge | None
) -> ledger.EntryDraft:
    """The `contribution_recorded` entry of a contribution just inserted, fulfilling `pledge`
    if it has one: the one recipe of `create` and `record_bank_credits`."""
    postings = _postings(contribution, campaign, pledged=pledge is not None)
    if pledge is not None:
        postings += pledges.apply_fulfilment(pledge, _toward_pledge(contribution))
    return ledger.EntryDraft(
        kind="contribution_recorded",
        detail=_detail(contribution),
        postings=postings,
        counters=ledger.Counters(contributions=1 if contribution.item is None else 0),
    )


def _toward_pledge(contribution: Contribution | _BankContribution) -> Decimal:
    """What a contribution adds to its pledge's fulfilled amount: money by its original
    amount (a pledge is in the currency it is fulfilled in), goods by quantity."""
    if contribution.item is None:
        assert contribution.amount is not None  # the money_or_goods check constraint
        return contribution.amount
    return contribution.received


def _detail(contribution: Contribution | _BankContribution) -> dict[str, Any]:
    """What the chain keeps of a contribution (its `contribution_recorded` detail)."""
    if not isinstance(contribution, Contribution) or contribution.item is None:
        return _money_detail(cast(Recorded, contribution))
    value = contribution.estimated_value
    return {
        "contribution_id": contribution.id,
        "receipt_code": contribution.receipt_code,
        "donor_id": contribution.donor_id,
        "pledge_id": contribution.pledge_id,
        "received_on": contribution.received_on.isoformat(),
        "item_code": contribution.item.code,
        "quantity": canonical(contribution.received),
        "estimated_value": canonical(value) if value is not None else None,
        "description": contribution.description,
    }


def reverse(session: Session, contribution: Contribution, *, reason: str) -> Contribution:
    """Cancel a recorded contribution with a new, visible record."""
    head = ledger.lock(session, contribution.campaign_id)
    # Under the lock: whether it was reversed meanwhile, as committed.
    session.refresh(contribution, ["reversal"])
    if contribution.reversal is not None:
        raise Conflict(
            "contribution_already_reversed", f"Contribution {contribution.id} is already reversed."
        )
    campaign = contribution.campaign
    asset = contribution.item.asset if contribution.item else campaign.currency
    unit = contribution.item.unit if contribution.item else campaign.currency
    available = ledger.balance(session, campaign.id, accounts.available(asset))
    if contribution.received > available:
        raise Conflict(
            "reversal_exceeds_available",
            f"Reversing {canonical(contribution.received)} {unit} would leave allocations "
            f"larger than what was received: only {canonical(available)} is unallocated. "
            "Cancel allocations first.",
        )
    stamp = ledger.clock(head)
    reversal = ContributionReversal(
        contribution_id=contribution.id, reason=reason, recorded_at=stamp
    )
    session.add(reversal)
    postings = accounts.negated(
        _postings(contribution, campaign, pledged=contribution.pledge_id is not None)
    )
    if contribution.pledge_id is not None:
        pledge = session.get_one(
            Pledge, contribution.pledge_id, populate_existing=True, options=pledge_relations()
        )
        postings += pledges.apply_fulfilment(pledge, -_toward_pledge(contribution))
    session.flush()
    ledger.post_entry(
        session,
        head,
        kind="contribution_reversed",
        detail={"contribution_id": contribution.id, "reversal_id": reversal.id, "reason": reason},
        postings=postings,
        counters=ledger.Counters(contributions=-1 if contribution.item_id is None else 0),
        recorded_at=stamp,
    )
    session.refresh(contribution, ["reversal"])
    return contribution


def search(
    campaign: Campaign, *, donor_id: int | None, pledge_id: int | None
) -> Select[Contribution]:
    stmt = (
        select(Contribution)
        .where(Contribution.campaign_id == campaign.id)
        .options(*contribution_relations())
    )
    if donor_id is not None:
        stmt = stmt.where(Contribution.donor_id == donor_id)
    if pledge_id is not None:
        stmt = stmt.where(Contribution.pledge_id == pledge_id)
    return stmt


# The private list as CSV: its JSON fields (the nested reversal left out: `status` says
# it) and the donor's name as the key may see it.
CSV_COLUMNS = [
    *(field for field in schemas.Contribution.model_fields if field != "reversal"),
    "donor_name",
]
# The private list as HXL (`app.hxl`).
HXL_COLUMNS = (
    hxl.Column("id", "#meta +id"),
    hxl.Column("receipt_code", "#meta +receipt"),
    hxl.Column("received_on", "#date +received"),
    hxl.Column("donor", "#org +donor"),
    hxl.Column("amount", "#value +original"),
    hxl.Column("currency", "#currency +original"),
    hxl.Column("settled_amount", "#value +settled"),
    hxl.Column("settled_currency", "#currency +settled"),
    *hxl.GOODS,
    hxl.Column("quantity", "#item +num"),
    hxl.Column("estimated_value", "#value +estimated"),
    hxl.Column("method", "#modality"),
    hxl.Column("bank_reference", "#meta +ref"),
    hxl.Column("description", "#description"),
    hxl.Column("status", "#status"),
)


def _donor_names(session: Session, batch: Sequence[Contribution]) -> dict[int, str]:
    """Each donor's name as the caller may see it: the real name where the key reaches
    the unit that recorded the donor (as `GET /v1/donors/{id}` would show it), the public
    name elsewhere."""
    donors_of = {c.donor.id: c.donor for c in batch if c.donor is not None}
    reachable = set(
        session.scalars(
            scope.within_reach(
                session, select(Donor.id).where(Donor.id.in_(donors_of)), Donor.unit_id
            )
        )
    )
    return {
        donor_id: donor.name if donor_id in reachable else donor.public_name
        for donor_id, donor in donors_of.items()
    }


def _export_row(contribution: Contribution, names: dict[int, str], currency: str) -> dict[str, Any]:
    row = schemas.Contribution.model_validate(contribution).model_dump(mode="json")
    item = contribution.item
    name = names.get(contribution.donor_id) if contribution.donor_id is not None else None
    return {
        **row,
        "donor_name": name,
        "donor": name,
        "settled_currency": currency if contribution.item_id is None else None,
        "item_name": item.name if item else None,
        "unit": item.unit if item else None,
    }


def export(
    session: Session,
    database: Database,
    campaign: Campaign,
    *,
    donor_id: int | None,
    pledge_id: int | None,
    as_hxl: bool,
) -> Iterator[str]:
    """The campaign's contributions as CSV or HXL (`app.text.csv_rows`), read in batches
    on a read-only session of their own that acts for the caller, so a large campaign
    streams in constant memory after the request's transaction has ended."""
    principal = scope.current(session)
    campaign_id, currency = campaign.id, campaign.currency

    def batches() -> Iterator[list[dict[str, Any]]]:
        with database.session(read_only=True) as reader:
            scope.bind(reader, principal)
            stmt = search(
                reader.get_one(Campaign, campaign_id), donor_id=donor_id, pledge_id=pledge_id
            ).options(selectinload(Contribution.donor))
            for batch in in_batches(reader, stmt, Contribution.id):
                names = _donor_names(reader, batch)
                yield [_export_row(c, names, currency) for c in batch]

    if as_hxl:
        return csv_rows(hxl.names(HXL_COLUMNS), batches(), hashtags=hxl.hashtags(HXL_COLUMNS))
    return csv_rows(CSV_COLUMNS, batches())
