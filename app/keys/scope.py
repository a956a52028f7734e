"""Which units, campaigns and donors the request's key reaches.

The principal travels with the session (`session.info`), so every service that loads a
campaign-scoped record checks reach the same way without each router passing it along.
Out of reach means absent: the caller gets the same 404 (or 422 for an id in a body) as
for an id that does not exist, never the record's data. A session with no principal
(scripts, the CLI, tests that call services) is unrestricted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.errors import DomainError
from app.keys.models import Role
from app.units import service as units
from app.units.models import Unit

_INFO_KEY = "principal"
T = TypeVar("T")


@dataclass(frozen=True)
class Principal:
    """The key holder of a request, and the request as the audit log names it."""

    key_id: int | None
    role: Role
    unit_id: int | None
    unit_path: str | None
    name: str
    request_id: str | None = None
    method: str | None = None
    path: str | None = None

    def reaches(self, unit_path: str) -> bool:
        """Officers reach their unit and its descendants; admins and auditors reach all."""
        if self.role != Role.officer:
            return True
        return self.unit_path is not None and unit_path.startswith(self.unit_path)


def bind(session: Session, principal: Principal) -> None:
    session.info[_INFO_KEY] = principal


def current(session: Session) -> Principal | None:
    principal: Principal | None = session.info.get(_INFO_KEY)
    return principal


def reaches_unit(session: Session, unit_id: int) -> bool:
    principal = current(session)
    return principal is None or principal.reaches(units.path_of(session, unit_id))


def require_unit(session: Session, unit_id: int, absent: DomainError) -> None:
    """Raise `absent` (the error for a missing record) when the unit is out of reach."""
    if not reaches_unit(session, unit_id):
        raise absent


def require_campaign(session: Session, campaign_id: int, absent: DomainError) -> None:
    """Raise `absent` when the campaign's unit is out of the caller's reach."""
    from app.campaigns.models import Campaign  # campaigns import this module

    campaign = session.get(Campaign, campaign_id)
    assert campaign is not None  # a foreign key guarantees it
    require_unit(session, campaign.unit_id, absent)


def within_reach(session: Session, stmt: Select[T], unit_column: Any) -> Select[T]:
    """Restrict a list to records whose unit the caller reaches."""
    principal = current(session)
    if principal is None or principal.role != Role.officer or principal.unit_path is None:
        return stmt
    reachable = select(Unit.id).where(Unit.path.startswith(principal.unit_path, autoescape=True))
    return stmt.where(unit_column.in_(reachable))


def acting_unit(session: Session, unit_code: str | None, *, field: str = "unit_code") -> Unit:
    """The unit a new record belongs to: the named one if the caller reaches it, else the
    caller's own (an officer's unit; the root unit for admins and scripts)."""
    principal = current(session)
    if unit_code is not None:
        unit = units.referenced(session, unit_code, field=field)
        if principal is not None and not principal.reaches(unit.path):
            raise units.unit_not_found(unit_code, field)
        return unit
    if principal is not None and principal.unit_id is not None:
        own = session.get(Unit, principal.unit_id)
        assert own is not None
        return own
    return units.root(session)
