"""`make run` shows the demo: from the home page a newcomer finds a demo donor's gift in
three clicks (an appeal, the statement, a search)."""

from __future__ import annotations

import re
from html import unescape

from typer.testing import CliRunner

from app.cli import app as cli
from tests.pages.test_pages import text_of


def _link(page: str, label: str) -> str:
    found = re.search(r'<a[^>]*href="([^"]+)"[^>]*>\s*' + re.escape(label), page)
    assert found, label
    return unescape(found.group(1))


def test_a_demo_gift_is_three_clicks_from_the_home_page(client, database_url):
    loaded = CliRunner().invoke(cli, ["demo", "--database-url", database_url])
    assert loaded.exit_code == 0, loaded.output
    home = client.get("/").text
    assert "Ủng hộ đồng bào Kỳ Sơn bị lũ ống tháng 10/2022" in home
    appeal = client.get(_link(home, "Ủng hộ đồng bào Kỳ Sơn bị lũ ống tháng 10/2022")).text  # 1
    statement = client.get(_link(appeal, "Tra cứu sao kê")).text  # 2
    action = re.search(r'<form method="get" action="([^"]+)"', statement).group(1)
    found = client.get(action, params={"q": "nguyen van an"})  # 3: the search button
    assert found.status_code == 200
    seen = text_of(found.text)
    assert "07/10/2022 Nguyễn Văn An 5.000.000 ₫" in seen
    # The demo's anonymous donor is on none of these pages.
    for page in (home, appeal, statement, found.text):
        assert "Trần Thị Bình" not in unescape(page)
