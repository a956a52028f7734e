"""The entry hash is written out by hand for speed (a full verification hashes every
entry): it must give the very bytes that the canonical JSON of DESIGN.md gives, or every
chain already stored would stop verifying."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from app.ledger.chain import canonical_json, entry_hash


def _reference(**entry: object) -> str:
    """The entry hash as DESIGN.md defines it: SHA-256 of json.dumps(sorted keys, no spaces,
    raw UTF-8) of the entry's content, postings as sorted [code, asset, amount] triples."""
    content = {
        "campaign_id": entry["campaign_id"],
        "seq": entry["seq"],
        "kind": entry["kind"],
        "recorded_at": entry["recorded_at"],
        "detail": entry["detail"],
        "postings": sorted([list(p) for p in entry["postings"]]),  # type: ignore[attr-defined]
        "counters": {"pledges": entry["pledges"], "contributions": entry["contributions"]},
        "prev_hash": entry["prev_hash"],
    }
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def test_a_known_entry_keeps_its_hash() -> None:
    # Pinned from the json-based implementation this one replaced.
    digest = entry_hash(
        campaign_id=7,
        seq=42,
        kind="contribution_recorded",
        recorded_at=datetime(2024, 9, 10, 8, 30, 1, 123456, tzinfo=timezone(timedelta(hours=7))),
        detail='{"amount":"500000","contribution_id":9,"donor_id":null,'
        '"note":"Ủng hộ \\"bão\\" Yagi\\n"}',
        postings=[
            ("receivable", "VND", Decimal("-500000.00")),
            ("bank", "VND", Decimal("500000")),
            ("bank", "USD", Decimal("0E-2")),
        ],
        pledges_count=3,
        contributions_count=41,
        prev_hash="ab" * 32,
    )
    assert digest == "328908b69995b70f5872afb0e7506518fdee24a851a2ebf6d473249ae1e0b82a"


# Amounts as the ledger holds them: whole đồng or cents, either sign, any trailing zeros.
_amounts = st.tuples(
    st.integers(-(10**15), 10**15), st.sampled_from([0, 1, 2, 3]), st.integers(0, 3)
).map(lambda t: Decimal(t[0]).scaleb(-t[1]).quantize(Decimal(1).scaleb(-(t[1] + t[2]))))
_texts = st.text(max_size=40)  # quotes, backslashes, controls, Vietnamese, emoji


def _plain_amount(amount: Decimal) -> str:
    """Shortest exact text, worked out independently of app.money."""
    sign, digits, exponent = amount.as_tuple()
    number = "".join(map(str, digits)).rjust(-int(exponent) + 1, "0") if digits else "0"
    cut = len(number) + int(exponent) if int(exponent) < 0 else len(number)
    whole = (number[:cut] + "0" * max(0, int(exponent))).lstrip("0") or "0"
    fraction = number[cut:].rstrip("0") if int(exponent) < 0 else ""
    text = whole + ("." + fraction if fraction else "")
    return "0" if text == "0" else ("-" if sign else "") + text


@given(
    campaign_id=st.integers(1, 2**31),
    seq=st.integers(1, 2**31),
    kind=_texts,
    recorded_at=st.datetimes(timezones=st.just(UTC)),
    detail=_texts,
    postings=st.lists(st.tuples(_texts, _texts, _amounts), max_size=5),
    pledges=st.integers(0, 10**9),
    contributions=st.integers(0, 10**9),
    prev_hash=_texts,
)
def test_entry_hash_is_the_canonical_json_hash(
    campaign_id: int,
    seq: int,
    kind: str,
    recorded_at: datetime,
    detail: str,
    postings: list[tuple[str, str, Decimal]],
    pledges: int,
    contributions: int,
    prev_hash: str,
) -> None:
    expected = _reference(
        campaign_id=campaign_id,
        seq=seq,
        kind=kind,
        recorded_at=recorded_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        detail=detail,
        postings=[(code, asset, _plain_amount(amount)) for code, asset, amount in postings],
        pledges=pledges,
        contributions=contributions,
        prev_hash=prev_hash,
    )
    assert (
        entry_hash(
            campaign_id=campaign_id,
            seq=seq,
            kind=kind,
            recorded_at=recorded_at,
            detail=detail,
            postings=postings,
            pledges_count=pledges,
            contributions_count=contributions,
            prev_hash=prev_hash,
        )
        == expected
    )


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_texts, inner, max_size=6),
    max_leaves=20,
)


@given(_json_values)
def test_canonical_json_is_json_dumps_with_sorted_keys(value: object) -> None:
    # canonical_json reuses one C encoder instead of json.dumps building one per call.
    expected = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical_json(value) == expected
    assert canonical_json(value) == expected  # and the encoder is reusable
