from __future__ import annotations

from fastapi import status

from app import routing
from app.db import SessionDep
from app.idempotency.service import UNSUPPORTED_EXTRA
from app.ids import IdPath
from app.keys import schemas, service
from app.keys.auth import AdminOnly
from app.keys.models import ApiKey
from app.pagination import Page, PageDep, paginate

router = routing.router(tags=["keys"], prefix="/v1/keys", dependencies=[AdminOnly])


# Never replayed: the answer holds the token, which must not be stored anywhere.
@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.IssuedApiKey,
    openapi_extra={
        **routing.body_example({"role": "auditor", "name": "Kiểm toán Nhà nước khu vực II"}),
        UNSUPPORTED_EXTRA: True,
    },
)
def create_key(body: schemas.ApiKeyCreate, session: SessionDep) -> schemas.IssuedApiKey:
    """Issue an API key

    The token is shown once, in this answer only.

    Refuses: `officer_needs_unit`, `unit_only_for_officers` (422).
    """
    key, token = service.issue(session, key_in=body)
    return schemas.IssuedApiKey(**schemas.ApiKey.model_validate(key).model_dump(), token=token)


@router.get("", response_model=Page[schemas.ApiKey])
def list_keys(session: SessionDep, page: PageDep) -> Page[schemas.ApiKey]:
    """List API keys

    Never the tokens, which are stored hashed.
    """
    return paginate(session, service.search(), ApiKey.id, page, schemas.ApiKey.model_validate)


@router.post("/{key_id}/revoke", response_model=schemas.ApiKey)
def revoke_key(key_id: IdPath, session: SessionDep) -> ApiKey:
    """Revoke an API key

    At once and for good.

    Refuses: `api_key_not_found` (404).
    """
    return service.revoke(session, service.get(session, key_id))
