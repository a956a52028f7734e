"""The public search answers from the search index (revision 0009) with the same results
as reading every row: fragments, short queries, quotes, and rows added later."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from tests.support import factories as f

MESSAGES = [
    "PHAM HOAI THAO ung ho dong bao bao Yagi",
    "Nguyễn Văn An ủng hộ đồng bào lũ lụt Kỳ Sơn",
    'TRAN THI BINH "chung tay" vi mien Bac',
    "gia dinh ung ho ba con vung lu Ky Son",
]


@pytest.fixture
def appeal(client):
    code = f.campaign(client, code="yagi-2024-search")["code"]
    other = f.campaign(client, code="yagi-2024-elsewhere")["code"]
    for i, message in enumerate(MESSAGES):
        f.contribution(client, code, 100_000 * (i + 1), description=message)
        f.contribution(client, other, 7_000, description=message)  # never in the first's results
    return code


def _descriptions(client, code, q):
    response = client.get(f"/v1/public/campaigns/{code}/contributions", params={"q": q})
    assert response.status_code == 200, response.text
    return sorted(item["description"] for item in response.json()["items"])


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("pham hoai", [MESSAGES[0]]),  # diacritic-blind, any case
        ("ky son", [MESSAGES[3], MESSAGES[1]]),  # "Kỳ Sơn" folded, and "Ky Son"
        ("ủng hộ", [MESSAGES[3], MESSAGES[0], MESSAGES[1]]),  # folded query too
        ("oai th", [MESSAGES[0]]),  # a fragment inside words
        ("an", [MESSAGES[1], MESSAGES[2]]),  # shorter than a trigram: read row by row
        ('"chung tay"', [MESSAGES[2]]),  # quotes are text, not query syntax
        ("son vi", []),
    ],
)
def test_search_finds_exactly_the_rows_that_contain_the_words(client, appeal, q, expected):
    assert _descriptions(client, appeal, q) == sorted(expected)


def test_rows_added_after_the_index_was_built_are_found(client, appeal):
    f.contribution(client, appeal, 500_000, description="Lo Van Kin ung ho Muong Long")
    assert _descriptions(client, appeal, "muong long") == ["Lo Van Kin ung ho Muong Long"]


def test_the_sqlite_index_holds_every_message(client, appeal, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("the FTS5 table is SQLite's; PostgreSQL indexes the column itself")
    engine = create_engine(database_url)
    with engine.connect() as conn:
        indexed = conn.scalar(
            text("SELECT count(*) FROM search_contributions WHERE search_contributions MATCH 'ung'")
        )
        stored = conn.scalar(
            text("SELECT count(*) FROM contributions WHERE description_folded LIKE '%ung%'")
        )
    engine.dispose()
    assert indexed == stored == 8  # four messages contain "ung", in two campaigns
