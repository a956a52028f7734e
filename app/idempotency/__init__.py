"""Idempotency-Key on POST (IETF httpapi draft): a resent request replays the first answer."""
