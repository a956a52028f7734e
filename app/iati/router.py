from __future__ import annotations

from fastapi import Response

from app import routing
from app.campaigns.dependencies import CampaignDep
from app.config import get_settings
from app.db import SessionDep
from app.iati import service
from app.keys.auth import Authorized

router = routing.router(tags=["iati"], dependencies=[Authorized])


class XMLResponse(Response):
    media_type = "application/xml"


@router.get(
    "/campaigns/{code}/iati.xml",
    response_class=XMLResponse,
    responses={
        200: {
            "description": "An IATI 2.03 `iati-activities` document (UTF-8).",
            "content": {"application/xml": {"schema": {"type": "string"}}},
        }
    },
)
def get_iati_activities(campaign: CampaignDep, session: SessionDep) -> XMLResponse:
    """A campaign as IATI activities

    The campaign, and each sub-appeal the key reaches, as one IATI 2.03 activity each,
    linked by `related-activity`: pledges (13), contributions (1), allocations (2) and
    deliveries (3) as transactions in their original currencies, places with their
    official codes, goods described. Any key that may read the campaign (auditors and
    admins, officers of its unit tree), like its reconciliation.
    """
    body = service.activities(session, campaign, get_settings())
    return XMLResponse(
        body,
        headers={"Content-Disposition": f'attachment; filename="{campaign.code}-iati.xml"'},
    )
