"""The donor pages in a real browser: Debian's Chromium driven by Playwright (never
Playwright's own download, which our machines cannot reach). One live server and one
browser for the module. What a person sees: the figures, the search, the QR code, the
language, escaped text, keyboard use; axe-core finds no serious or critical violation;
every page weighs at most 100 KB (HTML + CSS + JS); screenshots of every page at
390×844 and 1280×800 go to screenshots/ (ignored by git).

Chromium missing is a failure, not a skip: `make browser` installs it."""

from __future__ import annotations

import io
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import zxingcpp
from axe_playwright_python.sync_playwright import Axe
from PIL import Image
from playwright.sync_api import Browser, Page, sync_playwright

from app.transparency import signing
from tests.pages import story as s
from tests.pages.test_pages import DATA_WORDS, vietnamese_interface_strings
from tests.support import factories as f
from tests.support.database import BACKEND, migrate
from tests.support.live_server import serve

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "screenshots"
CHROMIUM = "/usr/bin/chromium"
# The closed network refuses background connections: Chromium is told not to try.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
MAX_PAGE_BYTES = 100_000
NBSP = "\xa0"


@dataclass
class Site:
    base_url: str
    http: httpx.Client
    story: s.Story

    def pages(self) -> dict[str, tuple[str, int]]:
        """Every page, by the name of its screenshot: (path, expected status)."""
        return {
            "home": ("/", 200),
            "campaign": (f"/c/{s.CODE}", 200),
            "campaign-place": (f"/c/{s.CODE}?place={self.story.places['district']}", 200),
            "sub-appeal": (f"/c/{s.CHILD}", 200),
            "statement": (f"/c/{s.CODE}/sao-ke", 200),
            "statement-search": (f"/c/{s.CODE}/sao-ke?q=nguyen+thi+huong&amount=500.000", 200),
            "statement-error": (f"/c/{s.CODE}/sao-ke?amount=5.00&from=31/02/2022", 422),
            "receipt": (f"/r/{self.story.receipts['huong']}", 200),
            "receipt-reversed": (f"/r/{self.story.receipts['reversed']}", 200),
            "not-found": (f"/c/{s.DRAFT}", 404),
            "campaign-en": (f"/c/{s.CODE}?lang=en", 200),
        }


def _database(request: pytest.FixtureRequest, tmp: Path, template_url: str) -> Iterator[str]:
    """A database of the module's own (the function-scoped one is emptied per test)."""
    if BACKEND == "postgresql":
        server = request.getfixturevalue("postgres_server")
        url = server.create()
        rendered = url.render_as_string(hide_password=False)
        migrate(rendered)
        try:
            yield rendered
        finally:
            server.drop(url)
    else:
        path = tmp / "pages.db"
        shutil.copyfile(template_url.removeprefix("sqlite:///"), path)
        yield f"sqlite:///{path}"


@pytest.fixture(scope="module")
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, template_url: str
) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("pages")
    key = tmp / "signing" / "relief-signing.key"
    signing.write_new_key(key)
    for url in _database(request, tmp, template_url):
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("SIGNING_KEY_PATH", str(key))
            with (
                serve(url, tmp / "uvicorn.log") as live,
                httpx.Client(base_url=live.base_url, headers=live.headers, timeout=60) as http,
            ):
                story = s.load(http)
                f.ok(http.post(f"/v1/campaigns/{s.CODE}/checkpoints"), 201)
                yield Site(live.base_url, http, story)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, site: Site) -> Iterator[Page]:
    """A phone-sized tab reading Vietnamese; a script dialog (an escaped `<script>` that
    ran) fails the test."""
    context = browser.new_context(base_url=site.base_url, viewport=PHONE, locale="vi-VN")
    opened = context.new_page()
    dialogs: list[str] = []
    opened.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    yield opened
    context.close()
    assert dialogs == [], f"a script ran: {dialogs}"


def seen(page: Page) -> str:
    return " ".join(page.inner_text("body").replace(NBSP, " ").split())


def _weight(site: Site, page: Page) -> int:
    """Bytes of the page's HTML and of every stylesheet and script it loads."""
    assets = page.evaluate(
        "[...document.querySelectorAll('link[rel=stylesheet], script[src]')]"
        ".map(e => e.href || e.src)"
    )
    assert f"{site.base_url}/static/pages.css" in assets  # styled, by the service itself
    html = page.evaluate("document.documentElement.outerHTML")
    return len(html.encode()) + sum(len(site.http.get(url).content) for url in assets)


def test_every_page_at_two_sizes_is_light_accessible_and_fits(page: Page, site: Site):
    SCREENSHOTS.mkdir(exist_ok=True)
    axe = Axe()
    weights = {}
    for name, (path, status) in site.pages().items():
        requested: list = []

        def note(request, into=requested):
            into.append(request)

        page.on("request", note)
        page.set_viewport_size(PHONE)
        response = page.goto(path)
        assert response is not None and response.status == status, (name, path)
        page.remove_listener("request", note)
        # Nothing from anywhere else: every request goes to the service itself.
        assert [r.url for r in requested if not r.url.startswith((site.base_url, "data:"))] == []
        weights[name] = _weight(site, page)
        # Readable on a 390 px screen: nothing wider than the screen but scrollable tables.
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name
        found = axe.run(page).response["violations"]
        serious = [
            (v["id"], [n["target"] for n in v["nodes"]])
            for v in found
            if v["impact"] in ("serious", "critical")
        ]
        assert serious == [], (name, serious)
        page.screenshot(path=SCREENSHOTS / f"{name}-390x844.png", full_page=True)
        page.set_viewport_size(DESKTOP)
        page.screenshot(path=SCREENSHOTS / f"{name}-1280x800.png", full_page=True)
    heavy = {name: size for name, size in weights.items() if size > MAX_PAGE_BYTES}
    assert heavy == {}, weights


def test_the_totals_are_the_reconciliation_s(page: Page, site: Site):
    money = f.money(f.reconciliation(site.http, s.CODE))
    page.goto(f"/c/{s.CODE}")
    for name in ("received", "allocated", "delivered", "available"):
        shown = page.locator(f'dd[data-total="{name}"]').inner_text().replace(NBSP, " ")
        # 4.130.000 ₫: the reconciliation's "4130000" written the Vietnamese way.
        assert re.fullmatch(r"\d{1,3}(\.\d{3})* ₫", shown), shown
        assert shown.replace(".", "").removesuffix(" ₫") == money[name], name
    assert page.locator('dd[data-total="received"]').inner_text() == f"4.130.000{NBSP}₫"


def test_a_search_without_diacritics_finds_the_donor(page: Page):
    page.goto(f"/c/{s.CODE}")
    page.get_by_role("link", name="Tra cứu sao kê").click()
    page.get_by_label("Tên hoặc nội dung chuyển khoản").fill("nguyen thi huong")
    page.get_by_label("Số tiền").fill("500.000")
    page.get_by_role("button", name="Tìm kiếm").click()
    page.wait_for_url("**/sao-ke?**")
    rows = page.locator("table.statement tbody tr")
    assert rows.count() == 1
    assert " ".join(rows.first.inner_text().replace(NBSP, " ").split()) == (
        "05/10/2022 Nguyễn Thị Hường 500.000 ₫ Nguyen Thi Huong ung ho dong bao Ky Son Đã ghi nhận"
    )
    assert page.locator(".read-as").inner_text().replace(NBSP, " ") == (
        "Số tiền được hiểu là 500.000 ₫."
    )


def test_an_anonymous_donor_s_name_is_on_no_page(page: Page, site: Site):
    # (Both languages of every page are read over plain HTTP in test_pages.py.)
    for name, (path, _) in site.pages().items():
        page.goto(path)
        html = page.content()
        for secret in (s.SECRET_NAME, s.SECRET_MESSAGE, s.SECRET_EMAIL):
            assert secret not in html, (name, secret)
    page.goto(f"/r/{site.story.receipts['secret']}")
    assert "Nhà hảo tâm ẩn danh" in seen(page)


def test_the_qr_code_decodes_to_the_receipt_s_address(page: Page, site: Site):
    code = site.story.receipts["huong"]
    page.goto(f"/r/{code}")
    image = Image.open(io.BytesIO(page.locator("#qr").screenshot()))
    assert [found.text for found in zxingcpp.read_barcodes(image)] == [f"{site.base_url}/r/{code}"]
    # Once a signed checkpoint covers it, the receipt shows its proof.
    assert "Bằng chứng khoản này có trong sổ" in seen(page)
    note = site.http.get(f"/v1/public/campaigns/{s.CODE}/checkpoint").text
    assert page.locator("pre.note").inner_text().rstrip("\n") == note.rstrip("\n")


def test_english_pages_have_no_vietnamese_interface_string_left(page: Page, site: Site):
    strings = vietnamese_interface_strings()
    for name, (path, _) in site.pages().items():
        page.goto(path + ("&" if "?" in path else "?") + "lang=en")
        text = seen(page)
        left = [v for v in strings if v in text and v not in DATA_WORDS]
        assert left == [], (name, left)
        assert page.locator("html").get_attribute("lang") == "en"


def test_script_in_a_donor_name_and_a_message_is_shown_as_text(page: Page, site: Site):
    page.goto(f"/c/{s.CODE}/sao-ke")
    assert page.get_by_text(s.HOSTILE_NAME, exact=True).count() == 1
    assert page.get_by_text(s.HOSTILE_MESSAGE, exact=True).count() == 1
    assert page.locator("script").count() == 0
    page.goto(f"/r/{site.story.receipts['hostile']}")
    assert page.get_by_text(s.HOSTILE_MESSAGE, exact=True).count() == 1


FOCUSABLE = "a[href], button, input:not([type=hidden]), summary, [tabindex='0']"


def _unreached_by_tab(page: Page) -> list[str]:
    """Press Tab from the top until focus leaves the page or comes round again; the
    focusable elements never reached."""
    # What a reader can see: a table inside a closed <details> is not reachable until opened.
    count = page.locator(FOCUSABLE).evaluate_all(
        "els => { els = els.filter(e => e.checkVisibility());"
        " els.forEach((e, i) => e.dataset.k = i); return els.length }"
    )
    reached: list[str] = []
    for _ in range(count + 5):
        page.keyboard.press("Tab")
        k = page.evaluate("document.activeElement.dataset.k || ''")
        if not k or (reached and k == reached[0]):
            break
        reached.append(k)
    return page.locator(FOCUSABLE).evaluate_all(
        "(els, reached) => els.filter(e => e.dataset.k && !reached.includes(e.dataset.k))"
        ".map(e => e.outerHTML)",
        reached,
    )


def test_everything_is_reachable_and_usable_by_keyboard(page: Page, site: Site):
    for name in ("home", "campaign", "statement-error", "receipt", "not-found"):
        page.goto(site.pages()[name][0])
        assert _unreached_by_tab(page) == [], name
    # Home → campaign → statement → a search, keys only.
    page.goto("/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Bỏ qua, đến nội dung chính"
    page.locator("a", has_text="Ủng hộ đồng bào Kỳ Sơn").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/c/{s.CODE}")
    page.get_by_role("link", name="Tra cứu sao kê").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/c/{s.CODE}/sao-ke")
    page.get_by_label("Tên hoặc nội dung chuyển khoản").focus()
    page.keyboard.type("nguyen thi huong")
    page.keyboard.press("Enter")
    page.wait_for_url("**/sao-ke?**")
    assert page.locator("table.statement tbody tr").count() == 1
