"""The location tree: creation rules, search, and ancestry look-ups in one or two queries."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, literal, select
from sqlalchemy.orm import Session

from app import hxl
from app.errors import Conflict, Invalid, NotFound
from app.locations.models import PATH_SEPARATOR, Location, LocationLevel, ancestor_ids
from app.locations.schemas import LocationCreate
from app.text import fold

# Deep enough for province › district › commune › village and a few custom nodes below;
# it bounds `ancestry` (11 characters a level) and stops runaway chains of `other`.
MAX_DEPTH = 12

L = LocationLevel
# The levels a location may hang under (None: it may be a root). `other` hangs anywhere;
# a commune may sit straight under a province, as in the 2025 two-level structure.
_PARENT_LEVELS: dict[LocationLevel, set[LocationLevel | None]] = {
    L.province: {None},
    L.district: {None, L.province},
    L.commune: {None, L.district, L.province},
    L.village: {None, L.commune},
    L.other: {None, *LocationLevel},
}
_PARENT_RULES: dict[LocationLevel, tuple[str, str]] = {
    L.province: ("province_has_no_parent", "a province is a root of the tree and has no parent"),
    L.district: ("district_parent_must_be_province", "a district's parent must be a province"),
    L.commune: (
        "commune_parent_must_be_district_or_province",
        "a commune's parent must be a district or (since 2025) a province",
    ),
    L.village: ("village_parent_must_be_commune", "a village's parent must be a commune"),
}


def get(session: Session, location_id: int) -> Location:
    location = session.get(Location, location_id)
    if location is None:
        raise NotFound("location_not_found", f"No location has id {location_id}.")
    return location


def referenced(session: Session, location_id: int, *, field: str = "location_id") -> Location:
    """A location named in a request body: unknown ids are a 422 on that field."""
    location = session.get(Location, location_id)
    if location is None:
        raise Invalid.field(field, "location_not_found", f"no location has id {location_id}")
    return location


def create(session: Session, *, location_in: LocationCreate) -> Location:
    """Record a place under its parent, storing its ancestry and path for cheap reads.

    Refused: a parent at a level the tree does not allow (422), a name that is already
    under the same parent at the same level once case and diacritics are ignored
    (409 `location_exists`, with `existing_id`; see `same_place`), and a code in use (409).
    """
    parent = (
        referenced(session, location_in.parent_id, field="parent_id")
        if location_in.parent_id is not None
        else None
    )
    _check_parent(location_in.level, parent)
    if PATH_SEPARATOR.strip() in location_in.name:
        raise Invalid.field(
            "name",
            "location_name_has_path_separator",
            f"a name must not contain {PATH_SEPARATOR.strip()!r}, which separates a path",
        )
    location = Location(
        name=location_in.name,
        name_folded=fold(location_in.name),
        level=location_in.level,
        parent_id=parent.id if parent else None,
        code=location_in.code,
        **lineage(parent, location_in.name),
    )
    if location.depth > MAX_DEPTH:
        raise Invalid.field(
            "parent_id", "location_too_deep", f"a location has at most {MAX_DEPTH} ancestors"
        )
    for sibling in session.execute(
        select(Location.id, Location.name, Location.code).where(
            Location.ancestry == location.ancestry,
            Location.level == location.level,
            Location.name_folded == location.name_folded,
        )
    ):
        if same_place(sibling.name, sibling.code, location.name, location.code):
            raise Conflict(
                "location_exists",
                f"Location {sibling.id} ({sibling.name}) is already a {location.level.value} "
                f"named like {location.name!r} here; case and diacritics are ignored.",
                extra={"existing_id": sibling.id},
            )
    if location.code and session.scalar(select(Location.id).where(Location.code == location.code)):
        raise Conflict("location_code_taken", f"A location with code {location.code} exists.")
    session.add(location)
    session.flush()
    return location


def same_place(name: str, code: str | None, other_name: str, other_code: str | None) -> bool:
    """Whether two siblings of one level whose folded names are equal are the same place.

    They are, unless both carry official codes and their names differ beyond case:
    Xã Văn Lăng (05665) and Xã Văn Lang (02143) are two communes of Thái Nguyên.
    """
    return code is None or other_code is None or name.casefold() == other_name.casefold()


def lineage(parent: Location | None, name: str) -> dict[str, str | int]:
    """The stored `ancestry`, `depth` and `path` of a new location named `name` under `parent`."""
    if parent is None:
        return {"ancestry": "/", "depth": 0, "path": name}
    return {
        "ancestry": f"{parent.ancestry}{parent.id}/",
        "depth": parent.depth + 1,
        "path": f"{parent.path}{PATH_SEPARATOR}{name}",
    }


def _check_parent(level: LocationLevel, parent: Location | None) -> None:
    if (parent.level if parent else None) in _PARENT_LEVELS[level]:
        return
    code, message = _PARENT_RULES[level]
    raise Invalid.field("parent_id", code, message)


def search(
    *, q: str | None, parent_id: int | None, level: LocationLevel | None = None
) -> Select[Location]:
    """Locations matching the filters, for `paginate`.

    `q` ignores case and Vietnamese diacritics (NFC or NFD input alike); each of its
    words must begin a word of the name, in the same order: `ky son` and `huyen son`
    find "Huyện Kỳ Sơn", `son ky` does not.
    """
    stmt = select(Location)
    if q and (words := fold(q).split()):
        pattern = "".join(f"% {_escape_like(word)}" for word in words) + "%"
        # A leading space lets the first word of the name start a match too.
        stmt = stmt.where(literal(" ").concat(Location.name_folded).like(pattern, escape="\\"))
    if parent_id is not None:
        stmt = stmt.where(Location.parent_id == parent_id)
    if level is not None:
        stmt = stmt.where(Location.level == level)
    return stmt


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def ancestors(session: Session, location_id: int) -> list[Location]:
    """The ancestors of a location, root first, itself excluded; 404 if it does not exist.

    Two queries: the location, then all its ancestors at once (by its stored ancestry).
    """
    location = get(session, location_id)
    if not location.ancestor_ids:
        return []
    return list(
        session.scalars(
            select(Location).where(Location.id.in_(location.ancestor_ids)).order_by(Location.depth)
        )
    )


def ancestors_at_level(
    session: Session, location_ids: Iterable[int], level: LocationLevel
) -> dict[int, Location | None]:
    """For each id, the location at `level` that contains it (itself if it is at `level`).

    The answer maps every given id to that location, or to None when neither it nor
    any ancestor is at `level` (or the id is unknown). When several ancestors are at
    `level` (nested `other` nodes), the nearest wins. Two queries, whatever the number of ids.
    """
    ids = set(location_ids)
    if not ids:
        return {}
    chains: dict[int, list[int]] = {}
    wanted: set[int] = set()
    for location_id, location_level, ancestry in session.execute(
        select(Location.id, Location.level, Location.ancestry).where(Location.id.in_(ids))
    ):
        chains[location_id] = [location_id, *reversed(ancestor_ids(ancestry))]  # nearest first
        wanted.update(chains[location_id] if location_level == level else chains[location_id][1:])
    # Only the ancestors (and the ids at `level` themselves): a short list when ids share them.
    at_level = {
        location.id: location
        for location in session.scalars(
            select(Location).where(Location.id.in_(wanted), Location.level == level)
        )
    }
    return {
        location_id: next(
            (at_level[node] for node in chains.get(location_id, []) if node in at_level), None
        )
        for location_id in ids
    }


def lineages(session: Session, location_ids: Iterable[int]) -> dict[int, list[Location]]:
    """For each known id, its ancestors root first and the place itself last. Two queries,
    whatever the number of ids."""
    ids = set(location_ids)
    if not ids:
        return {}
    places = {p.id: p for p in session.scalars(select(Location).where(Location.id.in_(ids)))}
    above = {a for place in places.values() for a in place.ancestor_ids} - places.keys()
    if above:
        places.update(
            (p.id, p) for p in session.scalars(select(Location).where(Location.id.in_(above)))
        )
    return {
        location_id: [*(places[a] for a in places[location_id].ancestor_ids), places[location_id]]
        for location_id in ids
        if location_id in places
    }


def hxl_place(lineage: list[Location]) -> dict[str, str | None]:
    """A place's HXL cells (`app.hxl.PLACE`) from its lineage (`lineages`)."""
    place = lineage[-1]
    return {
        "location": place.name,
        "location_code": place.code,
        "location_level": str(place.level),
        **hxl.admin_cells((str(p.level), p.name, p.code) for p in lineage),
    }
