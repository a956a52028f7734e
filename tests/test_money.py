"""Property tests of app/money.py, and of the API's refusal of amounts a currency cannot hold.

DESIGN.md, "Money and quantities": exact decimals everywhere, no float touches an amount,
each currency's ISO 4217 minor unit is enforced (`"1000.5"` VND is a 422), and amounts
go out as canonical strings. Bad input gets a clear 4xx and writes nothing.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app.money import canonical, decimal_places, fits_currency, minor_units, parse_decimal
from tests.support import factories

MAX_DECIMALS = 18
LIMIT = 10**18  # |amount| < 10^18
# ISO 4217 minor units, written down here on purpose: the app must agree with the standard.
ISO_MINOR_UNITS = {"VND": 0, "USD": 2, "EUR": 2, "AUD": 2, "JPY": 0, "KWD": 3, "BHD": 3}
CANONICAL = re.compile(r"^-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?$")

API_SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def exact(sign: int, digits: int, places: int) -> Decimal:
    """`digits` × 10^-places, built without any context rounding (trailing zeros kept)."""
    return Decimal((sign, tuple(int(ch) for ch in str(digits)), -places))


@st.composite
def in_range_decimals(draw: st.DrawFn, max_places: int = MAX_DECIMALS) -> Decimal:
    """Any decimal with at most `max_places` decimals and |x| < 10^18, trailing zeros and all."""
    places = draw(st.integers(min_value=0, max_value=max_places))
    digits = draw(
        st.one_of(
            st.integers(min_value=0, max_value=LIMIT * 10**places - 1),
            st.integers(min_value=0, max_value=10**6),
            st.just(LIMIT * 10**places - 1),
        )
    )
    return exact(draw(st.integers(0, 1)), digits, places)


def places_of(value: Decimal) -> int:
    """Significant decimals, counted on the digits themselves (not via app code)."""
    _sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits))
    if exponent >= 0:
        return 0
    fraction = text.rjust(-exponent, "0")[exponent:]
    return len(fraction.rstrip("0"))


# -------------------------------------------------------------- parse and canonical


@given(in_range_decimals())
@example(exact(0, LIMIT - 1, 0))
@example(exact(0, LIMIT * 10**MAX_DECIMALS - 1, MAX_DECIMALS))  # 36 significant digits
@example(exact(1, LIMIT * 10**MAX_DECIMALS - 1, MAX_DECIMALS))
@example(exact(0, 10**18 + 1, MAX_DECIMALS))  # 1.000000000000000001
@example(exact(0, 123456789012345678 * 10**18 + 1, MAX_DECIMALS))
@example(exact(1, 0, 5))  # -0.00000
def test_parse_decimal_round_trips_through_canonical(value: Decimal) -> None:
    text = canonical(value)
    parsed = parse_decimal(text)
    assert parsed == value
    assert canonical(parsed) == text
    # A Decimal (as an exact JSON number arrives) and a string with trailing zeros too.
    assert parse_decimal(value) == value
    assert parse_decimal(f"{value:f}") == value
    assert parse_decimal(f"  {text}  ") == value


@given(st.integers(min_value=-(LIMIT - 1), max_value=LIMIT - 1))
def test_integers_are_exact(value: int) -> None:
    assert parse_decimal(value) == value
    assert parse_decimal(str(value)) == value
    assert canonical(Decimal(value)) == str(value)


@given(in_range_decimals(), st.integers(min_value=-18, max_value=18))
@example(Decimal("1E+5"), 0)
@example(Decimal("0E-7"), 0)
@example(Decimal("-0"), 0)
@example(Decimal("100.500"), 0)
def test_canonical_has_no_exponent_and_no_trailing_zeros(value: Decimal, shift: int) -> None:
    # Shifting the exponent gives the same kind of number written with an exponent (1E+5).
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    shifted = Decimal((sign, digits, exponent + shift))
    text = canonical(shifted)
    assert CANONICAL.match(text), text
    assert "e" not in text.lower()
    assert text != "-0"
    assert Decimal(text) == shifted
    assert canonical(Decimal(text)) == text
    assert places_of(shifted) == (len(text.split(".")[1]) if "." in text else 0)


@given(in_range_decimals())
def test_canonical_is_the_same_for_equal_values(value: Decimal) -> None:
    # 1.5, 1.50 and 1.500 are one amount and go out as one text.
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    padded = Decimal((sign, (*digits, 0, 0, 0), exponent - 3))
    assert padded == value
    assert canonical(padded) == canonical(value)


# ------------------------------------------------------------------ currencies


@pytest.mark.parametrize(("currency", "units"), sorted(ISO_MINOR_UNITS.items()))
def test_minor_units_follow_iso_4217(currency: str, units: int) -> None:
    assert minor_units(currency) == units


@given(in_range_decimals(), st.sampled_from(sorted(ISO_MINOR_UNITS)))
@example(Decimal("1000.5"), "VND")
@example(Decimal("1000.0"), "VND")
@example(Decimal("12.345"), "USD")
@example(Decimal("12.340"), "USD")
@example(Decimal("1.001"), "KWD")
@example(Decimal("1.0001"), "KWD")
@example(Decimal("1E+3"), "JPY")
@example(exact(0, 123456789012345678 * 10**18 + 1, MAX_DECIMALS), "VND")
def test_fits_currency_agrees_with_minor_units(value: Decimal, currency: str) -> None:
    places = places_of(value)
    assert decimal_places(value) == places
    assert fits_currency(value, currency) is (places <= ISO_MINOR_UNITS[currency])


# -------------------------------------------------------------------- refusals


@given(st.floats(allow_nan=True, allow_infinity=True))
@example(0.1)
@example(1.0)
@example(1e15)
def test_floats_are_refused(value: float) -> None:
    with pytest.raises(ValueError, match="decimal string"):
        parse_decimal(value)


@pytest.mark.parametrize("value", [True, False])
def test_booleans_are_refused(value: bool) -> None:
    with pytest.raises(ValueError, match="boolean"):
        parse_decimal(value)


@pytest.mark.parametrize(
    "value",
    [
        Decimal("NaN"),
        Decimal("-NaN"),
        Decimal("sNaN"),
        Decimal("Infinity"),
        Decimal("-Infinity"),
        "NaN",
        "nan",
        "sNaN",
        "Infinity",
        "-Infinity",
        "inf",
        "1e5",
        "1E+5",
        "1.5e-3",
        "0x10",
        "",
        " ",
        ".5",
        "5.",
        "1,000",
        "1_000",
        "--1",
        None,
        [],
        {},
    ],
)
def test_non_finite_and_non_plain_values_are_refused(value: Any) -> None:
    with pytest.raises(ValueError):
        parse_decimal(value)


@given(
    st.one_of(
        st.integers(min_value=LIMIT, max_value=10**30),
        st.integers(max_value=-LIMIT, min_value=-(10**30)),
    )
)
def test_amounts_of_10_to_the_18_or_more_are_refused(value: int) -> None:
    for form in (value, str(value), Decimal(value)):
        with pytest.raises(ValueError):
            parse_decimal(form)


@given(st.integers(min_value=1, max_value=10**6), st.integers(min_value=19, max_value=30))
def test_more_than_18_significant_decimals_are_refused(digits: int, places: int) -> None:
    value = exact(0, digits * 10 + 1, places)  # the last decimal is not zero
    for form in (value, f"{value:f}"):
        with pytest.raises(ValueError):
            parse_decimal(form)


# ------------------------------------------------------------------------- API


def fractional_vnd() -> st.SearchStrategy[Decimal]:
    """Positive VND amounts whose last decimal is not zero (up to 10^15 đồng)."""
    return st.builds(
        lambda whole, fraction, places: exact(0, whole * 10**places + fraction * 10 + 1, places),
        st.integers(min_value=0, max_value=10**15),
        st.integers(min_value=0, max_value=10**5),
        st.integers(min_value=1, max_value=6),
    )


def entries(client: TestClient, code: str) -> int:
    count: int = factories.reconciliation(client, code)["ledger"]["entries"]
    return count


def post_raw(client: TestClient, path: str, body: str) -> Any:
    return client.post(path, content=body, headers={"Content-Type": "application/json"})


def assert_precision_refused(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "amount_precision_exceeds_currency", problem
    assert any(error["field"] == field for error in problem.get("errors", [])), problem


@pytest.fixture
def funded(client: TestClient) -> dict[str, Any]:
    """An open VND campaign with a donor, a pledge, some money and a location."""
    campaign = factories.campaign(client)
    donor = factories.donor(client)
    pledge = factories.pledge(client, campaign["code"], donor["id"], 5_000_000)
    factories.contribution(client, campaign["code"], 10_000_000)
    location = factories.location(client)
    return {
        "code": campaign["code"],
        "donor_id": donor["id"],
        "pledge_id": pledge["id"],
        "location_id": location["id"],
    }


@API_SETTINGS
@given(amount=fractional_vnd(), as_number=st.booleans(), with_pledge=st.booleans())
@example(amount=Decimal("1000.5"), as_number=False, with_pledge=False)
@example(amount=Decimal("1000.5"), as_number=True, with_pledge=False)
def test_fractional_vnd_contribution_is_refused_and_writes_nothing(
    client: TestClient,
    funded: dict[str, Any],
    amount: Decimal,
    as_number: bool,
    with_pledge: bool,
) -> None:
    code = funded["code"]
    before = factories.reconciliation(client, code)
    amount_json = f"{amount:f}" if as_number else json.dumps(f"{amount:f}")
    pledge = f', "pledge_id": {funded["pledge_id"]}' if with_pledge else ""
    body = (
        f'{{"amount": {amount_json}, "received_on": "2022-10-05", '
        f'"method": "bank_transfer"{pledge}}}'
    )
    response = post_raw(client, f"/v1/campaigns/{code}/contributions", body)
    assert_precision_refused(response, "amount")
    after = factories.reconciliation(client, code)
    assert after["ledger"] == before["ledger"]
    assert after["money"] == before["money"]


@API_SETTINGS
@given(
    currency=st.sampled_from(["USD", "EUR", "AUD", "JPY"]),
    extra_places=st.integers(min_value=1, max_value=4),
    digits=st.integers(min_value=1, max_value=10**9),
)
def test_foreign_amount_beyond_its_minor_unit_is_refused(
    client: TestClient,
    funded: dict[str, Any],
    currency: str,
    extra_places: int,
    digits: int,
) -> None:
    code = funded["code"]
    places = ISO_MINOR_UNITS[currency] + extra_places
    amount = exact(0, digits * 10 + 1, places)  # its last decimal is not zero
    before = entries(client, code)
    response = client.post(
        f"/v1/campaigns/{code}/contributions",
        json={
            "amount": f"{amount:f}",
            "currency": currency,
            "settled_amount": "500000",
            "received_on": "2022-10-05",
            "method": "bank_transfer",
        },
    )
    assert_precision_refused(response, "amount")
    assert entries(client, code) == before


@API_SETTINGS
@given(settled=fractional_vnd())
def test_fractional_vnd_settled_amount_is_refused(
    client: TestClient, funded: dict[str, Any], settled: Decimal
) -> None:
    code = funded["code"]
    before = entries(client, code)
    response = client.post(
        f"/v1/campaigns/{code}/contributions",
        json={
            "amount": "100",
            "currency": "USD",
            "settled_amount": f"{settled:f}",
            "received_on": "2022-10-05",
            "method": "bank_transfer",
        },
    )
    assert_precision_refused(response, "settled_amount")
    assert entries(client, code) == before


@API_SETTINGS
@given(amount=fractional_vnd(), kind=st.sampled_from(["pledge", "allocation"]))
def test_fractional_vnd_pledge_or_allocation_is_refused(
    client: TestClient, funded: dict[str, Any], amount: Decimal, kind: str
) -> None:
    code = funded["code"]
    before = factories.reconciliation(client, code)
    if kind == "pledge":
        path = f"/v1/campaigns/{code}/pledges"
        body = {"donor_id": funded["donor_id"], "amount": f"{amount:f}"}
    else:
        path = f"/v1/campaigns/{code}/allocations"
        body = {"location_id": funded["location_id"], "amount": f"{amount:f}", "purpose": "Gạo"}
    assert_precision_refused(client.post(path, json=body), "amount")
    after = factories.reconciliation(client, code)
    assert after["ledger"] == before["ledger"]
    assert after["money"] == before["money"]


def assert_not_canonical(response: Any, field: str, *hints: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "amount_not_canonical", problem
    (error,) = [e for e in problem["errors"] if e["field"] == field]
    for hint in hints:
        assert f"write {hint}" in error["message"] or f"or {hint}" in error["message"], error


@API_SETTINGS
@given(whole=st.integers(min_value=1, max_value=10**15), zeros=st.integers(1, 6))
@example(whole=500, zeros=3)
@example(whole=1, zeros=1)
def test_vnd_with_zero_decimals_is_not_canonical_and_writes_nothing(
    client: TestClient, funded: dict[str, Any], whole: int, zeros: int
) -> None:
    # "500.000" VND once became 500 đồng where a Vietnamese reader means 500,000: refused,
    # showing how to write it (the thousands reading first when it can be one).
    code = funded["code"]
    before = entries(client, code)
    text = f"{whole}.{'0' * zeros}"
    response = client.post(
        f"/v1/campaigns/{code}/contributions",
        json={"amount": text, "received_on": "2022-10-05", "method": "bank_transfer"},
    )
    hints = [str(whole * 1000), str(whole)] if zeros == 3 else [str(whole)]
    assert_not_canonical(response, "amount", *hints)
    assert entries(client, code) == before


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("1.000.000", "1000000"),
        ("1,000,000", "1000000"),
        ("1 000 000", "1000000"),
        ("1,000", "1000"),
        ("00.001", "0.001"),
        ("007", "7"),
        ("+5", "5"),
        (".5", "0.5"),
        ("5.", "5"),
        ("12,5", "12.5"),
    ],
)
def test_amounts_in_any_other_shape_are_not_canonical(
    client: TestClient, funded: dict[str, Any], text: str, hint: str
) -> None:
    code = funded["code"]
    before = entries(client, code)
    bodies = {
        f"/v1/campaigns/{code}/contributions": {
            "amount": text,
            "received_on": "2022-10-05",
            "method": "bank_transfer",
        },
        f"/v1/campaigns/{code}/pledges": {"donor_id": funded["donor_id"], "amount": text},
        "/v1/campaigns": {"code": "x-1", "title": "Lũ", "kind": "flood", "target_amount": text},
    }
    for path, body in bodies.items():
        field = "target_amount" if "target_amount" in body else "amount"
        assert_not_canonical(client.post(path, json=body), field, hint)
    assert entries(client, code) == before


@pytest.mark.parametrize(
    ("currency", "text", "ok"),
    [
        ("USD", "10.50", True),
        ("USD", "10.5", True),
        ("USD", "10", True),
        ("USD", "10.500", False),
        ("JPY", "10.0", False),
        ("KWD", "1.500", True),
        ("KWD", "1.5000", False),
    ],
)
def test_trailing_zeros_up_to_the_minor_unit_are_fine(
    client: TestClient, currency: str, text: str, ok: bool
) -> None:
    code = factories.campaign(client, currency=currency)["code"]
    response = client.post(
        f"/v1/campaigns/{code}/contributions",
        json={"amount": text, "received_on": "2022-10-05", "method": "cash"},
    )
    if ok:
        assert factories.ok(response)["amount"] == canonical(Decimal(text))
    else:
        assert_not_canonical(response, "amount", canonical(Decimal(text)))


def test_public_amount_filters_read_amounts_the_same_way(
    client: TestClient, funded: dict[str, Any]
) -> None:
    path = f"/v1/public/campaigns/{funded['code']}/contributions"
    assert factories.ok(client.get(path, params={"min_amount": "10000000"}), 200)["items"]
    for params, hint in (
        ({"min_amount": "500.000"}, "500000"),
        ({"max_amount": "1.000.000"}, "1000000"),
        ({"min_amount": "1,000"}, "1000"),
    ):
        field = next(iter(params))
        assert_not_canonical(client.get(path, params=params), field, hint)
