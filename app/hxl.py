"""HXL, the Humanitarian Exchange Language: CSV with a row of hashtags under its header, so
humanitarian tools (HDX, the HXL Proxy, libhxl) read each column by what it means.

Each export names its columns once, here: a header (also the key of its rows) and a
hashtag with attributes from the HXL hashtag dictionary. The file itself is written by
the one CSV writer, `app.text.csv_rows`, whose optional second header row is the hashtags.

The choices (docs/api.md, "HXL"):
- money is `#value` with `#currency`; a contribution carries both its original amount
  (`+original`) and what was settled in the campaign's currency (`+settled`): sum
  `#value+settled` for a campaign's total;
- goods are `#item` (`+code`, `+name`, `+unit`) and their quantity `#item +num`, never
  a `#value`, so no tool adds goats to đồng;
- places are `#loc` (`+name`, `+code`, `+type` the tree's level) and the official units
  above them `#adm1`…`#adm3` (`+name`, `+code`), province, district, commune.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Query
from fastapi.responses import StreamingResponse

# The `format` of a list that can be exported: JSON pages, or the whole list streamed.
ExportFormat = Annotated[
    Literal["json", "csv", "hxl"],
    Query(
        description="`csv` streams every matching row as one CSV file; `hxl` the same rows "
        "as HXL (CSV with a hashtag row under the header)."
    ),
]
EXPORT_DESCRIPTION = "JSON, or CSV with format=csv, or HXL (CSV) with format=hxl"


def export_response(lines: Iterator[str], name: str, format: str) -> StreamingResponse:
    """A streamed CSV or HXL download, named `<name>.csv` (`<name>-hxl.csv` for HXL)."""
    filename = f"{name}-hxl.csv" if format == "hxl" else f"{name}.csv"
    return StreamingResponse(
        lines,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@dataclass(frozen=True)
class Column:
    name: str
    tag: str


def names(columns: Sequence[Column]) -> list[str]:
    return [column.name for column in columns]


def hashtags(columns: Sequence[Column]) -> list[str]:
    return [column.tag for column in columns]


# The location tree's levels as HXL's administrative levels. Under Vietnam's 2025
# two-level structure a commune hangs straight under its province: its `#adm2` is empty.
ADMIN_LEVELS = {"province": 1, "district": 2, "commune": 3}

ADMIN = tuple(
    Column(f"adm{level}_{part}", f"#adm{level} +{part}")
    for level in sorted(ADMIN_LEVELS.values())
    for part in ("name", "code")
)

PLACE = (
    Column("location", "#loc +name"),
    Column("location_code", "#loc +code"),
    Column("location_level", "#loc +type"),
    *ADMIN,
)

GOODS = (
    Column("item_code", "#item +code"),
    Column("item_name", "#item +name"),
    Column("unit", "#item +unit"),
)


def admin_cells(lineage: Iterable[tuple[str, str, str | None]]) -> dict[str, str | None]:
    """`#adm1`…`#adm3` names and codes from a place's lineage, given as (level, name,
    code) from the root down to the place itself; levels outside the tree's official
    ones (village, other) leave no cell."""
    cells: dict[str, str | None] = dict.fromkeys(names(ADMIN))
    for level, name, code in lineage:
        number = ADMIN_LEVELS.get(level)
        if number is not None:
            cells[f"adm{number}_name"] = name
            cells[f"adm{number}_code"] = code
    return cells
