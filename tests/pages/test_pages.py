"""The donor pages over plain HTTP (no browser): statuses, headers, escaping, privacy,
languages, the search box's reading of amounts and dates, and exact figures."""

from __future__ import annotations

import re
from html import unescape

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from app.pages import router as pages
from tests.pages import story as s
from tests.support import factories as f

NBSP = "\xa0"
PAGES_DIR = pages.__file__.rsplit("/", 1)[0]


@pytest.fixture
def story(client):
    return s.load(client)


def html(client, path, status=200, **headers):
    response = client.get(path, headers=headers)
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    return response.text


def text_of(page: str) -> str:
    """What a reader sees: tags removed, entities decoded, spaces collapsed."""
    visible = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", visible)).replace(NBSP, " ").split())


def all_pages(story) -> list[str]:
    return [
        "/",
        f"/c/{s.CODE}",
        f"/c/{s.CODE}?place={story.places['province']}",
        f"/c/{s.CODE}?place={story.places['district']}",
        f"/c/{s.CODE}/sao-ke",
        f"/c/{s.CODE}/sao-ke?q=bi+mat",
        f"/c/{s.CODE}/sao-ke?q=tran+van",
        f"/c/{s.CHILD}",
        *(f"/r/{code}" for code in story.receipts.values()),
    ]


def test_every_page_answers_html_in_vietnamese_by_default(client, story):
    for path in all_pages(story):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-language"] == "vi"
        assert '<html lang="vi">' in response.text


def test_totals_are_the_reconciliation_s(client, story):
    money = f.money(f.reconciliation(client, s.CODE))
    assert (money["received"], money["allocated"], money["delivered"], money["available"]) == (
        "4130000", "1500000", "1500000", "2630000",
    )  # fmt: skip
    page = html(client, f"/c/{s.CODE}")
    shown = dict(re.findall(r'<dd data-total="(\w+)">([^<]+)</dd>', page))
    assert {k: v.replace(NBSP, " ") for k, v in shown.items()} == {
        "received": "4.130.000 ₫",
        "allocated": "1.500.000 ₫",
        "delivered": "1.500.000 ₫",
        "available": "2.630.000 ₫",
    }
    seen = text_of(page)
    assert (
        "USD 100,00 US$ 2.430.000 ₫ VND 1.700.000 ₫ 1.700.000 ₫" in seen
    )  # received by currency: given and credited
    assert "Dê giống (con) 60 60 0 0" in seen  # goods: received, allocated, delivered, on hand
    # The sub-appeal, linked, and the two together.
    assert f'href="/c/{s.CHILD}"' in page
    assert "Cộng chung 4.830.000 ₫ 1.500.000 ₫ 1.500.000 ₫ 3.330.000 ₫" in seen
    # The official receiving account, stated as the only one.
    assert s.ACCOUNT in seen and "Chỉ các tài khoản này tiếp nhận" in seen


def test_received_per_day_lists_each_day_exactly(client, story):
    seen = text_of(html(client, f"/c/{s.CODE}"))
    table = seen[seen.index("Số tiền nhận được, theo ngày nhận") :]
    # 07/10: the USD gift only; the reversed gift of that day counts nowhere.
    assert "05/10/2022 1 500.000 ₫ 06/10/2022 2 1.200.000 ₫ 07/10/2022 1 2.430.000 ₫" in table


def test_received_per_day_sums_minor_units_exactly(client):
    f.campaign(client, code="usd-appeal", currency="USD")
    for amount in ("12.5", "0.75", "1000000000000.05"):
        f.contribution(client, "usd-appeal", amount, currency="USD", received_on="2022-10-05")
    seen = text_of(html(client, "/c/usd-appeal?lang=en"))
    assert "Oct 5, 2022 3 $1,000,000,000,013.30" in seen


def test_where_it_went_drills_from_province_to_commune(client, story):
    top = text_of(html(client, f"/c/{s.CODE}"))
    assert "Tỉnh Nghệ An 1.500.000 ₫ 1.500.000 ₫ Đã trao 0 / 60 con Dê giống" in top
    page = html(client, f"/c/{s.CODE}?place={story.places['province']}")
    seen = text_of(page)
    assert "Huyện Kỳ Sơn 1.500.000 ₫ 1.500.000 ₫" in seen
    assert "Huyện Tân Kỳ 0 ₫ 0 ₫ Đã trao 0 / 60 con Dê giống" in seen
    assert f'href="/c/{s.CODE}?place={story.places["district"]}#h-where"' in page
    seen = text_of(html(client, f"/c/{s.CODE}?place={story.places['district']}"))
    assert "Thị trấn Mường Xén 1.500.000 ₫ 1.500.000 ₫" in seen
    assert "Dựng lại nhà cho hộ ông Vừ Bá Lầu" in seen
    assert "Đã trao · phân bổ ngày 06/10/2022 · trao ngày 20/10/2022" in seen
    assert "Dê giống cho hộ nghèo" not in seen  # Tân Kỳ's goats are not in Kỳ Sơn
    # The beneficiary is never shown.
    assert "Huồi Giảng" not in seen


def test_the_search_box_reads_vietnamese_grouping_and_shows_it_back(client, story):
    page = html(client, f"/c/{s.CODE}/sao-ke?amount=500.000")
    seen = text_of(page)
    assert "Số tiền được hiểu là 500.000 ₫." in seen
    assert s.HUONG in seen
    assert seen.count("500.000 ₫") == 2  # read back, and the one row found
    # The same search as the public API's CSV, in the API's own canonical form.
    assert "min_amount=500000&amp;max_amount=500000&amp;format=csv" in page


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("amount=5.00", "amount", "Nhập số tiền bằng chữ số"),
        ("amount=500.00.0", "amount", "Nhập số tiền bằng chữ số"),
        ("amount=-500000", "amount", "Nhập số tiền bằng chữ số"),
        ("amount=0", "amount", "Nhập số tiền bằng chữ số"),
        ("from=31/02/2022", "date_from", "Nhập ngày theo dạng dd/mm/yyyy"),
        ("from=2022-13-01", "date_from", "Nhập ngày theo dạng dd/mm/yyyy"),
        ("from=10/10/2022&to=09/10/2022", "date_to", "Ngày kết thúc không được trước"),
        ("cursor=not-ours", "cursor", "Đường dẫn trang này bị hỏng"),
        ("q=" + "a" * 201, "q", "Nhập tối đa 200 ký tự"),
    ],
)
def test_bad_search_input_is_a_422_page_with_the_error_by_its_field(
    client, story, query, field, message
):
    page = html(client, f"/c/{s.CODE}/sao-ke?{query}", 422)
    assert 'class="error-summary"' in page
    assert f'href="#{field}"' in page
    assert message in text_of(page)
    assert "Các khoản tìm thấy" not in page  # no results under an error


def found(client, query):
    """The results of a statement search, as a reader sees them."""
    seen = text_of(html(client, f"/c/{s.CODE}/sao-ke?{query}"))
    return seen[seen.index("Các khoản tìm thấy") :]


def test_search_ignores_diacritics_and_finds_dates_and_references(client, story):
    seen = found(client, "q=nguyen+thi+huong")
    assert s.HUONG in seen and "Nhà hảo tâm ẩn danh" not in seen
    assert (
        "05/10/2022 Nguyễn Thị Hường 500.000 ₫ Nguyen Thi Huong ung ho dong bao Ky Son Đã ghi nhận"
        in seen
    )
    seen = found(client, "from=06/10/2022&to=2022-10-06")
    assert "Nhà hảo tâm ẩn danh" in seen and s.HUONG not in seen
    assert "06/10/2022 Không rõ người ủng hộ 60 breeding-goat" in seen
    seen = found(client, "ref=FT22278000001")
    assert s.HUONG in seen and "2.430.000" not in seen
    seen = found(client, "ref=FT2227800000")
    assert "Không có khoản ủng hộ nào khớp" in seen  # exact references only


def test_the_statement_pages_through_every_contribution(client, monkeypatch):
    from app.pages import service

    monkeypatch.setattr(service, "STATEMENT_PAGE", 2)
    f.campaign(client, code="paged")
    for number in range(1, 6):
        f.contribution(client, "paged", number * 100_000)
    seen, path = [], "/c/paged/sao-ke"
    while path:
        page = html(client, path)
        seen += re.findall(r'<td class="num">(\d+\.\d{3})\xa0₫</td>', page)
        found = re.search(r'href="([^"]+)" rel="next"', page)
        path = unescape(found.group(1)) if found else ""
    assert seen == ["100.000", "200.000", "300.000", "400.000", "500.000"]


def test_an_anonymous_donor_is_on_no_page(client, story):
    for path in all_pages(story) + [
        p + ("&" if "?" in p else "?") + "lang=en" for p in all_pages(story)
    ]:
        page = html(client, path)
        for secret in (s.SECRET_NAME, s.SECRET_MESSAGE, s.SECRET_EMAIL, "Bí Mật"):
            assert secret not in unescape(page), (path, secret)
    seen = text_of(html(client, f"/r/{story.receipts['secret']}"))
    assert "Người ủng hộ Nhà hảo tâm ẩn danh" in seen
    seen = text_of(html(client, f"/r/{story.receipts['secret']}?lang=en"))
    assert "Donor Anonymous donor" in seen


def test_database_text_is_escaped_on_every_page(client, story):
    for path in all_pages(story):
        page = html(client, path)
        assert "<script" not in page.lower(), path
    page = html(client, f"/c/{s.CODE}/sao-ke")
    assert "&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt;" in page
    assert "&lt;script&gt;alert(&#39;message&#39;)&lt;/script&gt; ủng hộ" in page
    page = html(client, f"/r/{story.receipts['hostile']}")
    assert "&lt;script&gt;alert(&#39;message&#39;)&lt;/script&gt;" in page


def test_a_receipt_shows_the_gift_how_it_came_and_its_status(client, story):
    seen = text_of(html(client, f"/r/{story.receipts['usd']}"))
    assert "Số tiền 2.430.000 ₫ (100,00 US$)" in seen
    assert "Ngày nhận 07/10/2022" in seen
    assert "Hình thức nhận Thẻ" in seen
    assert "Trạng thái Đã ghi nhận" in seen
    assert "chưa có điểm kiểm tra có chữ ký nào" in seen
    seen = text_of(html(client, f"/r/{story.receipts['reversed'].lower()}"))
    assert "Trạng thái Đã huỷ bút toán" in seen
    page = html(client, f"/r/{story.receipts['huong']}")
    assert 'src="data:image/svg+xml' in page
    assert f"http://testserver/r/{story.receipts['huong']}" in text_of(page)


def test_a_receipt_shows_its_proof_once_a_signed_checkpoint_covers_it(client, story, signing_key):
    f.ok(client.post(f"/v1/campaigns/{s.CODE}/checkpoints"), 201)
    proof = f.ok(
        client.get(
            f"/v1/public/campaigns/{s.CODE}/proofs/inclusion",
            params={"receipt": story.receipts["huong"]},
        ),
        200,
    )
    page = html(client, f"/r/{story.receipts['huong']}")
    seen = text_of(page)
    assert (proof["leaf_index"], proof["tree_size"]) == (2, 12)
    assert "bút toán thứ 3 trong điểm kiểm tra có chữ ký gồm 12 bút toán" in seen
    note = client.get(f"/v1/public/campaigns/{s.CODE}/checkpoint").text
    assert unescape(re.search(r'<pre class="note">(.*?)</pre>', page, re.S).group(1)) == note
    assert f"proofs/inclusion?receipt={story.receipts['huong']}" in page


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/c/khong-co", "Không có cuộc vận động công khai nào ở địa chỉ này"),
        (f"/c/{s.DRAFT}", "Không có cuộc vận động công khai nào ở địa chỉ này"),
        (f"/c/{s.DRAFT}/sao-ke", "Không có cuộc vận động công khai nào ở địa chỉ này"),
        ("/r/RL-AAAAA-BBBBB", "Không có khoản ủng hộ nào mang mã biên nhận này"),
        ("/r/<b>", "Không có khoản ủng hộ nào mang mã biên nhận này"),
        ("/r?code=RL-AAAAA-BBBBB%3E", "Không có khoản ủng hộ nào mang mã biên nhận này"),
        (f"/c/{s.CODE}?place=99999", "Cuộc vận động này không có địa phương đó"),
        (f"/c/{s.CODE}?place=x1", "Cuộc vận động này không có địa phương đó"),
    ],
)
def test_refusals_are_pages_with_a_way_back(client, story, path, reason):
    page = html(client, path, 404)
    assert reason in text_of(page)
    assert 'href="/"' in page  # all appeals
    assert "problem" not in page


def test_the_receipt_box_leads_to_the_receipt(client, story):
    code = story.receipts["huong"]
    response = client.get(f"/r?code=+{code.lower()}+&lang=en", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/r/{code}?lang=en"


def test_links_from_fanpages_keep_working_with_tracking_parameters(client, story):
    assert html(client, f"/c/{s.CODE}?fbclid=IwAR0abc&utm_source=facebook")


def test_language_follows_lang_then_accept_language(client, story):
    def language(path, **headers):
        response = client.get(path, headers=headers)
        assert response.status_code == 200
        assert response.headers["vary"] == "Accept-Language"
        return response.headers["content-language"]

    assert language("/") == "vi"
    assert language("/", **{"Accept-Language": "en-GB,en;q=0.9"}) == "en"
    assert language("/", **{"Accept-Language": "fr-FR, en;q=0.5, vi;q=0.8"}) == "vi"
    assert language("/", **{"Accept-Language": "fr, de"}) == "vi"
    assert language("/?lang=en", **{"Accept-Language": "vi"}) == "en"
    assert language("/?lang=vi", **{"Accept-Language": "en"}) == "vi"
    assert language("/?lang=xx", **{"Accept-Language": "en"}) == "en"
    # A chosen language is kept by every link of the page.
    page = html(client, f"/c/{s.CODE}?lang=en")
    assert f'href="/c/{s.CODE}/sao-ke?lang=en"' in page
    assert "Search the statement (sao kê)" in page
    assert "₫4,130,000" in page and "Oct 5, 2022" in page


def vietnamese_interface_strings() -> list[str]:
    with open(f"{PAGES_DIR}/locale/vi/LC_MESSAGES/messages.po", "rb") as po:
        catalog = read_po(po, locale="vi")
    # Without their placeholders: the words around them must not appear either.
    return [
        part.strip(" .:;,()")
        for message in catalog
        if message.id and message.string != message.id
        for part in re.split(r"%\(\w+\)s", message.string)
        if len(part.strip(" .:;,()")) >= 4
    ]


def test_english_pages_have_no_vietnamese_interface_string_left(client, story):
    strings = vietnamese_interface_strings()
    assert len(strings) > 100
    for path in [*all_pages(story), "/c/khong-co", f"/c/{s.CODE}/sao-ke?amount=x"]:
        response = client.get(path, headers={"Accept-Language": "en"})
        seen = text_of(response.text)
        # Data stays as recorded (titles, places, the anonymous donor's public name is
        # translated); the interface must not.
        left = [v for v in strings if v in seen and v not in DATA_WORDS]
        assert left == [], (path, left)


# Words of the interface that are also in the story's own data.
DATA_WORDS = {"Hiện vật", "Sao kê"}


def test_the_catalogs_hold_every_message_of_the_templates():
    extracted = {
        message
        for _, _, message, _, _ in extract_from_dir(
            f"{PAGES_DIR}/templates",
            method_map=[("**.html", "jinja2")],
            options_map={"**.html": {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}},
        )
    }
    for language in ("vi", "en"):
        with open(f"{PAGES_DIR}/locale/{language}/LC_MESSAGES/messages.po", "rb") as po:
            catalog = read_po(po, locale=language)
        ids = {m.id for m in catalog if m.id}
        assert ids == extracted, language  # `make messages` brings them in line
        if language == "vi":
            assert [m.id for m in catalog if m.id and not m.string] == []


PAGE_HEADERS = {
    "content-security-policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
}


def test_pages_and_their_stylesheet_carry_the_security_headers(client, story):
    for path in ["/", f"/c/{s.CODE}/sao-ke?amount=x", "/c/khong-co", "/static/pages.css"]:
        response = client.get(path)
        for name, value in PAGE_HEADERS.items():
            assert response.headers[name] == value, (path, name)
    assert client.get("/static/pages.css").headers["content-type"].startswith("text/css")
    # Swagger UI runs an inline script: /docs keeps working without the pages' policy.
    docs = client.get("/docs")
    assert docs.status_code == 200 and "<script>" in docs.text
    assert "content-security-policy" not in docs.headers
    assert "content-security-policy" not in client.get("/v1/public/campaigns").headers


def test_pages_are_not_in_the_api_document(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert [p for p in paths if not p.startswith(("/v1/", "/health", "/ready"))] == []


def test_every_page_answers_head_as_its_get_without_a_body(client, story):
    """Link previews (a fanpage post of the appeal) and uptime checks ask with HEAD."""
    for path in all_pages(story):
        get, head = client.get(path), client.head(path)
        assert head.status_code == get.status_code == 200, path
        assert head.headers["content-type"] == get.headers["content-type"]
        assert head.headers["content-security-policy"] == get.headers["content-security-policy"]
        assert head.content == b""
    assert client.head("/c/no-such-appeal").status_code == 404
