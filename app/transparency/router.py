from __future__ import annotations

import base64
from typing import Annotated

from fastapi import Path, Query
from fastapi.responses import PlainTextResponse

from app import routing
from app.campaigns.dependencies import CampaignDep
from app.campaigns.schemas import CODE_PATTERN
from app.db import SessionDep
from app.errors import Invalid
from app.keys.auth import AuditorsOnly, Authorized
from app.transparency import schemas, service
from app.transparency.models import Checkpoint

# Anyone, no key: what a donor or an auditor needs to check the books offline.
public_router = routing.router(tags=["transparency"], prefix="/v1/public")
# Officers and admins issue checkpoints on demand.
router = routing.router(tags=["transparency"], dependencies=[Authorized])
# Auditors register their cosigning key and cosign.
auditor_router = routing.router(tags=["transparency"], dependencies=[AuditorsOnly])

CampaignCode = Annotated[str, Path(max_length=64, pattern=CODE_PATTERN)]
Size = Annotated[int, Path(ge=0, le=2**62, description="A tree size: the number of entries.")]
TEXT = "text/plain; charset=utf-8"


def _b64(hashes: list[bytes]) -> list[str]:
    return [base64.b64encode(h).decode() for h in hashes]


@public_router.get(
    "/signing-key",
    response_class=PlainTextResponse,
    responses={404: routing.problem_response(404)},  # signing_key_missing
)
def get_signing_key(session: SessionDep) -> PlainTextResponse:
    """The log's current verifier key, in the C2SP signed-note vkey form.

    What a donor or auditor passes to `relief verify … --key`; 404 `signing_key_missing`
    while the service has no signing key."""
    return PlainTextResponse(service.current_signing_key(session) + "\n", media_type=TEXT)


@public_router.get("/signing-keys", response_class=PlainTextResponse)
def list_signing_keys(session: SessionDep) -> PlainTextResponse:
    """Every key that has signed a checkpoint, newest first, one vkey a line.

    Rotation keeps old keys here, so checkpoints signed before it stay verifiable."""
    return PlainTextResponse(
        "".join(k + "\n" for k in service.signing_keys(session)), media_type=TEXT
    )


@public_router.get("/auditor-keys", response_model=list[schemas.AuditorKeyOut])
def list_auditor_keys(session: SessionDep) -> list[schemas.AuditorKeyOut]:
    """The auditors' registered cosigning keys (tlog-cosignature vkeys).

    Require a cosignature by one of these to trust a checkpoint without trusting us."""
    return [schemas.AuditorKeyOut(name=k.name, vkey=k.vkey) for k in service.auditor_keys(session)]


@public_router.get("/campaigns/{code}/checkpoint", response_class=PlainTextResponse)
def get_latest_checkpoint(code: CampaignCode, session: SessionDep) -> PlainTextResponse:
    """The campaign's latest signed checkpoint, with its cosignatures.

    A C2SP tlog-checkpoint note: origin, tree size, root hash, then signature lines. 404
    `checkpoint_not_found` before the first checkpoint."""
    campaign = service.public_campaign(session, code)
    checkpoint = service.latest_or_404(session, campaign)
    return PlainTextResponse(service.note_text(session, checkpoint), media_type=TEXT)


@public_router.get("/campaigns/{code}/checkpoints/{size}", response_class=PlainTextResponse)
def get_checkpoint(code: CampaignCode, size: Size, session: SessionDep) -> PlainTextResponse:
    """The checkpoint issued at `size` entries.

    404 `checkpoint_not_found` if none was issued at that size."""
    campaign = service.public_campaign(session, code)
    checkpoint = service.at_size(session, campaign, size)
    return PlainTextResponse(service.note_text(session, checkpoint), media_type=TEXT)


@public_router.get("/campaigns/{code}/proofs/inclusion", response_model=schemas.InclusionProof)
def get_inclusion_proof(
    code: CampaignCode,
    session: SessionDep,
    receipt: Annotated[
        str | None, Query(max_length=20, pattern=r"^[A-Za-z0-9-]+$", description="RL-…")
    ] = None,
    index: Annotated[int | None, Query(ge=0, le=2**62, description="Leaf index (seq − 1).")] = None,
    size: Annotated[
        int | None, Query(ge=1, le=2**62, description="Tree size; default the latest checkpoint.")
    ] = None,
) -> schemas.InclusionProof:
    """Proof that an entry is in the tree of `size` leaves.

    Name the entry by `receipt` (a receipt code) or by leaf `index`; sizes above the latest
    checkpoint are 404, malformed ones 422."""
    if (receipt is None) == (index is None):
        raise Invalid.field("receipt", "receipt_or_index", "Give exactly one of receipt and index.")
    campaign = service.public_campaign(session, code)
    return service.inclusion(session, campaign, size=size, index=index, receipt_code=receipt)


@public_router.get("/campaigns/{code}/proofs/consistency", response_model=schemas.ConsistencyProof)
def get_consistency_proof(
    code: CampaignCode,
    session: SessionDep,
    from_size: Annotated[int, Query(alias="from", ge=1, le=2**62)],
    to_size: Annotated[int, Query(alias="to", ge=1, le=2**62)],
) -> schemas.ConsistencyProof:
    """Proof that the tree of `to` leaves extends the tree of `from` leaves.

    Sizes above the latest checkpoint are 404; `from` greater than `to` is 422."""
    campaign = service.public_campaign(session, code)
    proof = service.consistency(session, campaign, from_size, to_size)
    return schemas.ConsistencyProof(from_size=from_size, to_size=to_size, proof=_b64(proof))


def _issued(session: SessionDep, checkpoint: Checkpoint) -> schemas.CheckpointOut:
    lines = checkpoint.body.split("\n")
    return schemas.CheckpointOut(
        origin=lines[0],
        size=checkpoint.size,
        root_hash=lines[2],
        note=service.note_text(session, checkpoint),
    )


@router.post("/campaigns/{code}/checkpoints", status_code=201, response_model=schemas.CheckpointOut)
def issue_checkpoint(campaign: CampaignDep, session: SessionDep) -> schemas.CheckpointOut:
    """Sign the campaign's log now (officers and admins).

    Answers the same checkpoint again if nothing was appended since; 409
    `signing_key_missing` while the service has no signing key."""
    return _issued(session, service.issue(session, campaign, reason="on_demand"))


@auditor_router.post(
    "/auditor-keys",
    status_code=201,
    response_model=schemas.AuditorKeyOut,
    openapi_extra=routing.body_example({"vkey": schemas.EXAMPLE_AUDITOR_VKEY}),
)
def register_auditor_key(body: schemas.AuditorKeyIn, session: SessionDep) -> schemas.AuditorKeyOut:
    """Register your cosigning key (auditors).

    The key is a tlog-cosignature vkey, as `relief signing-key create --auditor` prints it;
    your cosignatures are checked against it. A key already registered is 409."""
    key = service.register_auditor_key(session, body.vkey)
    return schemas.AuditorKeyOut(name=key.name, vkey=key.vkey)


@auditor_router.post(
    "/campaigns/{code}/checkpoints/{size}/cosignatures",
    status_code=201,
    response_class=PlainTextResponse,
    # The shape only: a real cosignature signs the very checkpoint it is posted to.
    openapi_extra=routing.body_example({"signature": schemas.EXAMPLE_COSIGNATURE}),
)
def cosign_checkpoint(
    campaign: CampaignDep, size: Size, body: schemas.CosignatureIn, session: SessionDep
) -> PlainTextResponse:
    """Add your cosignature to the checkpoint at `size` (auditors).

    The signature line must verify against your registered key over that checkpoint;
    answers the checkpoint as now served, your line included."""
    cosignature = service.add_cosignature(session, campaign, size, body.signature)
    checkpoint = service.at_size(session, campaign, size)
    assert cosignature.checkpoint_id == checkpoint.id
    return PlainTextResponse(
        service.note_text(session, checkpoint), status_code=201, media_type=TEXT
    )
