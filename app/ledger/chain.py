"""How chains are hashed: canonical JSON, RFC 3339 stamps and SHA-256 digests.

The ledger's entry chains and the audit log's event chains follow the same rules, so both
hash through this module; an auditor re-implementing them needs only what is written here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from app.money import canonical

# The `prev_hash` of a chain's first link.
GENESIS_HASH = "0" * 64


@lru_cache(maxsize=64)  # a statement's entries share one recording time
def rfc3339(moment: datetime) -> str:
    """`moment` in UTC with microseconds, as every chain and API body writes it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# What json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False) gives,
# without building an encoder per call (twice per entry, 100,000 entries per statement).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# The C encoder behind `_CANONICAL.encode`, made once: `encode` builds a new one per call,
# which costs more than encoding an entry's detail. No circular-reference bookkeeping
# (a chain's values are trees).
_C_MAKE_ENCODER = getattr(json.encoder, "c_make_encoder", None)
_ENCODE: Callable[[Any, int], Iterable[str]] | None = (
    _C_MAKE_ENCODER(
        None, _CANONICAL.default, json.encoder.encode_basestring, None, ":", ",", True, False, True
    )
    if _C_MAKE_ENCODER is not None
    else None
)


def canonical_json(value: Any) -> str:
    """`value` as JSON with sorted keys, no spaces and raw UTF-8: one text per value."""
    if _ENCODE is not None:
        return "".join(_ENCODE(value, 0))
    return _CANONICAL.encode(value)


def content_hash(content: Any) -> str:
    """SHA-256 (hex) of `content`'s canonical JSON."""
    return hashlib.sha256(canonical_json(content).encode()).hexdigest()


def entry_hash(
    *,
    campaign_id: int,
    seq: int,
    kind: str,
    recorded_at: datetime,
    detail: str,
    postings: Iterable[tuple[str, str, Decimal]],
    pledges_count: int,
    contributions_count: int,
    prev_hash: str,
) -> str:
    """SHA-256 over a ledger entry's content and the previous entry's hash."""
    return entry_hash_of_texts(
        campaign_id=campaign_id,
        seq=seq,
        kind=kind,
        recorded_at=rfc3339(recorded_at),
        detail=detail,
        postings=[(code, asset, canonical(amount)) for code, asset, amount in postings],
        pledges_count=pledges_count,
        contributions_count=contributions_count,
        prev_hash=prev_hash,
    )


def entry_hash_of_texts(
    *,
    campaign_id: int,
    seq: int,
    kind: str,
    recorded_at: str,
    detail: str,
    postings: list[tuple[str, str, str]],
    pledges_count: int,
    contributions_count: int,
    prev_hash: str,
) -> str:
    """`entry_hash` from the stamp already in RFC 3339 and the amounts already canonical.

    The canonical JSON of the entry's content is written out directly, keys in sorted
    order, instead of building a dict for `json` to sort and encode: the same bytes
    (tests/ledger/test_chain.py compares the two for generated entries), at a fraction of
    the cost per entry, which is what a full verification pays 50,000 times a second.
    """
    if not (
        type(campaign_id) is int
        and type(seq) is int
        and type(pledges_count) is int
        and type(contributions_count) is int
        and type(kind) is str
        and type(detail) is str
        and type(prev_hash) is str
    ):  # anything unusual takes the general path, which encodes it the way json does
        return content_hash(
            {
                "campaign_id": campaign_id,
                "seq": seq,
                "kind": kind,
                "recorded_at": recorded_at,
                "detail": detail,
                "postings": sorted([list(p) for p in postings]),
                "counters": {"pledges": pledges_count, "contributions": contributions_count},
                "prev_hash": prev_hash,
            }
        )
    text = (
        f'{{"campaign_id":{campaign_id},'
        f'"counters":{{"contributions":{contributions_count},"pledges":{pledges_count}}},'
        f'"detail":{_string(detail)},"kind":{_string(kind)},'
        f'"postings":[{",".join(map(_posting, sorted(postings)))}],'
        f'"prev_hash":{_string(prev_hash)},"recorded_at":{_string(recorded_at)},"seq":{seq}}}'
    )
    return hashlib.sha256(text.encode()).hexdigest()


# json's own string encoder (the C one when available), as `canonical_json` uses it.
_string: Callable[[str], str] = json.encoder.encode_basestring


def json_value(value: Any) -> str:
    """`canonical_json(value)`, quicker for the text, whole numbers and nulls of a chain."""
    kind = type(value)
    if kind is str:
        return _string(value)
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    return canonical_json(value)


def _posting(posting: tuple[str, str, str]) -> str:
    code, asset, amount = posting
    return f"[{_string(code)},{_string(asset)},{_string(amount)}]"
