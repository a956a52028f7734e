"""Who is acting, and which units, campaigns and donors they reach.

The principal travels with the session (`session.info`), so every service that loads a
unit-scoped record checks reach the same way without each router passing it along.
Out of reach means absent: the caller gets the same 404 (or 422 for an id in a body) as
for an id that does not exist, never the record's data.

Scope fails closed: a session with no principal may neither read scoped records nor
write (the audit log refuses to flush unattributed changes). Requests bind the key's
holder (`app.keys.auth`); code outside a request — a `relief` command, a script, a
test — binds a named system principal with `acting_as`, and its writes are audited
under that name like any other.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.db import Database
from app.errors import DomainError
from app.keys.roles import Role
from app.units import service as units
from app.units.models import Unit

_INFO_KEY = "principal"
SYSTEM_METHOD = "SYSTEM"
T = TypeVar("T")


class NoPrincipal(RuntimeError):
    """A programming error: scoped data was read or written by code that bound nobody."""


@dataclass(frozen=True)
class Principal:
    """The key holder of a request (or a named system actor), as the audit log names it."""

    key_id: int | None
    role: Role
    unit_id: int | None
    unit_path: str | None
    name: str
    request_id: str | None = None
    method: str | None = None
    path: str | None = None

    @classmethod
    def system(cls, name: str) -> Principal:
        """Code running outside a request, e.g. `relief demo`: it reaches every unit and its
        writes are audited with method `SYSTEM` and its name as the path."""
        return cls(
            key_id=None,
            role=Role.admin,
            unit_id=None,
            unit_path=None,
            name=name,
            method=SYSTEM_METHOD,
            path=name,
        )

    @property
    def is_system(self) -> bool:
        return self.key_id is None and self.method == SYSTEM_METHOD

    @property
    def actor_role(self) -> str:
        """The role the audit log records: a key's role, or `system`."""
        return "system" if self.is_system else str(self.role)

    def reaches(self, unit_path: str) -> bool:
        """Officers reach their unit and its descendants; admins, auditors and system
        principals reach all."""
        if self.role != Role.officer:
            return True
        return self.unit_path is not None and unit_path.startswith(self.unit_path)


def bind(session: Session, principal: Principal) -> None:
    session.info[_INFO_KEY] = principal


def bound(session: Session) -> Principal | None:
    """The session's principal, if any (for code that must only observe, like the audit
    log's flush listener deciding whether to refuse)."""
    principal: Principal | None = session.info.get(_INFO_KEY)
    return principal


def current(session: Session) -> Principal:
    """The session's principal; raises `NoPrincipal` when none is bound (fails closed)."""
    principal = bound(session)
    if principal is None:
        raise NoPrincipal(
            "this session acts for nobody: bind a principal (a request's key, or "
            "`scope.acting_as(database, Principal.system(name))` outside a request)"
        )
    return principal


@contextmanager
def acting_as(database: Database, principal: Principal) -> Iterator[Session]:
    """A write transaction on behalf of `principal`: commits on success (its changes are
    audited under the principal), rolls back on error."""
    with database.transaction() as session:
        bind(session, principal)
        yield session


def reaches_unit(session: Session, unit_id: int) -> bool:
    return current(session).reaches(units.path_of(session, unit_id))


def require_unit(session: Session, unit_id: int, absent: DomainError) -> None:
    """Raise `absent` (the error for a missing record) when the unit is out of reach."""
    if not reaches_unit(session, unit_id):
        raise absent


def get_reachable(session: Session, stmt: Select[T, int], absent: DomainError) -> T:
    """The one record `stmt` selects together with the unit it belongs to, if the caller
    reaches that unit; otherwise (missing or out of reach alike) raise `absent`."""
    row = session.execute(stmt).one_or_none()
    if row is None:
        raise absent
    record, unit_id = row
    require_unit(session, unit_id, absent)
    found: T = record
    return found


def within_reach(session: Session, stmt: Select[T], unit_column: Any) -> Select[T]:
    """Restrict a list to records whose unit the caller reaches."""
    principal = current(session)
    if principal.role != Role.officer or principal.unit_path is None:
        return stmt
    reachable = select(Unit.id).where(Unit.path.startswith(principal.unit_path, autoescape=True))
    return stmt.where(unit_column.in_(reachable))


def acting_unit(session: Session, unit_code: str | None, *, field: str = "unit_code") -> Unit:
    """The unit a new record belongs to: the named one if the caller reaches it, else the
    caller's own (an officer's unit; the root unit for admins and system principals)."""
    principal = current(session)
    if unit_code is not None:
        unit = units.referenced(session, unit_code, field=field)
        if not principal.reaches(unit.path):
            raise units.unit_not_found(unit_code, field)
        return unit
    if principal.unit_id is not None:
        own = session.get(Unit, principal.unit_id)
        assert own is not None
        return own
    return units.root(session)
