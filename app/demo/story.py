"""The seed story as demo data: the appeals of the Fatherland Front of Nghệ An told in
the VOV article our product was born from (`shared/seed/`), with realistic, internally
consistent figures. `load` goes through the same services as the API, so every rule and
ledger invariant holds for the demo as for real data, and it is idempotent: a campaign
whose code exists is left alone, and places, items and donors are reused by name."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.allocations import service as allocations
from app.allocations.schemas import AllocationCreate, AllocationDeliver
from app.campaigns import service as campaigns
from app.campaigns.models import Campaign
from app.campaigns.schemas import CampaignCreate, CampaignUpdate
from app.contributions import service as contributions
from app.contributions.schemas import ContributionCreate
from app.donors import service as donors
from app.donors.models import Donor
from app.donors.schemas import DonorCreate
from app.items import service as items
from app.items.models import Item
from app.items.schemas import ItemCreate
from app.locations import service as locations
from app.locations.models import Location, LocationLevel
from app.locations.schemas import LocationCreate
from app.pledges import service as pledges
from app.pledges.schemas import PledgeCreate
from app.text import fold

# (name, level, parent name): pre-2025 districts, as 2022 records name them.
PLACES = [
    ("Tỉnh Nghệ An", LocationLevel.province, None),
    ("Huyện Kỳ Sơn", LocationLevel.district, "Tỉnh Nghệ An"),
    ("Thị trấn Mường Xén", LocationLevel.commune, "Huyện Kỳ Sơn"),
    ("Xã Mường Lống", LocationLevel.commune, "Huyện Kỳ Sơn"),
    ("Bản Huồi Giảng", LocationLevel.village, "Xã Mường Lống"),
    ("Huyện Tương Dương", LocationLevel.district, "Tỉnh Nghệ An"),
    ("Huyện Tân Kỳ", LocationLevel.district, "Tỉnh Nghệ An"),
    ("Huyện Thanh Chương", LocationLevel.district, "Tỉnh Nghệ An"),
    ("Xã Thanh Xuân", LocationLevel.commune, "Huyện Thanh Chương"),
    ("Huyện Quỳ Hợp", LocationLevel.district, "Tỉnh Nghệ An"),
    ("Xã Châu Cường", LocationLevel.commune, "Huyện Quỳ Hợp"),
]

ITEMS = [
    ("breeding-goat", "Dê giống", "con"),
    ("rice", "Gạo tẻ", "kg"),
    ("school-kit", "Bộ sách vở và đồ dùng học tập", "bộ"),
]

# name → DonorCreate fields
DONORS: dict[str, dict[str, Any]] = {
    "Công ty CP Tập đoàn Bắc Trung Bộ": {"kind": "business"},
    "Công ty CP Sữa Việt Nam": {"kind": "business"},
    "Ngân hàng TMCP Nghệ Tĩnh": {"kind": "business"},
    "Nguyễn Văn An": {"kind": "individual", "phone": "+84 912 000 111"},
    "Trần Thị Bình": {"kind": "individual", "anonymous": True, "email": "binh@example.vn"},
    "Võ Thị Trang": {"kind": "individual"},
    "Mạnh thường quân tặng dê giống": {"kind": "individual", "anonymous": True},
    "Gia đình Lê Minh": {
        "kind": "overseas_vietnamese",
        "country": "US",
        "display_name": "Gia đình anh Lê Minh (Houston)",
    },
    "Hội người Việt tại Berlin": {"kind": "overseas_vietnamese", "country": "DE"},
    "Hội sinh viên Việt Nam tại Tokyo": {"kind": "overseas_vietnamese", "country": "JP"},
    "Cộng đồng người Việt Melbourne": {"kind": "overseas_vietnamese", "country": "AU"},
    "Con em xa quê xã Thanh Xuân": {"kind": "organisation"},
}


@dataclass
class Gift:
    """A contribution: money (amount, currency, settled) or goods (item, quantity)."""

    on: str
    donor: str | None = None
    amount: int | str | None = None
    currency: str | None = None
    settled: int | None = None
    item: str | None = None
    quantity: int | str | None = None
    estimated_value: int | None = None
    pledge: int | None = None  # index into the campaign's pledges
    bank_reference: str | None = None


@dataclass
class Allotment:
    """An allocation to a place, delivered on `delivered_on` when given."""

    place: str
    purpose: str
    amount: int | None = None
    item: str | None = None
    quantity: int | str | None = None
    delivered_on: str | None = None
    evidence_url: str | None = None


@dataclass
class Appeal:
    code: str
    title: str
    kind: str
    target: int | None
    starts_on: str
    place: str
    parent: str | None = None
    close: bool = False
    description: str | None = None
    pledges: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    gifts: list[Gift] = field(default_factory=list)
    allotments: list[Allotment] = field(default_factory=list)


EVIDENCE = "https://www.facebook.com/mattrannghean/posts/"

APPEALS = [
    Appeal(
        code="ky-son-flood-2022",
        title="Ủng hộ đồng bào Kỳ Sơn bị lũ ống tháng 10/2022",
        kind="flood",
        target=200_000_000_000,
        starts_on="2022-10-03",
        place="Huyện Kỳ Sơn",
        description="Lũ ống cuốn trôi nhà cửa của hàng nghìn người dân huyện Kỳ Sơn.",
        pledges=[
            (
                "Công ty CP Tập đoàn Bắc Trung Bộ",
                {"amount": 100_000_000_000, "due_on": "2023-06-30"},
            ),
            ("Công ty CP Sữa Việt Nam", {"amount": 2_000_000_000}),
        ],
        gifts=[
            Gift(
                "2022-10-05",
                "Công ty CP Tập đoàn Bắc Trung Bộ",
                60_000_000_000,
                pledge=0,
                bank_reference="FT22278000001",
            ),
            Gift(
                "2022-10-06",
                "Công ty CP Sữa Việt Nam",
                2_000_000_000,
                pledge=1,
                bank_reference="FT22279000002",
            ),
            Gift(
                "2022-10-06",
                "Ngân hàng TMCP Nghệ Tĩnh",
                5_000_000_000,
                bank_reference="FT22279000003",
            ),
            Gift("2022-10-07", "Nguyễn Văn An", 5_000_000, bank_reference="FT22280000004"),
            Gift("2022-10-07", "Trần Thị Bình", 20_000_000, bank_reference="FT22280000005"),
            Gift("2022-10-08", None, 500_000, bank_reference="FT22281000006"),
            Gift("2022-10-09", "Gia đình Lê Minh", "1000", "USD", 24_350_000),
            Gift("2022-10-10", "Hội người Việt tại Berlin", "2500", "EUR", 60_625_000),
            Gift("2022-10-11", "Hội sinh viên Việt Nam tại Tokyo", "300000", "JPY", 49_800_000),
            Gift("2022-10-12", "Cộng đồng người Việt Melbourne", "1500.50", "AUD", 23_510_000),
            Gift(
                "2022-10-08",
                "Công ty CP Sữa Việt Nam",
                item="rice",
                quantity="2500",
                estimated_value=37_500_000,
            ),
        ],
        allotments=[
            Allotment(
                "Bản Huồi Giảng",
                "Di dời bản Huồi Giảng khỏi vùng sạt lở, dựng nhà mới",
                50_000_000_000,
                delivered_on="2023-03-15",
                evidence_url=EVIDENCE + "huoi-giang",
            ),
            Allotment(
                "Thị trấn Mường Xén",
                "Hỗ trợ làm lại nhà cho hộ mất nhà",
                8_000_000_000,
                delivered_on="2022-11-20",
                evidence_url=EVIDENCE + "muong-xen",
            ),
            Allotment("Xã Mường Lống", "Sửa đường, cầu treo bị lũ cuốn", 3_000_000_000),
            Allotment(
                "Thị trấn Mường Xén",
                "Gạo cứu đói",
                item="rice",
                quantity="2000",
                delivered_on="2022-10-15",
            ),
        ],
    ),
    Appeal(
        code="ky-son-flood-2022-tuong-duong",
        title="MTTQ huyện Tương Dương: ủng hộ các xã bị lũ",
        kind="flood",
        target=5_000_000_000,
        starts_on="2022-10-04",
        place="Huyện Tương Dương",
        parent="ky-son-flood-2022",
        gifts=[
            Gift("2022-10-06", "Võ Thị Trang", 2_000_000, bank_reference="AGR500130019"),
            Gift("2022-10-07", None, 100_000_000, bank_reference="AGR500393872"),
        ],
        allotments=[Allotment("Huyện Tương Dương", "Hỗ trợ hộ bị thiệt hại", 80_000_000)],
    ),
    Appeal(
        code="ky-son-flood-2022-ky-son",
        title="MTTQ huyện Kỳ Sơn: tiếp nhận ủng hộ tại chỗ",
        kind="flood",
        target=None,
        starts_on="2022-10-04",
        place="Huyện Kỳ Sơn",
        parent="ky-son-flood-2022",
        gifts=[Gift("2022-10-05", "Nguyễn Văn An", 3_000_000), Gift("2022-10-06", None, 1_500_000)],
    ),
    Appeal(
        code="covid-19-nghe-an-2021",
        title="Quỹ phòng, chống dịch Covid-19 tỉnh Nghệ An",
        kind="epidemic",
        target=500_000_000_000,
        starts_on="2021-05-01",
        place="Tỉnh Nghệ An",
        close=True,
        gifts=[
            Gift(
                "2021-05-10",
                "Ngân hàng TMCP Nghệ Tĩnh",
                200_000_000_000,
                bank_reference="FT21130000101",
            ),
            Gift(
                "2021-05-12",
                "Công ty CP Tập đoàn Bắc Trung Bộ",
                250_000_000_000,
                bank_reference="FT21132000102",
            ),
            Gift(
                "2021-06-01",
                "Công ty CP Sữa Việt Nam",
                55_000_000_000,
                bank_reference="FT21152000103",
            ),
            Gift("2021-06-15", "Nguyễn Văn An", 10_000_000, bank_reference="FT21166000104"),
            Gift("2021-07-02", "Hội sinh viên Việt Nam tại Tokyo", "1000000", "JPY", 210_000_000),
        ],
        allotments=[
            Allotment(
                "Tỉnh Nghệ An",
                "Mua vắc-xin và trang thiết bị y tế",
                450_000_000_000,
                delivered_on="2021-09-30",
                evidence_url=EVIDENCE + "covid",
            ),
            Allotment(
                "Tỉnh Nghệ An",
                "Hỗ trợ người lao động mất việc",
                55_000_000_000,
                delivered_on="2021-12-20",
            ),
        ],
    ),
    Appeal(
        code="vi-nguoi-ngheo-thanh-xuan",
        title="Quỹ \u201cVì người nghèo\u201d xã Thanh Xuân",
        kind="poverty",
        target=20_000_000,
        starts_on="2023-01-01",
        place="Xã Thanh Xuân",
        gifts=[
            Gift("2023-01-15", "Con em xa quê xã Thanh Xuân", 8_000_000),
            Gift("2023-02-01", "Võ Thị Trang", 500_000),
            Gift("2023-02-10", None, 2_000_000),
            Gift("2023-03-05", "Cộng đồng người Việt Melbourne", "300", "AUD", 4_950_000),
            Gift(
                "2023-03-20",
                "Công ty CP Sữa Việt Nam",
                item="school-kit",
                quantity=120,
                estimated_value=18_000_000,
            ),
        ],
        allotments=[
            Allotment(
                "Xã Thanh Xuân",
                "Hỗ trợ hộ nghèo sản xuất vụ Xuân",
                10_000_000,
                delivered_on="2023-02-20",
            ),
            Allotment(
                "Xã Thanh Xuân",
                "Sách vở cho con em hộ nghèo",
                item="school-kit",
                quantity=120,
                delivered_on="2023-08-25",
            ),
        ],
    ),
    Appeal(
        code="sinh-ke-tan-ky-2023",
        title="Hỗ trợ sinh kế cho hộ nghèo huyện Tân Kỳ",
        kind="poverty",
        target=None,
        starts_on="2023-01-02",
        place="Huyện Tân Kỳ",
        pledges=[
            ("Mạnh thường quân tặng dê giống", {"item_code": "breeding-goat", "quantity": 60})
        ],
        gifts=[
            Gift(
                "2023-01-20",
                "Mạnh thường quân tặng dê giống",
                item="breeding-goat",
                quantity=60,
                estimated_value=180_000_000,
                pledge=0,
            ),
        ],
        allotments=[
            Allotment(
                "Huyện Tân Kỳ",
                "60 con dê giống cho hộ nghèo",
                item="breeding-goat",
                quantity=60,
                delivered_on="2023-02-05",
                evidence_url=EVIDENCE + "de-giong",
            ),
        ],
    ),
]


@dataclass
class Report:
    loaded: list[str] = field(default_factory=list)
    already_present: list[str] = field(default_factory=list)


class _Loader:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.places: dict[str, Location] = {}
        self.donors: dict[str, Donor] = {}

    def place(self, name: str, level: LocationLevel, parent: str | None) -> Location:
        parent_id = self.places[parent].id if parent else None
        existing = self.session.scalars(
            select(Location).where(
                Location.name_folded == fold(name),
                Location.level == level,
                Location.parent_id.is_(None)
                if parent_id is None
                else Location.parent_id == parent_id,
            )
        ).first()
        if existing is None and level == LocationLevel.province:
            # `relief locations import` may have loaded the province with its code.
            existing = self.session.scalars(
                select(Location).where(Location.name_folded == fold(name), Location.level == level)
            ).first()
        location = existing or locations.create(
            self.session,
            location_in=LocationCreate(name=name, level=level, parent_id=parent_id),
        )
        self.places[name] = location
        return location

    def item(self, code: str, name: str, unit: str) -> None:
        if self.session.scalar(select(Item.id).where(Item.code == code)) is None:
            items.create(self.session, item_in=ItemCreate(code=code, name=name, unit=unit))

    def donor(self, name: str) -> Donor:
        if name not in self.donors:
            existing = self.session.scalars(select(Donor).where(Donor.name == name)).first()
            self.donors[name] = existing or donors.create(
                self.session, donor_in=DonorCreate(name=name, **DONORS[name])
            )
        return self.donors[name]

    def appeal(self, appeal: Appeal) -> None:
        campaign = campaigns.create(
            self.session,
            campaign_in=CampaignCreate(
                code=appeal.code,
                title=appeal.title,
                kind=appeal.kind,
                target_amount=Decimal(appeal.target) if appeal.target else None,
                starts_on=date.fromisoformat(appeal.starts_on),
                location_id=self.places[appeal.place].id,
                parent_code=appeal.parent,
                description=appeal.description,
            ),
        )
        campaigns.update(self.session, campaign, changes=CampaignUpdate(status="open"))
        promised = [
            pledges.create(
                self.session,
                campaign,
                pledge_in=PledgeCreate(donor_id=self.donor(name).id, **fields),
            )
            for name, fields in appeal.pledges
        ]
        for gift in appeal.gifts:
            self.gift(campaign, gift, promised)
        for allotment in appeal.allotments:
            self.allot(campaign, allotment)
        if appeal.close:
            campaigns.update(self.session, campaign, changes=CampaignUpdate(status="closed"))

    def gift(self, campaign: Campaign, gift: Gift, promised: list[Any]) -> None:
        fields: dict[str, Any] = {"received_on": gift.on}
        if gift.pledge is not None:
            fields["pledge_id"] = promised[gift.pledge].id
        elif gift.donor is not None:
            fields["donor_id"] = self.donor(gift.donor).id
        if gift.item is not None:
            fields |= {"item_code": gift.item, "quantity": gift.quantity}
            if gift.estimated_value is not None:
                fields["estimated_value"] = gift.estimated_value
        else:
            fields |= {
                "amount": gift.amount,
                "method": "bank_transfer",
                "bank_reference": gift.bank_reference,
            }
            if gift.currency:
                fields |= {"currency": gift.currency, "settled_amount": gift.settled}
        contributions.create(
            self.session, campaign, contribution_in=ContributionCreate.model_validate(fields)
        )

    def allot(self, campaign: Campaign, allotment: Allotment) -> None:
        fields: dict[str, Any] = {
            "location_id": self.places[allotment.place].id,
            "purpose": allotment.purpose,
        }
        if allotment.item is not None:
            fields |= {"item_code": allotment.item, "quantity": allotment.quantity}
        else:
            fields["amount"] = allotment.amount
        if allotment.delivered_on:  # the story tells when it arrived: it was allocated by then
            fields["allocated_on"] = allotment.delivered_on
        allocation = allocations.create(
            self.session, campaign, allocation_in=AllocationCreate.model_validate(fields)
        )
        if allotment.delivered_on:
            allocations.deliver(
                self.session,
                allocation,
                delivery=AllocationDeliver.model_validate(
                    {"delivered_on": allotment.delivered_on, "evidence_url": allotment.evidence_url}
                ),
            )


def load(session: Session) -> Report:
    """Load every appeal of the story whose code is not yet taken; reuse what exists."""
    loader = _Loader(session)
    for name, level, parent in PLACES:
        loader.place(name, level, parent)
    for code, name, unit in ITEMS:
        loader.item(code, name, unit)
    report = Report()
    for appeal in APPEALS:
        exists = session.scalar(select(Campaign.id).where(Campaign.code == appeal.code))
        if exists is not None:
            report.already_present.append(appeal.code)
            continue
        loader.appeal(appeal)
        report.loaded.append(appeal.code)
    return report
