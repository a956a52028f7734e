"""The data the page tests look at, loaded through the JSON API (a TestClient or an
httpx client against a live server): a province appeal with a sub-appeal, a named
donor with diacritics, an anonymous one, a hostile one, a gift in USD, a reversed gift,
money and goats allocated down the location tree, a closed appeal and a draft."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.support import factories as f

CODE = "ky-son-flood-2022"
CHILD = "ky-son-flood-2022-muong-xen"
CLOSED = "covid-19-nghe-an-2021"
DRAFT = "ban-nhap-2024"
HUONG = "Nguyễn Thị Hường"
SECRET_NAME = "Trần Văn Bí Mật"
SECRET_MESSAGE = "Bi Mat chuyen khoan ung ho"
SECRET_EMAIL = "bimat@example.vn"
HOSTILE_NAME = "<script>alert('name')</script>"
HOSTILE_MESSAGE = "<script>alert('message')</script> ủng hộ"
ACCOUNT = "0011004455667"


@dataclass
class Story:
    receipts: dict[str, str] = field(default_factory=dict)
    places: dict[str, int] = field(default_factory=dict)


def load(client: Any) -> Story:
    """Load the story through `client` (admin key); returns receipt codes and place ids."""
    story = Story()
    province = f.location(client, "Tỉnh Nghệ An", "province")
    district = f.location(client, "Huyện Kỳ Sơn", "district", parent_id=province["id"])
    commune = f.location(client, "Thị trấn Mường Xén", "commune", parent_id=district["id"])
    tan_ky = f.location(client, "Huyện Tân Kỳ", "district", parent_id=province["id"])
    story.places = {
        "province": province["id"],
        "district": district["id"],
        "commune": commune["id"],
        "tan_ky": tan_ky["id"],
    }
    f.campaign(
        client,
        code=CODE,
        title="Ủng hộ đồng bào Kỳ Sơn bị lũ ống tháng 10/2022",
        target_amount="200000000",
        location_id=district["id"],
        description="Lũ ống cuốn trôi nhà cửa của hàng nghìn người dân huyện Kỳ Sơn.",
    )
    f.ok(
        client.post(
            f"/v1/campaigns/{CODE}/accounts",
            json={"bank": "Vietcombank", "number": ACCOUNT, "holder": "Ủy ban MTTQ tỉnh Nghệ An"},
        )
    )
    huong = f.donor(client, name=HUONG)
    secret = f.donor(client, name=SECRET_NAME, anonymous=True, email=SECRET_EMAIL)
    hostile = f.donor(client, name=HOSTILE_NAME)
    gifts = {
        "huong": f.contribution(
            client,
            CODE,
            500_000,
            donor_id=huong["id"],
            received_on="2022-10-05",
            bank_reference="FT22278000001",
            description="Nguyen Thi Huong ung ho dong bao Ky Son",
        ),
        "secret": f.contribution(
            client,
            CODE,
            1_000_000,
            donor_id=secret["id"],
            received_on="2022-10-06",
            description=SECRET_MESSAGE,
        ),
        "hostile": f.contribution(
            client,
            CODE,
            200_000,
            donor_id=hostile["id"],
            received_on="2022-10-06",
            description=HOSTILE_MESSAGE,
        ),
        "usd": f.contribution(
            client,
            CODE,
            "100",
            currency="USD",
            settled_amount="2430000",
            received_on="2022-10-07",
            method="card",
        ),
        "reversed": f.contribution(client, CODE, 300_000, received_on="2022-10-07"),
    }
    f.ok(
        client.post(
            f"/v1/contributions/{gifts['reversed']['id']}/reverse",
            json={"reason": "Ghi trùng"},
        ),
        200,
    )
    allocated = f.allocation(
        client,
        CODE,
        commune["id"],
        1_500_000,
        purpose="Dựng lại nhà cho hộ ông Vừ Bá Lầu",
        beneficiary="Vừ Bá Lầu, bản Huồi Giảng",
    )
    f.ok(
        client.post(
            f"/v1/allocations/{allocated['id']}/deliver", json={"delivered_on": "2022-10-20"}
        ),
        200,
    )
    f.item(client)
    f.goods_contribution(client, CODE, "breeding-goat", 60, received_on="2022-10-06")
    f.goods_allocation(
        client, CODE, tan_ky["id"], "breeding-goat", 60, purpose="Dê giống cho hộ nghèo"
    )
    f.campaign(client, code=CHILD, title="MTTQ thị trấn Mường Xén tiếp nhận", parent_code=CODE)
    f.contribution(client, CHILD, 700_000, received_on="2022-10-08")
    f.campaign(client, code=CLOSED, title="Quỹ phòng, chống dịch Covid-19", status="closed")
    f.campaign(client, code=DRAFT, title="Bản nháp chưa mở", status="draft")
    story.receipts = {name: gift["receipt_code"] for name, gift in gifts.items()}
    return story
