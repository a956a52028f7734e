"""The audit event hash is written out by hand for speed (`/v1/audit/verify` hashes every
event): it must give the very bytes that the canonical JSON of the event's content gives,
or every audit chain already stored would stop verifying."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from app.audit.log import HASHED_COLUMNS, event_hash

_texts = st.text(max_size=30)  # quotes, backslashes, controls, Vietnamese, emoji
_ids = st.none() | st.integers(-(2**63), 2**63)


def _reference(event_: dict[str, Any]) -> str:
    content = {
        "chain": event_["chain"],
        "seq": event_["seq"],
        "campaign_id": event_["campaign_id"],
        "actor": [event_["actor_key_id"], event_["actor_role"], event_["actor_unit_id"]],
        "request": [event_["request_id"], event_["method"], event_["path"]],
        "entity": [event_["entity_type"], event_["entity_id"], event_["action"]],
        "changes": event_["changes"],
        "recorded_at": event_["recorded_at"].strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "prev_hash": event_["prev_hash"],
    }
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


@given(
    st.fixed_dictionaries(
        {
            "chain": _texts,
            "seq": st.integers(1, 2**62),
            "campaign_id": _ids,
            "actor_key_id": _ids,
            "actor_role": st.none() | _texts,
            "actor_unit_id": _ids,
            "request_id": st.none() | _texts,
            "method": st.none() | _texts,
            "path": st.none() | _texts,
            "entity_type": _texts,
            "entity_id": st.integers(1, 2**62),
            "action": _texts,
            "changes": _texts,
            "recorded_at": st.datetimes(timezones=st.just(UTC)),
            "prev_hash": _texts,
        }
    )
)
def test_event_hash_is_the_canonical_json_hash(event_: dict[str, Any]) -> None:
    assert set(event_) == set(HASHED_COLUMNS)
    assert event_hash(event_) == _reference(event_)


def test_a_known_event_keeps_its_hash() -> None:
    # Pinned from the json-based implementation this one replaced.
    event_ = {
        "chain": "campaign:3",
        "seq": 17,
        "campaign_id": 3,
        "actor_key_id": 2,
        "actor_role": "officer",
        "actor_unit_id": None,
        "request_id": "req-1",
        "method": "POST",
        "path": "/v1/campaigns/yagi-2024/contributions",
        "entity_type": "contributions",
        "entity_id": 99,
        "action": "created",
        "changes": '{"amount":"500000","note":"Ủng hộ \\"bão\\" Yagi"}',
        "recorded_at": datetime(2024, 9, 10, 1, 2, 3, 456789, tzinfo=UTC),
        "prev_hash": "cd" * 32,
    }
    assert event_hash(event_) == PINNED


PINNED = "8ca33325cdf86b97875b7e1675f33469ea265ece30a2aeb6173a98747fa572d8"
