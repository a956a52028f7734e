"""Issue 15's test of the bank feed: 1,000 posts with 5% replays and 5% bad signatures,
then the monthly statement listing the same transfers and a few the feed never saw. Every
transfer is counted once, none is lost.

The feed posts into a district sub-appeal's receiving account; the statement is imported
into the province appeal, which registered the same account number: the duplicate rule
reaches across the campaign tree and the shared account. The expected figures are worked
out here from the generated transfers alone.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from app.contributions.models import Contribution
from tests.feed.support import NUMBER, account, issue, post
from tests.support import factories as f

PARENT, CHILD = "nghe-an-lu-lut-2022", "ky-son-flood-2022"
HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
POSTS, REPLAYS, BAD_SIGNATURES, UNSEEN = 1000, 50, 50, 12
REFERENCES = ("KS-9PLD", "KS-7Q4M", "KS-2HXA")
NAMES = ("NGUYEN VAN AN", "TRAN THI BINH", "LE VAN CUONG", "PHAM THI DUNG")
# Few amounts and messages, so many different transfers share both (twins).
AMOUNTS = (10_000, 50_000, 100_000, 200_000, 500_000, 1_000_000, 2_000_000)


def _message(rng: random.Random) -> tuple[str, str | None]:
    kind = rng.random()
    if kind < 0.1:
        reference = rng.choice(REFERENCES)
        written = rng.choice([reference, reference.lower(), reference.replace("-", " ")])
        return f"{written} ung ho - {rng.choice(NAMES)}", reference
    if kind < 0.5:
        return "ung ho dong bao lu lut Ky Son", None
    return f"QR - {rng.choice(NAMES)} ung ho", None


def _transfers(rng: random.Random, count: int, start: int) -> list[dict[str, Any]]:
    first = datetime(2022, 10, 1, tzinfo=HANOI)
    transfers = []
    for number in range(start, start + count):
        message, reference = _message(rng)
        at = first + timedelta(seconds=rng.randrange(30 * 24 * 3600))
        transfers.append(
            {
                "transaction_id": f"FT2227{number:07d}",
                "account_number": NUMBER,
                "direction": "credit",
                "amount": str(rng.choice(AMOUNTS)),
                "transferred_at": at.isoformat(),
                "message": message,
                "pledge_reference": reference,
            }
        )
    return transfers


def _body(transfer: dict[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in transfer.items() if k != "pledge_reference"}
    return {**body, "sent_at": datetime.now(UTC).isoformat()}


def _statement(transfers: list[dict[str, Any]]) -> bytes:
    rows = ["Ngày giao dịch,Số tham chiếu,Số tiền,Nội dung"]
    for t in transfers:
        day = datetime.fromisoformat(t["transferred_at"]).astimezone(HANOI).strftime("%d/%m/%Y")
        rows.append(f'{day},{t["transaction_id"]},"{int(t["amount"]):,}",{t["message"]}')
    return ("\n".join(rows) + "\n").encode()


# 9 s on SQLite, 17 s on PostgreSQL on a lightly loaded two-core machine (a thousand
# requests, each its own transaction); several times that while other suites run beside it.
def test_a_thousand_feed_posts_then_the_statement_count_every_transfer_once(client, db):
    rng = random.Random(15)
    f.campaign(client, code=PARENT)
    f.campaign(client, code=CHILD, parent_code=PARENT)
    donor = f.donor(client, name="Công ty CP Sữa Việt Nam", kind="business")
    pledges = {
        ref: f.pledge(client, CHILD, donor["id"], 900_000_000, reference=ref)["id"]
        for ref in REFERENCES
    }
    fed_account = account(client, CHILD)
    account(client, PARENT)  # the same number: the province's statement lists its lines
    secret = issue(client, fed_account["id"])["secret"]

    distinct = POSTS - REPLAYS
    transfers = _transfers(rng, distinct, 1)
    bad = set(rng.sample(range(distinct), BAD_SIGNATURES))
    replay_after = sorted(rng.sample(range(100, distinct), REPLAYS))
    outcomes: Counter[str] = Counter()
    accepted: list[int] = []
    booked_ids: dict[str, int] = {}
    posts = 0
    for index, transfer in enumerate(transfers):
        key = secret if index not in bad else "rlfeed_" + "x" * 43
        response = post(client, fed_account["id"], key, _body(transfer))
        posts += 1
        if index in bad:
            assert response.status_code == 401, response.text
            outcomes["refused"] += 1
        else:
            answer = f.ok(response, 200)
            assert (answer["outcome"], answer["replayed"]) == ("booked", False), answer
            booked_ids[transfer["transaction_id"]] = answer["contribution"]["id"]
            outcomes["booked"] += 1
            accepted.append(index)
        while replay_after and replay_after[0] == index:
            replay_after.pop(0)
            earlier = transfers[rng.choice(accepted)]
            answer = f.ok(post(client, fed_account["id"], secret, _body(earlier)), 200)
            assert answer["replayed"] is True
            assert answer["contribution"]["id"] == booked_ids[earlier["transaction_id"]]
            posts += 1
            outcomes["replayed"] += 1
    assert posts == POSTS
    assert outcomes == {"booked": 900, "refused": 50, "replayed": 50}

    unseen = _transfers(rng, UNSEEN, distinct + 1)
    listed = transfers + unseen
    rng.shuffle(listed)
    report = f.ok(
        client.post(
            f"/v1/campaigns/{PARENT}/statements",
            content=_statement(listed),
            headers={"Content-Type": "text/csv"},
        ),
        200,
    )
    new = BAD_SIGNATURES + UNSEEN
    assert report == {
        "rows": distinct + UNSEEN,
        "imported": new,
        "matched": 0,  # the province appeal has no pledges: the district's were fulfilled
        "unmatched": new,
        "duplicates": distinct - BAD_SIGNATURES,
        "skipped": 0,
        "errors": [],
        "dry_run": False,
    }
    # Importing the statement again books nothing.
    again = f.ok(
        client.post(
            f"/v1/campaigns/{PARENT}/statements",
            content=_statement(listed),
            headers={"Content-Type": "text/csv"},
        ),
        200,
    )
    assert (again["imported"], again["duplicates"]) == (0, distinct + UNSEEN)

    def total(items: list[dict[str, Any]]) -> str:
        return str(sum(int(t["amount"]) for t in items))

    fed = [transfers[i] for i in accepted]
    missed = [transfers[i] for i in sorted(bad)] + unseen
    child = f.money(f.reconciliation(client, CHILD))
    assert (child["received"], child["contributions_count"]) == (total(fed), len(fed))
    parent = f.money(f.reconciliation(client, PARENT))
    assert (parent["received"], parent["contributions_count"]) == (total(missed), len(missed))
    rolled = f.reconciliation(client, PARENT, include_children="true")
    assert f.money(rolled)["received"] == total(transfers + unseen)
    assert f.money(rolled)["contributions_count"] == len(transfers) + UNSEEN
    checks = {check["name"]: check["ok"] for check in rolled["checks"]}
    assert checks["bank_lines_counted_once"] is True
    assert all(checks.values()), rolled["checks"]
    for reference, pledge_id in pledges.items():
        expected = sum(Decimal(t["amount"]) for t in fed if t["pledge_reference"] == reference)
        pledge = f.ok(client.get(f"/v1/pledges/{pledge_id}"), 200)
        assert Decimal(pledge["fulfilled_amount"]) == expected, reference

    # Every transfer is booked exactly once, under its own bank reference.
    with db.session() as session:
        booked = dict(
            session.execute(
                select(Contribution.bank_reference, func.count()).group_by(
                    Contribution.bank_reference
                )
            ).all()
        )
    assert booked == {t["transaction_id"]: 1 for t in transfers + unseen}
