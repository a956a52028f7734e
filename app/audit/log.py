"""The hash-chained audit log: every write, by whom, appended in the write's transaction.

Changes are captured generically: after each flush, every created or updated record
(except the ledger's own chained tables and bookkeeping) is noted; when the session
commits, the notes are appended as events (a `before_commit` listener, so every commit —
a request's, a `relief` command's, a script's — is audited the same way). A session that
acts for nobody cannot write audited records at all (`app.keys.scope` fails closed).

One chain per campaign, plus a `global` chain for records outside campaigns (units, keys,
donors, locations, items). Campaign writers already serialise on their campaign's ledger
lock, so locking the same campaign's audit head adds no contention between campaigns; only
writes outside campaigns share the global head. Chains are locked in sorted order, so two
requests can never wait on each other's chains.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import event, insert, inspect, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, UOWTransaction

from app.audit.models import GLOBAL_CHAIN, AuditEvent, AuditHead, campaign_chain
from app.db import utcnow
from app.keys import scope
from app.ledger.chain import GENESIS_HASH, canonical_json, json_value, rfc3339
from app.money import canonical

# The ledger chains itself; bookkeeping tables are not history.
NOT_AUDITED = {
    "audit_events",
    "audit_heads",
    "ledger_entries",
    "ledger_postings",
    "ledger_accounts",
    "ledger_heads",
    "idempotency_records",
}
SECRET_COLUMNS = {"token_hash", "secret"}  # an API key's hash, a feed secret
_PENDING = "audit_pending"


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return canonical(value)
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def _audited(obj: Any) -> bool:
    return inspect(obj).mapper.local_table.name not in NOT_AUDITED


def _note(session: Session, obj: Any, *, created: bool) -> None:
    state = inspect(obj)
    table = state.mapper.local_table.name
    # Read the key from the row: new objects get their identity only after this event.
    key = state.mapper.primary_key_from_instance(obj)
    if table in NOT_AUDITED or len(key) != 1 or key[0] is None:
        return
    columns = [c for c in state.mapper.column_attrs if c.key not in SECRET_COLUMNS]
    pending: dict[tuple[str, int], dict[str, Any]] = session.info.setdefault(_PENDING, {})
    note = pending.setdefault(
        (table, int(key[0])),
        {"action": "created" if created else "updated", "changes": {}, "obj": obj},
    )
    if created:
        note["changes"] = {c.key: _plain(getattr(obj, c.key)) for c in columns}
        return
    for column in columns:
        history = state.attrs[column.key].history
        if not history.has_changes():
            continue
        new = _plain(history.added[0]) if history.added else None
        if note["action"] == "created":
            note["changes"][column.key] = new
        else:
            old = _plain(history.deleted[0]) if history.deleted else None
            first_old = note["changes"].get(column.key, [old])[0]
            note["changes"][column.key] = [first_old, new]


def note_bulk(
    session: Session,
    *,
    table: str,
    entity_id: int,
    action: str,
    changes: dict[str, Any],
    campaign_id: int | None,
) -> None:
    """Note a write made with Core statements (a statement import's thousands of rows),
    which the flush listener cannot see; appended with the transaction's other changes."""
    scope.current(session)  # fails closed: an import acts for somebody
    pending: dict[tuple[str, int], dict[str, Any]] = session.info.setdefault(_PENDING, {})
    pending[(table, entity_id)] = {
        "action": action,
        "changes": changes,
        "obj": None,
        "campaign_id": campaign_id,
    }


def install() -> None:
    """Attach the audit log to every session's flushes and commits (idempotent; importing
    this module already does it, this makes the dependency explicit where it matters)."""
    for name, listener in (("after_flush", _capture), ("before_commit", _append_on_commit)):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)


def _capture(session: Session, _: UOWTransaction) -> None:
    if scope.bound(session) is None:
        if any(_audited(obj) for obj in (*session.new, *session.dirty)):
            scope.current(session)  # raises: nobody to attribute these changes to
        return
    for obj in session.new:
        _note(session, obj, created=True)
    for obj in session.dirty:
        if session.is_modified(obj, include_collections=False):
            _note(session, obj, created=False)


def event_hash(event_: AuditEvent | Mapping[str, Any]) -> str:
    """SHA-256 over the event's content and the previous event's hash (of an event, or of
    a mapping with at least its `HASHED_COLUMNS`)."""
    if isinstance(event_, AuditEvent):
        return _hash_of({column: getattr(event_, column) for column in HASHED_COLUMNS})
    return _hash_of(event_)


HASHED_COLUMNS = (
    "chain", "seq", "campaign_id", "actor_key_id", "actor_role", "actor_unit_id",
    "request_id", "method", "path", "entity_type", "entity_id", "action", "changes",
    "recorded_at", "prev_hash",
)  # fmt: skip


def _hash_of(event_: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of
    {"chain", "seq", "campaign_id", "actor": [key id, role, unit id],
     "request": [request id, method, path], "entity": [type, id, action],
     "changes", "recorded_at", "prev_hash"}, written out directly in sorted key order (the
    same bytes as `content_hash` of that dict: tests/audit/test_event_hash.py)."""
    j = json_value
    text = (
        f'{{"actor":[{j(event_["actor_key_id"])},{j(event_["actor_role"])},'
        f'{j(event_["actor_unit_id"])}],"campaign_id":{j(event_["campaign_id"])},'
        f'"chain":{j(event_["chain"])},"changes":{j(event_["changes"])},'
        f'"entity":[{j(event_["entity_type"])},{j(event_["entity_id"])},{j(event_["action"])}],'
        f'"prev_hash":{j(event_["prev_hash"])},"recorded_at":{j(rfc3339(event_["recorded_at"]))},'
        f'"request":[{j(event_["request_id"])},{j(event_["method"])},{j(event_["path"])}],'
        f'"seq":{j(event_["seq"])}}}'
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _lock_head(session: Session, chain: str) -> AuditHead:
    stmt = (
        select(AuditHead)
        .where(AuditHead.chain == chain)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    head = session.scalars(stmt).one_or_none()
    if head is not None:
        return head
    try:
        with session.begin_nested():
            session.add(AuditHead(chain=chain, seq=0, head_hash=GENESIS_HASH))
    except IntegrityError:  # another request started the chain first: take its head
        pass
    return session.scalars(stmt).one()


def _campaign_of(session: Session, table: str, obj: Any) -> int | None:
    if table == "campaigns":
        return int(obj.id)
    value = getattr(obj, "campaign_id", None)
    if value is not None:
        return int(value)
    # A record that hangs off a campaign's record (a contribution's reversal) joins its chain.
    mapper = inspect(obj).mapper
    for column in mapper.local_table.columns:
        for fk in column.foreign_keys:
            parent = fk.column.table
            key = getattr(obj, mapper.get_property_by_column(column).key)
            if "campaign_id" in parent.c and key is not None:
                found = session.scalar(select(parent.c.campaign_id).where(fk.column == key))
                return int(found) if found is not None else None
    return None


def _append_on_commit(session: Session) -> None:
    if scope.bound(session) is not None:
        _append_pending(session)


def _append_pending(session: Session) -> None:
    """Append every change noted in this transaction to its chain (runs just before commit)."""
    principal = scope.current(session)
    session.flush()
    pending: dict[tuple[str, int], dict[str, Any]] = session.info.pop(_PENDING, {})
    if not pending:
        return
    by_chain: dict[str, list[tuple[str, int, dict[str, Any], int | None]]] = {}
    for (table, entity_id), note in pending.items():
        campaign_id = (
            note["campaign_id"]
            if note["obj"] is None
            else _campaign_of(session, table, note["obj"])
        )
        chain = campaign_chain(campaign_id) if campaign_id else GLOBAL_CHAIN
        by_chain.setdefault(chain, []).append((table, entity_id, note, campaign_id))
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for chain in sorted(by_chain):
        head = _lock_head(session, chain)
        seq, head_hash = head.seq, head.head_hash
        for table, entity_id, note, campaign_id in by_chain[chain]:
            row = {
                "chain": chain,
                "seq": seq + 1,
                "campaign_id": campaign_id,
                "actor_key_id": principal.key_id,
                "actor_role": principal.actor_role,
                "actor_unit_id": principal.unit_id,
                "request_id": principal.request_id,
                "method": principal.method,
                "path": principal.path,
                "entity_type": table,
                "entity_id": entity_id,
                "action": note["action"],
                "changes": canonical_json(note["changes"]),
                "recorded_at": now,
                "prev_hash": head_hash,
            }
            row["hash"] = head_hash = _hash_of(row)
            seq = row["seq"]
            rows.append(row)
        # Core statements: the unit of work would cost more than the writes it audits.
        # The ORM head is stale from here on; `_lock_head` reads it afresh each time.
        connection = session.connection()
        connection.execute(
            update(AuditHead).where(AuditHead.chain == chain).values(seq=seq, head_hash=head_hash)
        )
    session.connection().execute(insert(AuditEvent), rows)


install()
