"""The live bank feed (issue 15, item 3), through the HTTP API on both databases."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from app.audit.models import AuditEvent
from app.contributions.models import Contribution
from app.feed.models import FeedPost, FeedSecret
from tests.feed.support import account, ago, issue, post, sign, transfer
from tests.support import factories as f
from tests.support.metrics import moved, scrape

CODE = "ky-son-flood-2022"
CSV = {"Content-Type": "text/csv"}


@pytest.fixture
def feed(client) -> dict[str, Any]:
    f.campaign(client, code=CODE)
    acc = account(client, CODE)
    return {"account": acc, "secret": issue(client, acc["id"])["secret"]}


def counts(db) -> tuple[int, int, int]:
    """Contributions, feed posts and audit events: what a refused post must not change."""
    with db.session() as session:
        return (
            session.scalar(select(func.count()).select_from(Contribution)),
            session.scalar(select(func.count()).select_from(FeedPost)),
            session.scalar(select(func.count()).select_from(AuditEvent)),
        )


def refused(response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == code, problem
    return problem


def test_a_signed_credit_is_booked_as_a_bank_transfer(client, feed):
    body = transfer(
        transaction_id="FT22278093511",
        amount="1500000",
        # 23:30 in Hà Nội on 5 October is 16:30 UTC: the gift is received on the 5th.
        transferred_at="2022-10-05T16:30:00Z",
        message="MBVCB.2471163018.NGUYEN  VAN AN.ủng hộ\u0020đồng bào",
    )
    answer = f.ok(post(client, feed["account"]["id"], feed["secret"], body), 200)
    assert answer["transaction_id"] == "FT22278093511"
    assert answer["outcome"] == "booked"
    assert answer["replayed"] is False
    gift = answer["contribution"]
    assert gift["amount"] == "1500000"
    assert gift["currency"] == "VND"
    assert gift["settled_amount"] == "1500000"
    assert gift["received_on"] == "2022-10-05"
    assert gift["method"] == "bank_transfer"
    assert gift["bank_reference"] == "FT22278093511"
    assert gift["description"] == "MBVCB.2471163018.NGUYEN VAN AN.ủng hộ đồng bào"
    assert gift["pledge_id"] is None
    assert f.ok(client.get(f"/v1/contributions/{gift['id']}"), 200) == gift
    money = f.money(f.reconciliation(client, CODE))
    assert (money["received"], money["contributions_count"]) == ("1500000", 1)


def test_an_explicit_bank_reference_is_the_contributions(client, feed):
    body = transfer(transaction_id="casso-88120", bank_reference="5000.66543")
    gift = f.ok(post(client, feed["account"]["id"], feed["secret"], body), 200)["contribution"]
    assert gift["bank_reference"] == "5000.66543"


def test_a_message_carrying_a_pledge_reference_fulfils_the_pledge(client, feed):
    donor = f.donor(client, name="Công ty CP Sữa Việt Nam", kind="business")
    pledge = f.pledge(client, CODE, donor["id"], 2_000_000, reference="KS-9PLD")
    body = transfer(amount="500000", message="ks 9pld MTTQ Nghe An ung ho")
    gift = f.ok(post(client, feed["account"]["id"], feed["secret"], body), 200)["contribution"]
    assert (gift["pledge_id"], gift["donor_id"]) == (pledge["id"], donor["id"])
    fulfilled = f.ok(client.get(f"/v1/pledges/{pledge['id']}"), 200)
    assert fulfilled["fulfilled_amount"] == "500000"
    assert fulfilled["status"] == "partially_fulfilled"


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "feed_signature_required"),
        ({"X-Relief-Signature": "sha256=" + "0" * 64}, "feed_signature_invalid"),
        ({"X-Relief-Signature": "garbage"}, "feed_signature_invalid"),
    ],
)
def test_a_missing_or_wrong_signature_is_401_and_writes_nothing(client, feed, db, headers, code):
    before = counts(db)
    response = post(client, feed["account"]["id"], None, transfer(), **headers)
    refused(response, 401, code)
    assert counts(db) == before


def test_a_body_signed_with_another_secret_or_changed_after_signing_is_refused(client, feed, db):
    before = counts(db)
    refused(
        post(client, feed["account"]["id"], "rlfeed_guess", transfer()),
        401,
        "feed_signature_invalid",
    )
    # A captured post with its amount changed: the signature no longer matches.
    body = transfer()
    signature = sign(feed["secret"], json.dumps(body).encode())
    body["amount"] = "50000000"
    response = client.post(
        f"/v1/receiving-accounts/{feed['account']['id']}/feed",
        content=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "X-Relief-Signature": signature},
    )
    refused(response, 401, "feed_signature_invalid")
    assert counts(db) == before


def test_an_account_without_a_secret_accepts_nothing(client, db):
    f.campaign(client, code=CODE)
    acc = account(client, CODE)
    before = counts(db)
    refused(post(client, acc["id"], "rlfeed_anything", transfer()), 401, "feed_signature_invalid")
    refused(
        post(client, 999_999, "rlfeed_anything", transfer()), 404, "receiving_account_not_found"
    )
    assert counts(db) == before


@pytest.mark.parametrize(
    ("sent_at", "code"),
    [
        (lambda: ago(minutes=5, seconds=5), "feed_post_expired"),
        (lambda: ago(days=30), "feed_post_expired"),
        (lambda: ago(minutes=-1, seconds=-10), "feed_post_from_the_future"),
    ],
)
def test_a_post_sent_outside_the_window_is_refused(client, feed, db, sent_at, code):
    before = counts(db)
    response = post(client, feed["account"]["id"], feed["secret"], transfer(sent_at=sent_at()))
    refused(response, 401, code)
    assert counts(db) == before


def test_a_post_sent_four_minutes_ago_is_accepted(client, feed):
    response = post(client, feed["account"]["id"], feed["secret"], transfer(sent_at=ago(minutes=4)))
    assert f.ok(response, 200)["outcome"] == "booked"


def test_the_same_transaction_id_answers_the_first_result_and_books_nothing(client, feed, db):
    body = transfer(transaction_id="FT22278000042")
    first = f.ok(post(client, feed["account"]["id"], feed["secret"], body), 200)
    again = f.ok(post(client, feed["account"]["id"], feed["secret"], body), 200)
    # The bank resending later, with a fresh send time: the same transfer.
    resent = f.ok(
        post(client, feed["account"]["id"], feed["secret"], {**body, "sent_at": ago(seconds=1)}),
        200,
    )
    for answer in (again, resent):
        assert answer["replayed"] is True
        assert answer["outcome"] == "booked"
        assert answer["contribution"] == first["contribution"]
    assert first["replayed"] is False
    assert counts(db)[:2] == (1, 1)
    money = f.money(f.reconciliation(client, CODE))
    assert (money["received"], money["contributions_count"]) == ("500000", 1)


def test_the_same_transaction_id_with_other_content_is_409(client, feed, db):
    body = transfer(transaction_id="FT22278000043")
    f.ok(post(client, feed["account"]["id"], feed["secret"], body), 200)
    before = counts(db)
    for change in ({"amount": "500001"}, {"message": "khac"}, {"bank_reference": "X1"}):
        response = post(client, feed["account"]["id"], feed["secret"], {**body, **change})
        refused(response, 409, "feed_transaction_id_reused")
    assert counts(db) == before


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"direction": "debit"}, 422, "feed_debit_not_booked"),
        ({"account_number": "0011004099999"}, 422, "feed_account_mismatch"),
        ({"amount": "500.000"}, 422, "amount_not_canonical"),
        ({"amount": "1000.5"}, 422, "amount_precision_exceeds_currency"),
        ({"amount": "-500000"}, 422, "validation_failed"),
        ({"currency": "USD"}, 422, "feed_currency_mismatch"),
        ({"transferred_at": "2022-10-05T09:15:02"}, 422, "validation_failed"),
        ({"transferred_at": "2999-01-01T00:00:00Z"}, 422, "transferred_at_out_of_range"),
        ({"surprise": 1}, 422, "validation_failed"),
    ],
)
def test_what_is_not_a_credit_of_this_account_is_refused(client, feed, db, change, status, code):
    before = counts(db)
    response = post(client, feed["account"]["id"], feed["secret"], transfer(**change))
    refused(response, status, code)
    assert counts(db) == before


def test_the_account_number_may_be_written_with_spaces(client, feed):
    body = transfer(account_number="0011 0040 12345")
    assert (
        f.ok(post(client, feed["account"]["id"], feed["secret"], body), 200)["outcome"] == "booked"
    )


@pytest.mark.parametrize("status", ["draft", "closed"])
def test_a_campaign_that_is_not_open_takes_no_feed(client, db, status):
    f.campaign(client, code=CODE, status=status)
    acc = account(client, CODE)
    secret = issue(client, acc["id"])["secret"]
    before = counts(db)
    refused(post(client, acc["id"], secret, transfer()), 409, "campaign_not_accepting")
    assert counts(db) == before


def test_rotation_keeps_the_previous_secret_valid_for_the_grace_period(client, feed, db):
    account_id = feed["account"]["id"]
    old = feed["secret"]
    rotated = issue(client, account_id)
    assert rotated["secret"] != old
    assert rotated["status"] == "active"
    listed = f.ok(client.get(f"/v1/receiving-accounts/{account_id}/feed-secrets"), 200)
    assert [s["status"] for s in listed] == ["retiring", "active"]
    retires_at = datetime.fromisoformat(listed[0]["retires_at"])
    grace = retires_at - datetime.fromisoformat(rotated["created_at"])
    assert grace == timedelta(hours=24)
    assert all("secret" not in s for s in listed)
    # During the grace period both secrets sign valid posts.
    assert f.ok(post(client, account_id, old, transfer()), 200)["outcome"] == "booked"
    assert f.ok(post(client, account_id, rotated["secret"], transfer()), 200)["outcome"] == "booked"
    # After it, only the new one.
    with db.engine.begin() as conn:
        conn.execute(
            update(FeedSecret)
            .where(FeedSecret.id == listed[0]["id"])
            .values(retires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    refused(post(client, account_id, old, transfer()), 401, "feed_signature_invalid")
    assert f.ok(post(client, account_id, rotated["secret"], transfer()), 200)["outcome"] == "booked"
    listed = f.ok(client.get(f"/v1/receiving-accounts/{account_id}/feed-secrets"), 200)
    assert [s["status"] for s in listed] == ["retired", "active"]


def test_a_revoked_secret_is_refused_at_once(client, feed):
    account_id = feed["account"]["id"]
    (secret,) = f.ok(client.get(f"/v1/receiving-accounts/{account_id}/feed-secrets"), 200)
    revoked = f.ok(client.post(f"/v1/feed-secrets/{secret['id']}/revoke"), 200)
    assert revoked["status"] == "revoked"
    refused(post(client, account_id, feed["secret"], transfer()), 401, "feed_signature_invalid")
    refused(
        client.post(f"/v1/feed-secrets/{secret['id']}/revoke"), 409, "feed_secret_already_revoked"
    )


def test_secret_changes_are_audited_without_the_secret(client, feed):
    account_id = feed["account"]["id"]
    rotated = issue(client, account_id)
    events = f.ok(client.get("/v1/audit", params={"entity": "feed_secrets"}), 200)["items"]
    actions = sorted((e["entity_id"], e["action"]) for e in events)
    assert actions == [(1, "created"), (1, "updated"), (2, "created")]
    text = str(events)
    assert feed["secret"] not in text and rotated["secret"] not in text
    assert all("secret" not in e["changes"] for e in events)


def test_secrets_follow_the_campaigns_unit(client, headers_for):
    f.unit_tree(client)
    f.campaign(client, code=CODE, unit_code="ky-son")
    acc = account(client, CODE)
    ky_son = headers_for("officer", "ky-son")
    tan_ky = headers_for("officer", "tan-ky")
    auditor = headers_for("auditor")
    url = f"/v1/receiving-accounts/{acc['id']}/feed-secrets"
    assert f.ok(client.post(url, headers=ky_son))["secret"].startswith("rlfeed_")
    refused(client.post(url, headers=tan_ky), 404, "receiving_account_not_found")
    refused(client.get(url, headers=tan_ky), 404, "receiving_account_not_found")
    refused(client.post(url, headers=auditor), 403, "role_may_not_write")
    assert len(f.ok(client.get(url, headers=auditor), 200)) == 1


def test_a_booked_post_is_in_the_audit_log_as_the_feed(client, feed):
    answer = f.ok(post(client, feed["account"]["id"], feed["secret"], transfer()), 200)
    gift = answer["contribution"]
    events = f.ok(client.get("/v1/audit", params={"entity": "contributions"}), 200)["items"]
    (event,) = [e for e in events if e["entity_id"] == gift["id"]]
    assert event["action"] == "fed"
    assert event["actor_role"] == "system"
    assert event["changes"]["transaction_id"] == answer["transaction_id"]


def statement(lines: list[tuple[str, str, str, str]]) -> bytes:
    rows = ["date,amount,description,bank_reference"]
    rows += [f'{day},"{amount}",{message},{reference}' for day, amount, message, reference in lines]
    return ("\n".join(rows) + "\n").encode()


def test_a_fed_line_in_the_statement_is_a_duplicate_and_twins_are_both_booked(client, feed):
    account_id, secret = feed["account"]["id"], feed["secret"]
    message = "QR - NGUYEN VAN AN ung ho"
    # Two genuinely different transfers: same amount, same message, other references.
    for reference in ("FT22278000101", "FT22278000102"):
        body = transfer(transaction_id=reference, amount="200000", message=message)
        assert f.ok(post(client, account_id, secret, body), 200)["outcome"] == "booked"
    data = statement(
        [
            ("05/10/2022", "200,000", message, "FT22278000101"),
            ("05/10/2022", "200,000", message, "FT22278000102"),
            ("05/10/2022", "200,000", message, "FT22278000103"),  # the feed never saw it
        ]
    )
    report = f.ok(client.post(f"/v1/campaigns/{CODE}/statements", content=data, headers=CSV), 200)
    assert (report["imported"], report["duplicates"]) == (1, 2)
    money = f.money(f.reconciliation(client, CODE))
    assert (money["received"], money["contributions_count"]) == ("600000", 3)


def test_a_line_already_imported_from_a_statement_is_a_duplicate_when_fed(client, feed, db):
    data = statement([("05/10/2022", "200,000", "QR - TRAN THI BINH ung ho", "FT22278000201")])
    report = f.ok(client.post(f"/v1/campaigns/{CODE}/statements", content=data, headers=CSV), 200)
    assert report["imported"] == 1
    body = transfer(
        transaction_id="FT22278000201", amount="200000", message="QR - TRAN THI BINH ung ho"
    )
    answer = f.ok(post(client, feed["account"]["id"], feed["secret"], body), 200)
    assert (answer["outcome"], answer["contribution"]) == ("duplicate", None)
    again = f.ok(post(client, feed["account"]["id"], feed["secret"], body), 200)
    assert (again["outcome"], again["replayed"]) == ("duplicate", True)
    money = f.money(f.reconciliation(client, CODE))
    assert (money["received"], money["contributions_count"]) == ("200000", 1)


def test_feed_posts_are_counted_in_the_metrics(client, feed):
    """Booked, replayed and refused posts move `relief_feed_posts_total` by exactly one
    each, scraped through /metrics."""
    account_id, secret = feed["account"]["id"], feed["secret"]
    before = scrape(client)
    first = transfer()
    assert f.ok(post(client, account_id, secret, first), 200)["outcome"] == "booked"
    assert f.ok(post(client, account_id, secret, first), 200)["replayed"] is True
    assert f.ok(post(client, account_id, secret, transfer()), 200)["outcome"] == "booked"
    refused(post(client, account_id, "not-the-secret", transfer()), 401, "feed_signature_invalid")
    refused(post(client, account_id, None, transfer()), 401, "feed_signature_required")
    after = scrape(client)
    counter = "relief_feed_posts_total"
    assert moved(before, after, counter, outcome="accepted") == 2
    assert moved(before, after, counter, outcome="duplicate") == 1
    assert moved(before, after, counter, outcome="refused") == 2
