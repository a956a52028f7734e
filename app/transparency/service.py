"""Each campaign's ledger as a transparency log: the tree, its checkpoints, proofs, cosignatures.

Leaf i of a campaign's log is the 32 raw bytes of ledger entry seq i+1's chain hash (the
`hash` of `GET /v1/campaigns/{code}/ledger`). The tree grows only when a checkpoint is
issued: the entries since the last one are hashed in, the perfect subtrees they complete
are stored (`TreeNode`), and the new root is signed. Every proof then reads O(log n) stored
nodes; nothing ever recomputes the whole tree. Issuing holds the campaign's ledger lock, so
checkpoints of one campaign are issued one at a time, in chain order.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.campaigns.models import Campaign, CampaignStatus
from app.config import get_settings
from app.contributions.models import Contribution
from app.db import utcnow
from app.errors import Conflict, DomainError, Invalid, NotFound
from app.keys import scope
from app.ledger import service as ledger
from app.ledger.models import LedgerEntry, LedgerHead
from app.transparency import merkle, signing
from app.transparency.merkle import Node
from app.transparency.models import AuditorKey, Checkpoint, Cosignature, SigningKey
from app.transparency.schemas import InclusionProof
from app.transparency.verify import (
    COSIGNATURE_V1,
    VerificationError,
    Verifier,
    parse_note,
    signed_by,
)

log = logging.getLogger(__name__)
PUBLIC_STATUSES = (CampaignStatus.open, CampaignStatus.closed)


class SigningKeyMissing(DomainError):
    """No signing key is configured: the log cannot sign (409, nothing written). A state of
    the server, not a failure: the house answers no 5xx for what it chose not to do."""

    status = 409


# --------------------------------------------------------------------------- the tree


def _nodes(session: Session, campaign_id: int, wanted: Iterable[Node]) -> dict[Node, bytes]:
    """Stored nodes in one round trip: a UNION ALL of primary-key lookups. Written as text on
    purpose: building and compiling ~40 expressions per proof cost more than the lookups."""
    nodes = sorted(wanted)
    if not nodes:
        return {}
    lookup = 'SELECT level, "index", hash FROM transparency_nodes WHERE campaign_id = :c'
    # Only placeholders are formatted in; every value is bound.
    sql = " UNION ALL ".join(
        f'{lookup} AND level = :l{i} AND "index" = :x{i}' for i in range(len(nodes))
    )
    params: dict[str, int] = {"c": campaign_id}
    for i, (level, index) in enumerate(nodes):
        params[f"l{i}"], params[f"x{i}"] = level, index
    rows = session.execute(text(sql), params)
    return {(level, index): bytes(digest) for level, index, digest in rows}


# Leaves hashed in per round: a log switched on over a million entries catches up in
# bounded memory.
GROW_CHUNK = 65_536


def _grow(session: Session, campaign_id: int, size: int, new_size: int) -> None:
    """Hash entries seq size+1 … new_size into the tree, storing the nodes they complete."""
    connection = session.connection()
    while size < new_size:
        end = min(size + GROW_CHUNK, new_size)
        hashes = list(
            session.scalars(
                select(LedgerEntry.hash)
                .where(LedgerEntry.campaign_id == campaign_id, LedgerEntry.seq > size)
                .where(LedgerEntry.seq <= end)
                .order_by(LedgerEntry.seq)
            )
        )
        if len(hashes) != end - size:
            raise RuntimeError(f"campaign {campaign_id}: the chain has gaps after seq {size}")
        made = merkle.extend(
            size,
            [bytes.fromhex(h) for h in hashes],
            lambda need: _nodes(session, campaign_id, need),
        )
        _insert_nodes(connection, campaign_id, made)
        size = end


def _insert_nodes(connection: Connection, campaign_id: int, made: dict[Node, bytes]) -> None:
    """Straight to the driver: SQLAlchemy's per-row parameter handling cost twice the hashing
    and the INSERT together (20,000 nodes a 10,000-entry round). PostgreSQL takes the lot as
    three arrays in one statement, SQLite as one executemany."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(
            'INSERT INTO transparency_nodes (campaign_id, level, "index", hash) '
            "SELECT %s, * FROM unnest(%s::integer[], %s::bigint[], %s::bytea[])",
            (
                campaign_id,
                [level for level, _ in made],
                [index for _, index in made],
                list(made.values()),
            ),
        )
        return
    connection.exec_driver_sql(
        'INSERT INTO transparency_nodes (campaign_id, level, "index", hash) VALUES (?, ?, ?, ?)',
        [(campaign_id, level, index, digest) for (level, index), digest in made.items()],
    )


def _hashes(
    session: Session, campaign_id: int, ranges: list[merkle.Range], known: Mapping[Node, bytes]
) -> list[bytes]:
    wanted = merkle.nodes_of(ranges) - known.keys()
    nodes = {**known, **_nodes(session, campaign_id, wanted)}
    return merkle.hashes_of(ranges, nodes)


# --------------------------------------------------------------------------- checkpoints


def origin(code: str) -> str:
    return f"{get_settings().log_origin}/{code}"


def latest(session: Session, campaign_id: int) -> Checkpoint | None:
    return session.scalars(
        select(Checkpoint)
        .where(Checkpoint.campaign_id == campaign_id)
        .order_by(Checkpoint.size.desc())
        .limit(1)
    ).one_or_none()


def _signing_key_row(session: Session, signer: signing.Signer) -> SigningKey:
    vkey = signer.verifier.vkey
    stmt = select(SigningKey).where(SigningKey.vkey == vkey)
    row = session.scalars(stmt).one_or_none()
    if row is None:
        try:
            with session.begin_nested():
                session.add(SigningKey(vkey=vkey, first_used_at=utcnow()))
        except IntegrityError:  # another campaign's checkpoint published it first
            pass
        row = session.scalars(stmt).one()
    return row


def require_signer() -> signing.Signer:
    signer = signing.load()
    if signer is None:
        raise SigningKeyMissing(
            "signing_key_missing",
            "No signing key is configured, so no checkpoint can be issued: "
            "run `relief signing-key create` (see docs/auditors.md).",
        )
    return signer


def issue(
    session: Session, campaign: Campaign, *, reason: str, signer: signing.Signer | None = None
) -> Checkpoint:
    """Sign the campaign's log at its current size (or return the checkpoint already at it).

    Takes the campaign's ledger lock: checkpoints follow the chain, one writer at a time."""
    signer = signer or require_signer()
    head = ledger.lock(session, campaign.id)
    previous = latest(session, campaign.id)
    size = previous.size if previous else 0
    if previous is not None and previous.size == head.seq:
        return previous
    _grow(session, campaign.id, size, head.seq)
    root = _hashes(session, campaign.id, [(0, head.seq)], {})[0]
    body = f"{origin(campaign.code)}\n{head.seq}\n{base64.b64encode(root).decode()}\n"
    checkpoint = Checkpoint(
        campaign_id=campaign.id,
        size=head.seq,
        root_hash=root.hex(),
        body=body,
        signature=signer.sign(body),
        signing_key_id=_signing_key_row(session, signer).id,
        reason=reason,
        issued_at=utcnow(),
    )
    session.add(checkpoint)
    session.flush()
    return checkpoint


def issue_if_signing(session: Session, campaign: Campaign, *, reason: str) -> Checkpoint | None:
    """`issue`, unless no signing key is configured (then nothing: the log is off)."""
    signer = signing.load()
    if signer is None:
        log.info("no signing key: no checkpoint for %s", campaign.code)
        return None
    return issue(session, campaign, reason=reason, signer=signer)


def due(session: Session, *, now: datetime | None = None) -> list[int]:
    """Campaigns with entries newer than their last checkpoint, when that checkpoint is older
    than `checkpoint_interval_s` (or there is none); none when the interval is 0."""
    interval = get_settings().checkpoint_interval_s
    if interval <= 0:
        return []
    cutoff = (now or utcnow()) - timedelta(seconds=interval)
    last = (
        select(
            Checkpoint.campaign_id,
            func.max(Checkpoint.size).label("size"),
            func.max(Checkpoint.issued_at).label("issued_at"),
        )
        .group_by(Checkpoint.campaign_id)
        .subquery()
    )
    return list(
        session.scalars(
            select(LedgerHead.campaign_id)
            .outerjoin(last, last.c.campaign_id == LedgerHead.campaign_id)
            .where(
                LedgerHead.seq > func.coalesce(last.c.size, 0),
                or_(last.c.issued_at.is_(None), last.c.issued_at <= cutoff),
            )
            .order_by(LedgerHead.campaign_id)
        )
    )


def issue_due(session: Session, *, now: datetime | None = None) -> list[str]:
    """Issue every checkpoint that is `due` (nothing without a signing key); their codes."""
    signer = signing.load()
    if signer is None:
        return []
    issued = []
    for campaign_id in due(session, now=now):
        campaign = session.get_one(Campaign, campaign_id)
        issue(session, campaign, reason="interval", signer=signer)
        issued.append(campaign.code)
    return issued


def note_text(session: Session, checkpoint: Checkpoint) -> str:
    """The checkpoint as served: body, blank line, the log's signature, then cosignatures."""
    lines = session.scalars(
        select(Cosignature.line)
        .where(Cosignature.checkpoint_id == checkpoint.id)
        .order_by(Cosignature.id)
    ).all()
    return checkpoint.body + "\n" + checkpoint.signature + "".join(lines)


def public_campaign(session: Session, code: str) -> Campaign:
    """A campaign the public may see; drafts and unknown codes are the same 404."""
    campaign = session.scalars(
        select(Campaign).where(Campaign.code == code, Campaign.status.in_(PUBLIC_STATUSES))
    ).one_or_none()
    if campaign is None:
        raise NotFound("campaign_not_found", f"No public campaign has code {code!r}.")
    return campaign


def _no_checkpoint(code: str, size: int | None = None) -> NotFound:
    at = f" at size {size}" if size is not None else ""
    return NotFound("checkpoint_not_found", f"Campaign {code!r} has no checkpoint{at}.")


def latest_or_404(session: Session, campaign: Campaign) -> Checkpoint:
    found = latest(session, campaign.id)
    if found is None:
        raise _no_checkpoint(campaign.code)
    return found


def at_size(session: Session, campaign: Campaign, size: int) -> Checkpoint:
    """The checkpoint issued at `size` (404 when none was: above the latest, or in between)."""
    found = session.scalars(
        select(Checkpoint).where(Checkpoint.campaign_id == campaign.id, Checkpoint.size == size)
    ).one_or_none()
    if found is None:
        raise _no_checkpoint(campaign.code, size)
    return found


# --------------------------------------------------------------------------- proofs


def _tree_size(session: Session, campaign: Campaign, size: int | None) -> int:
    """`size`, or the latest checkpoint's; 404 above the latest checkpoint."""
    newest = session.scalar(
        select(func.max(Checkpoint.size)).where(Checkpoint.campaign_id == campaign.id)
    )
    if newest is None:
        raise _no_checkpoint(campaign.code)
    if size is None:
        return int(newest)
    if size > newest:
        raise _no_checkpoint(campaign.code, size)
    return size


def entry_seq_of_receipt(session: Session, campaign: Campaign, receipt_code: str) -> int:
    """The seq of the ledger entry that recorded the contribution with this receipt code."""
    absent = NotFound("receipt_not_found", f"No contribution has receipt code {receipt_code!r}.")
    contribution = session.scalars(
        select(Contribution).where(
            Contribution.receipt_code == receipt_code.upper(),
            Contribution.campaign_id == campaign.id,
        )
    ).one_or_none()
    if contribution is None:
        raise absent
    # Records and their entry share one recording time: an index range, then the detail.
    seq = session.scalars(
        select(LedgerEntry.seq)
        .where(
            LedgerEntry.campaign_id == campaign.id,
            LedgerEntry.recorded_at == contribution.recorded_at,
            LedgerEntry.kind == "contribution_recorded",
            LedgerEntry.detail.contains(
                f'"receipt_code":"{contribution.receipt_code}"', autoescape=True
            ),
        )
        .order_by(LedgerEntry.seq)
        .limit(1)
    ).one_or_none()
    if seq is not None:
        return int(seq)
    raise absent


def inclusion(
    session: Session,
    campaign: Campaign,
    *,
    size: int | None = None,
    index: int | None = None,
    receipt_code: str | None = None,
) -> InclusionProof:
    """Inclusion proof of one entry (by leaf index, or by receipt code) in the tree of `size`."""
    tree_size = _tree_size(session, campaign, size)
    if receipt_code is not None:
        index = entry_seq_of_receipt(session, campaign, receipt_code) - 1
    if index is None or index >= tree_size:
        raise Invalid.field(
            "index",
            "leaf_not_in_tree",
            f"Leaf {index} is not in the tree of size {tree_size} (indexes are 0 … size−1).",
        )
    entry_hash = session.scalars(
        select(LedgerEntry.hash).where(
            LedgerEntry.campaign_id == campaign.id, LedgerEntry.seq == index + 1
        )
    ).one()
    path = _hashes(session, campaign.id, merkle.inclusion_ranges(index, tree_size), {})
    return InclusionProof(
        leaf_index=index,
        tree_size=tree_size,
        entry_hash=entry_hash,
        audit_path=[base64.b64encode(node).decode() for node in path],
    )


def receipt_proof(session: Session, campaign: Campaign, receipt_code: str) -> InclusionProof | None:
    """The receipt's inclusion proof against the latest checkpoint, if one covers it."""
    newest = latest(session, campaign.id)
    if newest is None:
        return None
    index = entry_seq_of_receipt(session, campaign, receipt_code) - 1
    if index >= newest.size:
        return None
    return inclusion(session, campaign, size=newest.size, index=index)


def consistency(session: Session, campaign: Campaign, old: int, new: int) -> list[bytes]:
    """RFC 9162 consistency proof from the tree of `old` leaves to the tree of `new`
    (0 < old ≤ new ≤ the latest checkpoint's size; `old` need not be a checkpoint of ours:
    an auditor may hold one from before a rewrite, or from a mirror)."""
    if not 0 < old <= new:
        raise Invalid.field(
            "from", "sizes_out_of_order", "Need 0 < from ≤ to for a consistency proof."
        )
    _tree_size(session, campaign, new)
    if old == new:
        return []
    return _hashes(session, campaign.id, merkle.consistency_ranges(old, new), {})


# --------------------------------------------------------------------------- keys


def signing_keys(session: Session) -> list[str]:
    """Every key that has signed a checkpoint, newest first (old ones verify old checkpoints)."""
    return list(session.scalars(select(SigningKey.vkey).order_by(SigningKey.id.desc())))


def current_signing_key(session: Session) -> str:
    signer = signing.load()
    if signer is not None:
        return signer.verifier.vkey
    keys = signing_keys(session)
    if not keys:
        raise NotFound("signing_key_missing", "This log has no signing key yet.")
    return keys[0]


def _auditor_verifier(vkey: str) -> Verifier:
    try:
        verifier = Verifier.parse(vkey)
    except VerificationError as exc:
        raise Invalid.field("vkey", "vkey_invalid", str(exc)) from exc
    if verifier.key_type != COSIGNATURE_V1:
        raise Invalid.field(
            "vkey",
            "vkey_invalid",
            "An auditor's key is a tlog-cosignature Ed25519 vkey (type 0x04).",
        )
    return verifier


def register_auditor_key(session: Session, vkey: str) -> AuditorKey:
    """Register the calling auditor's cosigning key (once per name)."""
    principal = scope.current(session)
    verifier = _auditor_verifier(vkey)
    taken = session.scalars(
        select(AuditorKey).where(
            or_(AuditorKey.name == verifier.name, AuditorKey.vkey == verifier.vkey)
        )
    ).first()
    if taken is not None:
        raise Conflict(
            "auditor_key_exists", f"A cosigning key named {verifier.name!r} is registered."
        )
    assert principal.key_id is not None  # auditors act through their API key
    key = AuditorKey(
        name=verifier.name, vkey=verifier.vkey, api_key_id=principal.key_id, registered_at=utcnow()
    )
    session.add(key)
    session.flush()
    return key


def auditor_keys(session: Session) -> list[AuditorKey]:
    return list(session.scalars(select(AuditorKey).order_by(AuditorKey.id)))


def add_cosignature(session: Session, campaign: Campaign, size: int, line: str) -> Cosignature:
    """Attach an auditor's tlog-cosignature line to the checkpoint at `size`, after checking
    it against the key that auditor registered."""
    principal = scope.current(session)
    checkpoint = at_size(session, campaign, size)
    text = checkpoint.body + "\n" + line.rstrip("\n") + "\n"
    try:
        note = parse_note(text)
    except VerificationError as exc:
        raise Invalid.field("signature", "cosignature_malformed", str(exc)) from exc
    if len(note.signatures) != 1:
        raise Invalid.field("signature", "cosignature_malformed", "Send one signature line.")
    name = note.signatures[0][0]
    key = session.scalars(
        select(AuditorKey).where(AuditorKey.name == name, AuditorKey.api_key_id == principal.key_id)
    ).one_or_none()
    if key is None:
        raise Invalid.field(
            "signature",
            "auditor_key_not_registered",
            f"You have registered no cosigning key named {name!r}: POST /v1/auditor-keys first.",
        )
    if not signed_by(note, Verifier.parse(key.vkey)):
        raise Invalid.field(
            "signature",
            "cosignature_invalid",
            "The cosignature does not verify against your registered key over this checkpoint.",
        )
    exists = session.scalars(
        select(Cosignature).where(
            Cosignature.checkpoint_id == checkpoint.id, Cosignature.auditor_key_id == key.id
        )
    ).one_or_none()
    if exists is not None:
        return exists
    cosignature = Cosignature(
        checkpoint_id=checkpoint.id,
        auditor_key_id=key.id,
        line=line.rstrip("\n") + "\n",
        recorded_at=utcnow(),
    )
    session.add(cosignature)
    session.flush()
    return cosignature
