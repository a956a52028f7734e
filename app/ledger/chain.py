"""How chains are hashed: canonical JSON, RFC 3339 stamps and SHA-256 digests.

The ledger's entry chains and the audit log's event chains follow the same rules, so both
hash through this module; an auditor re-implementing them needs only what is written here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
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


def canonical_json(value: Any) -> str:
    """`value` as JSON with sorted keys, no spaces and raw UTF-8: one text per value."""
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
    return content_hash(
        {
            "campaign_id": campaign_id,
            "seq": seq,
            "kind": kind,
            "recorded_at": rfc3339(recorded_at),
            "detail": detail,
            "postings": sorted(
                [code, asset, canonical(amount)] for code, asset, amount in postings
            ),
            "counters": {"pledges": pledges_count, "contributions": contributions_count},
            "prev_hash": prev_hash,
        }
    )
