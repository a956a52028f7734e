"""The transparency log: each campaign's ledger as an RFC 9162 Merkle tree, signed checkpoints,
proofs and auditor cosignatures."""
