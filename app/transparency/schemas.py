"""What the transparency endpoints send and take. Hashes in proofs are base64, as in checkpoints;
`entry_hash` is hex, as the ledger serves it."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.schemas import InputModel


class InclusionProof(BaseModel):
    """RFC 9162 §2.1.3 inclusion proof of one ledger entry in the tree of `tree_size` leaves."""

    leaf_index: int = Field(description="The entry's seq − 1.")
    tree_size: int = Field(description="Size of the checkpoint the proof is against.")
    entry_hash: str = Field(description="The leaf: the entry's chain hash (hex, 32 bytes).")
    audit_path: list[str] = Field(description="Base64 node hashes, from the leaf up.")


class ConsistencyProof(BaseModel):
    """RFC 9162 §2.1.4 consistency proof: the tree of `to_size` extends the tree of `from_size`."""

    from_size: int
    to_size: int
    proof: list[str] = Field(description="Base64 node hashes.")


# An example auditor's key (its private half is derived from a published phrase: never use
# it for real), and the shape of a cosignature line made with it.
EXAMPLE_AUDITOR_VKEY = "kiem-toan.example.vn+03e8f545+BMhhUS2T81E81PruGBDYq8n8c7wkGsqD5hu3cfR1fDxc"
EXAMPLE_COSIGNATURE = (
    "— kiem-toan.example.vn A+j1RQAAAABpLRLA5yoeAUbB6qk3rPYv+O2vGckb7/FkhYiEgMzFmhm7"
    "Ls69m7dENriCklg4jJGZO807xrJZJ54r2PGK65XzEZuUAA=="
)


class AuditorKeyIn(InputModel):
    vkey: str = Field(
        max_length=300,
        description="A C2SP tlog-cosignature Ed25519 vkey: `<name>+<hex key ID>+<base64(0x04 ‖ key)>`.",
    )


class AuditorKeyOut(BaseModel):
    name: str
    vkey: str


class CosignatureIn(InputModel):
    signature: str = Field(
        max_length=500,
        description="One signature line, `— <name> <base64(key ID ‖ timestamp ‖ signature)>`.",
    )


class CheckpointOut(BaseModel):
    """A checkpoint just issued (the signed note itself is served as text/plain)."""

    origin: str
    size: int
    root_hash: str = Field(description="Base64, as in the note.")
    note: str
