"""Posting signed transfers to the bank feed, the way a bank would: the HMAC is computed
here with hmac/hashlib alone, never with the service's own signing code."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support import factories as f

NUMBER = "0011004012345"
_ids = itertools.count(1)


def account(client, code: str, number: str = NUMBER) -> dict[str, Any]:
    body = {"bank": "Vietcombank – CN Nghệ An", "number": number, "holder": "Ủy ban MTTQ"}
    return f.ok(client.post(f"/v1/campaigns/{code}/accounts", json=body))


def issue(client, account_id: int) -> dict[str, Any]:
    return f.ok(client.post(f"/v1/receiving-accounts/{account_id}/feed-secrets"))


def transfer(**fields: Any) -> dict[str, Any]:
    """A credit of 500000 VND sent now, with a fresh transaction id unless given one."""
    now = datetime.now(UTC)
    number = next(_ids)
    body: dict[str, Any] = {
        "transaction_id": f"FT22278{number:06d}",
        "account_number": NUMBER,
        "direction": "credit",
        "amount": "500000",
        "transferred_at": "2022-10-05T09:15:02+07:00",
        "sent_at": now.isoformat(),
        "message": "ung ho dong bao lu lut Ky Son",
        "counterparty": {"name": "NGUYEN VAN AN", "account": "0451000123456", "bank": "VCB"},
    }
    body.update(fields)
    return body


def sign(secret: str, raw: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def post(client, account_id: int, secret: str | None, body: dict[str, Any], **headers: str):
    raw = json.dumps(body, ensure_ascii=False).encode()
    sent = {"Content-Type": "application/json", **headers}
    if secret is not None:
        sent["X-Relief-Signature"] = sign(secret, raw)
    return client.post(f"/v1/receiving-accounts/{account_id}/feed", content=raw, headers=sent)


def ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()
