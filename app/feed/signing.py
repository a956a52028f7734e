"""The feed's signature: `X-Relief-Signature: sha256=<hex>`, the HMAC-SHA256 of the raw
request body keyed with the account's secret (its UTF-8 bytes)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable

HEADER = "X-Relief-Signature"
SCHEME = "sha256="
SECRET_PREFIX = "rlfeed_"  # noqa: S105 - a label, not a secret


def new_secret() -> str:
    """256 random bits, URL-safe, with a prefix a secret scanner can recognise."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, body: bytes) -> str:
    """The header value a sender computes: `sha256=` and the HMAC's lowercase hex."""
    return SCHEME + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def matches(header: str, body: bytes, candidates: Iterable[str]) -> bool:
    """Whether `header` signs `body` with one of the secrets, compared in constant time
    (every candidate is tried, so the time does not tell which one matched)."""
    given = header.strip().lower().encode()
    found = False
    for secret in candidates:
        found |= hmac.compare_digest(given, signature(secret, body).encode())
    return found
