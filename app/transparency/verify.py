"""Check a campaign's transparency log without trusting the server: stdlib and `cryptography` only.

This module imports nothing else from Relief Ledger on purpose: an auditor can copy it alone.
It follows public standards exactly:

- RFC 9162 §2.1 (RFC 6962) Merkle trees: leaf hash SHA-256(0x00 ‖ leaf), node hash
  SHA-256(0x01 ‖ left ‖ right); inclusion (§2.1.3.2) and consistency (§2.1.4.2) verification.
- C2SP signed-note (Ed25519): `— <name> base64(key ID ‖ signature)`, key ID =
  SHA-256(name ‖ "\\n" ‖ 0x01 ‖ public key)[:4], vkeys `<name>+<hex key ID>+<base64(0x01 ‖ key)>`.
- C2SP tlog-checkpoint: body `<origin>\\n<size>\\n<base64 root>\\n`.
- C2SP tlog-cosignature (Ed25519, type 0x04): signature = key ID ‖ u64 timestamp ‖ Ed25519 over
  `cosignature/v1\\ntime <t>\\n` ‖ checkpoint body.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import struct
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519 = 0x01  # signed-note signature type of a log's key
COSIGNATURE_V1 = 0x04  # tlog-cosignature Ed25519 type
DASH = "\u2014"  # the em dash that starts every signature line


class VerificationError(ValueError):
    """A checkpoint, signature or proof that does not check out."""


# --------------------------------------------------------------------------- Merkle trees


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_inclusion_proof(
    index: int, size: int, leaf_digest: bytes, proof: Sequence[bytes]
) -> bytes:
    """RFC 9162 §2.1.3.2: the root that `proof` leads to from leaf `index` of a tree of `size`."""
    if not 0 <= index < size:
        raise VerificationError(f"leaf index {index} is outside a tree of size {size}")
    fn, sn, r = index, size - 1, leaf_digest
    for p in proof:
        if sn == 0:
            raise VerificationError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise VerificationError("inclusion proof is too short")
    return r


def verify_inclusion(
    index: int, size: int, leaf_digest: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    if root_from_inclusion_proof(index, size, leaf_digest, proof) != root:
        raise VerificationError("inclusion proof does not lead to the checkpoint's root hash")


def verify_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2: the tree of `size2` is the tree of `size1` with leaves appended."""
    if not 0 < size1 <= size2:
        raise VerificationError(f"no consistency between sizes {size1} and {size2}")
    if size1 == size2:
        if proof or root1 != root2:
            raise VerificationError("same size, different roots: the log forked")
        return
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # an exact power of two: the old root is the first node
        path.insert(0, root1)
    if not path:
        raise VerificationError("consistency proof is empty")
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise VerificationError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0 or fr != root1 or sr != root2:
        raise VerificationError("consistency proof fails: the old tree is not a prefix of the new")


# --------------------------------------------------------------------------- signed notes


def key_id(name: str, key_type: int, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([key_type]) + public_key).digest()[:4]


@dataclass(frozen=True)
class Verifier:
    """A vkey: who signs (name), how (type 0x01 note signature, 0x04 cosignature), with what key."""

    name: str
    key_type: int
    public_key: bytes

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.key_type, self.public_key)

    @property
    def vkey(self) -> str:
        encoded = base64.b64encode(bytes([self.key_type]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    @classmethod
    def parse(cls, vkey: str) -> Verifier:
        """`<name>+<hex key ID>+<base64(type ‖ key)>`; the key ID must match the key."""
        try:
            name, hex_id, encoded = vkey.strip().split("+", 2)
            raw = base64.b64decode(encoded, validate=True)
            claimed = bytes.fromhex(hex_id)
            name.encode()  # a lone surrogate cannot be a key name
        except (ValueError, binascii.Error) as exc:  # UnicodeError is a ValueError
            raise VerificationError(f"not a vkey: {vkey!r}") from exc
        if not name or any(c.isspace() for c in name) or len(raw) != 33:
            raise VerificationError(f"not an Ed25519 vkey: {vkey!r}")
        verifier = cls(name, raw[0], raw[1:])
        if raw[0] not in (ED25519, COSIGNATURE_V1) or verifier.key_id != claimed:
            raise VerificationError(f"the vkey's key ID does not match its key: {vkey!r}")
        return verifier

    def check(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class Note:
    body: str  # the text up to and including its last newline, signatures excluded
    signatures: tuple[tuple[str, bytes], ...]  # (key name, key ID ‖ signature)


def parse_note(text: str) -> Note:
    """Split a signed note into its text and signature lines (C2SP signed-note)."""
    body, sep, block = text.rpartition("\n\n")
    if not sep or not body or not block.endswith("\n"):
        raise VerificationError("malformed note: no blank line before the signatures")
    if any(ord(c) < 0x20 and c != "\n" for c in body):
        raise VerificationError("malformed note: control characters in the text")
    try:
        text.encode()
    except UnicodeEncodeError as exc:
        raise VerificationError("malformed note: not UTF-8 text") from exc
    signatures = []
    for line in block[:-1].split("\n"):
        prefix, _, rest = line.partition(" ")
        name, _, encoded = rest.partition(" ")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except binascii.Error as exc:
            raise VerificationError(f"malformed signature line: {line!r}") from exc
        if prefix != DASH or not name or " " in encoded or len(raw) < 5:
            raise VerificationError(f"malformed signature line: {line!r}")
        signatures.append((name, raw))
    return Note(body + "\n", tuple(signatures))


def signature_line(name: str, payload: bytes) -> str:
    return f"{DASH} {name} {base64.b64encode(payload).decode()}\n"


def sign_note(body: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """A signature line over `body` by the log's key (type 0x01)."""
    public = private_key.public_key().public_bytes_raw()
    signature = private_key.sign(body.encode())
    return signature_line(name, key_id(name, ED25519, public) + signature)


def cosignature_message(body: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n".encode() + body.encode()


def cosign(body: str, name: str, private_key: Ed25519PrivateKey, timestamp: int) -> str:
    """A tlog-cosignature/v1 line over a checkpoint body."""
    public = private_key.public_key().public_bytes_raw()
    signature = private_key.sign(cosignature_message(body, timestamp))
    payload = key_id(name, COSIGNATURE_V1, public) + struct.pack(">Q", timestamp) + signature
    return signature_line(name, payload)


def signed_by(note: Note, verifier: Verifier) -> bool:
    """Whether `note` carries a valid signature (or cosignature) by `verifier`."""
    for name, raw in note.signatures:
        if name != verifier.name or raw[:4] != verifier.key_id:
            continue
        if verifier.key_type == ED25519:
            return verifier.check(note.body.encode(), raw[4:])
        if len(raw) != 4 + 8 + 64:
            return False
        (timestamp,) = struct.unpack(">Q", raw[4:12])
        return verifier.check(cosignature_message(note.body, timestamp), raw[12:])
    return False


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    note: Note


def open_checkpoint(text: str, log: Verifier, cosigners: Sequence[Verifier] = ()) -> Checkpoint:
    """Parse a checkpoint and require the log's signature and every named cosigner's."""
    note = parse_note(text)
    if not signed_by(note, log):
        raise VerificationError(f"the checkpoint is not signed by {log.vkey}")
    for cosigner in cosigners:
        if not signed_by(note, cosigner):
            raise VerificationError(f"the checkpoint is not cosigned by {cosigner.name}")
    lines = note.body.split("\n")
    if len(lines) < 4:
        raise VerificationError("a checkpoint has an origin, a size and a root hash")
    origin, size_text, root_text = lines[:3]
    if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
        raise VerificationError(f"malformed tree size {size_text!r}")
    try:
        root = base64.b64decode(root_text, validate=True)
    except binascii.Error as exc:
        raise VerificationError("malformed root hash") from exc
    if len(root) != 32 or not origin:
        raise VerificationError("malformed checkpoint")
    return Checkpoint(origin, int(size_text), root, note)


# --------------------------------------------------------------------------- the two checks


def _get(url: str) -> bytes:
    if not url.startswith(("http://", "https://")):
        raise VerificationError(f"not an http(s) URL: {url}")
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - scheme checked
        body: bytes = response.read()
        return body


def verify_receipt(server: str, receipt_code: str, vkey: str) -> dict[str, object]:
    """Fetch a receipt and the latest checkpoint; check the signature and the entry's inclusion.

    Returns what was proven (campaign, leaf index, tree size, entry hash)."""
    base = server.rstrip("/")
    receipt = json.loads(_get(f"{base}/v1/public/receipts/{urllib.parse.quote(receipt_code)}"))
    proof = receipt.get("proof")
    if not proof:
        raise VerificationError("the receipt has no proof yet (no checkpoint covers it)")
    code = receipt["campaign"]["code"]
    size = int(proof["tree_size"])
    text = _get(f"{base}/v1/public/campaigns/{urllib.parse.quote(code)}/checkpoints/{size}")
    checkpoint = open_checkpoint(text.decode(), Verifier.parse(vkey))
    if checkpoint.size != size or not checkpoint.origin.endswith("/" + code):
        raise VerificationError("the proof is for another checkpoint")
    path = [base64.b64decode(node) for node in proof["audit_path"]]
    entry = bytes.fromhex(proof["entry_hash"])
    verify_inclusion(int(proof["leaf_index"]), size, leaf_hash(entry), path, checkpoint.root)
    return {
        "campaign": code,
        "leaf_index": proof["leaf_index"],
        "tree_size": size,
        "entry_hash": proof["entry_hash"],
    }


def verify_checkpoints(
    old_text: str, new_text: str, vkeys: Sequence[str], server: str | None = None
) -> tuple[Checkpoint, Checkpoint]:
    """Both checkpoints signed by one of `vkeys` (old keys stay valid), same log, and the new
    one an extension of the old: the consistency proof is fetched from `server` (or, without
    one, from the log named by the origin over https)."""
    verifiers = [Verifier.parse(v) for v in vkeys]

    def opened(text: str) -> Checkpoint:
        for verifier in verifiers:
            try:
                return open_checkpoint(text, verifier)
            except VerificationError:
                continue
        raise VerificationError("a checkpoint is not signed by any of the given keys")

    old, new = opened(old_text), opened(new_text)
    if old.origin != new.origin:
        raise VerificationError(f"different logs: {old.origin} and {new.origin}")
    if old.size > new.size:
        raise VerificationError("the new checkpoint is smaller than the old one")
    proof: list[bytes] = []
    if old.size not in (0, new.size):
        code = old.origin.rsplit("/", 1)[1]
        base = (server or f"https://{old.origin.rsplit('/', 1)[0]}").rstrip("/")
        query = urllib.parse.urlencode({"from": old.size, "to": new.size})
        answer = json.loads(
            _get(
                f"{base}/v1/public/campaigns/{urllib.parse.quote(code)}/proofs/consistency?{query}"
            )
        )
        proof = [base64.b64decode(node) for node in answer["proof"]]
    if old.size == 0:
        return old, new
    verify_consistency(old.size, new.size, old.root, new.root, proof)
    return old, new
