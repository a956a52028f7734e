"""Key rules: random tokens shown once and stored as a hash; officers belong to a unit;
revoked keys stay on record but open nothing."""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from datetime import timedelta

from sqlalchemy import Select, Update, or_, select, update
from sqlalchemy.orm import Session

from app.db import Database, utcnow
from app.errors import Invalid, NotFound
from app.keys.models import ApiKey, key_relations
from app.keys.roles import Role
from app.keys.schemas import ApiKeyCreate
from app.units import service as units

log = logging.getLogger(__name__)

TOKEN_PREFIX = "rlk_"  # noqa: S105 - a label, not a secret
# last_used_at is a hint for admins, not a log: minute precision is plenty.
LAST_USED_PRECISION = timedelta(minutes=1)


FIRST_KEY_HINT = (
    "No admin API key exists yet. Create one with:\n"
    "  .venv/bin/relief keys create --role admin --name 'First admin'\n"
    "It prints the key once, on its last line; send it as `Authorization: Bearer <key>`."
)


def warn_without_admin_key(database: Database) -> None:
    """Log how to make the first admin key when there is none (at every start until then)."""
    try:
        with database.session(read_only=True) as session:
            missing = not any_admin(session)
    except Exception:  # an unmigrated database: `alembic upgrade head` will say more
        return
    if missing:
        log.warning(FIRST_KEY_HINT)


def token_hash(token: str) -> str:
    # A 256-bit random token cannot be guessed, so a fast hash is enough (no bcrypt needed).
    return hashlib.sha256(token.encode()).hexdigest()


def issue(session: Session, *, key_in: ApiKeyCreate) -> tuple[ApiKey, str]:
    """Create a key and return it with its token, which is never stored or shown again."""
    unit_id = None
    if key_in.role == Role.officer:
        if key_in.unit_code is None:
            raise Invalid.field("unit_code", "officer_needs_unit", "an officer key needs unit_code")
        unit_id = units.referenced(session, key_in.unit_code).id
    elif key_in.unit_code is not None:
        raise Invalid.field(
            "unit_code", "unit_only_for_officers", f"a {key_in.role} key acts for every unit"
        )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        name=key_in.name,
        role=key_in.role,
        unit_id=unit_id,
        prefix=token[:12],
        token_hash=token_hash(token),
    )
    session.add(key)
    session.flush()
    session.refresh(key, ["unit"])
    return key, token


def find_by_token(session: Session, token: str) -> ApiKey | None:
    return session.scalars(
        select(ApiKey).where(ApiKey.token_hash == token_hash(token))
    ).one_or_none()


def get(session: Session, key_id: int) -> ApiKey:
    key = session.get(ApiKey, key_id, options=key_relations())
    if key is None:
        raise NotFound("api_key_not_found", f"No API key has id {key_id}.")
    return key


def revoke(session: Session, key: ApiKey) -> ApiKey:
    """Revoke a key; revoking twice changes nothing."""
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.flush()
    return key


def search() -> Select[ApiKey]:
    return select(ApiKey).options(*key_relations())


def any_admin(session: Session) -> bool:
    stmt = select(ApiKey.id).where(ApiKey.role == Role.admin, ApiKey.revoked_at.is_(None))
    return session.scalar(stmt.limit(1)) is not None


# Keyed by token hash, which, unlike an id, names one key even across databases.
_touched: dict[str, float] = {}
_touched_lock = threading.Lock()


def due_for_touch(key: ApiKey) -> bool:
    """Whether this use should be written to last_used_at (at most once a minute per key)."""
    now = time.monotonic()
    with _touched_lock:
        if now - _touched.get(key.token_hash, float("-inf")) < LAST_USED_PRECISION.total_seconds():
            return False
        _touched[key.token_hash] = now
    return key.last_used_at is None or utcnow() - key.last_used_at >= LAST_USED_PRECISION


def _touch_statement(key_id: int) -> Update:
    now = utcnow()
    return (
        update(ApiKey)
        .where(
            ApiKey.id == key_id,
            or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < now - LAST_USED_PRECISION),
        )
        .values(last_used_at=now)
    )


def touch(session: Session, key_id: int) -> None:
    """Record a key's use in the caller's (write) transaction: no commit of its own.

    A Core UPDATE, so the audit log does not note it: last use is a hint, not history.
    """
    session.execute(_touch_statement(key_id))


def touch_later(database: Database, key_id: int) -> None:
    """Record a read's use of a key in a short transaction of its own, after the read's
    transaction ended (at most once a minute per key: see `due_for_touch`)."""
    try:
        with database.transaction() as session:
            session.execute(_touch_statement(key_id))
    except Exception:  # bookkeeping must never fail a request that already succeeded
        log.warning("could not record the use of key %s", key_id, exc_info=True)
