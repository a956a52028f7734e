"""Checkpoints and cosignatures in the C2SP formats, checked by an independent implementation
written here from the C2SP texts (signed-note, tlog-checkpoint, tlog-cosignature), with only
`cryptography`'s Ed25519; and the verifier refuses what it must."""

from __future__ import annotations

import base64
import hashlib
import struct

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from app.transparency import verify
from app.transparency.signing import Signer

ROOT = hashlib.sha256(b"root").digest()
BODY = f"relief-ledger.localhost/ky-son-flood-2022\n42\n{base64.b64encode(ROOT).decode()}\n"


# --------------------------------------------------------------------------- independent reader


def c2sp_parse_vkey(vkey: str) -> tuple[str, bytes, int, bytes]:
    """signed-note "Verifier keys": name+hex(key hash)+base64(type || public key)."""
    name, key_hash, material = vkey.split("+", 2)
    raw = base64.standard_b64decode(material)
    return name, bytes.fromhex(key_hash), raw[0], raw[1:]


def c2sp_verify(note: str, vkey: str) -> bool:
    """signed-note: text, a blank line, then lines `— name base64(keyhash || sig)`."""
    name, key_hash, sig_type, public = c2sp_parse_vkey(vkey)
    assert (
        hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + public).digest()[:4] == key_hash
    )
    split = note.rindex("\n\n")
    text, signatures = note[: split + 1], note[split + 2 :]
    for line in signatures.splitlines():
        dash, signer, blob = line.split(" ")
        assert dash == "\u2014"
        raw = base64.standard_b64decode(blob)
        if signer != name or raw[:4] != key_hash:
            continue
        if sig_type == 0x01:
            message, signature = text.encode(), raw[4:]
        elif sig_type == 0x04:  # tlog-cosignature: u64 timestamp, then the signature
            (timestamp,) = struct.unpack(">Q", raw[4:12])
            message = b"cosignature/v1\n" + b"time %d\n" % timestamp + text.encode()
            signature = raw[12:]
        else:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
        except InvalidSignature:
            return False
        return True
    return False


def c2sp_checkpoint(note: str) -> tuple[str, int, bytes]:
    """tlog-checkpoint: origin, decimal size, base64 root hash, one per line."""
    origin, size, root = note.split("\n")[:3]
    return origin, int(size), base64.standard_b64decode(root)


@pytest.fixture
def signer() -> Signer:
    return Signer("relief-ledger.localhost", Ed25519PrivateKey.generate())


def _signed(signer: Signer, body: str = BODY) -> str:
    return body + "\n" + signer.sign(body)


def test_our_checkpoints_verify_with_the_independent_reader(signer):
    note = _signed(signer)
    assert c2sp_verify(note, signer.verifier.vkey)
    assert c2sp_checkpoint(note) == ("relief-ledger.localhost/ky-son-flood-2022", 42, ROOT)
    # and the vkey is what the text defines: name, hex key hash, base64(0x01 || key)
    name, _key_hash, sig_type, public = c2sp_parse_vkey(signer.verifier.vkey)
    assert (name, sig_type, len(public)) == ("relief-ledger.localhost", 0x01, 32)


def test_notes_signed_by_the_independent_writer_verify_with_ours():
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes_raw()
    name = "example.com/log"
    key_hash = hashlib.sha256(name.encode() + b"\n\x01" + public).digest()[:4]
    note = (
        BODY
        + "\n\u2014 "
        + name
        + " "
        + base64.b64encode(key_hash + key.sign(BODY.encode())).decode()
        + "\n"
    )
    material = base64.b64encode(b"\x01" + public).decode()
    vkey = f"{name}+{key_hash.hex()}+{material}"
    checkpoint = verify.open_checkpoint(note, verify.Verifier.parse(vkey))
    assert (checkpoint.origin, checkpoint.size, checkpoint.root) == (
        "relief-ledger.localhost/ky-son-flood-2022",
        42,
        ROOT,
    )


def test_cosignatures_verify_both_ways(signer):
    auditor = Ed25519PrivateKey.generate()
    cosigner = verify.Verifier(
        "kiemtoan.gov.vn/relief", 0x04, auditor.public_key().public_bytes_raw()
    )
    note = _signed(signer) + verify.cosign(BODY, cosigner.name, auditor, 1_700_000_000)
    assert c2sp_verify(note, cosigner.vkey) and c2sp_verify(note, signer.verifier.vkey)
    checkpoint = verify.open_checkpoint(note, signer.verifier, [cosigner])
    assert checkpoint.size == 42
    # Written independently: key ID with 0x04, u64 big-endian time, the two header lines.
    key_hash = hashlib.sha256(b"kiemtoan.gov.vn/relief\n\x04" + cosigner.public_key).digest()[:4]
    message = b"cosignature/v1\ntime 1700000001\n" + BODY.encode()
    blob = key_hash + struct.pack(">Q", 1_700_000_001) + auditor.sign(message)
    theirs = _signed(signer) + f"\u2014 kiemtoan.gov.vn/relief {base64.b64encode(blob).decode()}\n"
    verify.open_checkpoint(theirs, signer.verifier, [cosigner])
    # A cosignature's time is signed: changing it breaks the signature.
    tampered = blob[:4] + struct.pack(">Q", 1_700_000_002) + blob[12:]
    forged = (
        _signed(signer) + f"\u2014 kiemtoan.gov.vn/relief {base64.b64encode(tampered).decode()}\n"
    )
    with pytest.raises(verify.VerificationError, match="not cosigned"):
        verify.open_checkpoint(forged, signer.verifier, [cosigner])


def test_a_checkpoint_signed_by_another_key_is_refused(signer):
    impostor = Signer(signer.name, Ed25519PrivateKey.generate())
    with pytest.raises(verify.VerificationError, match="not signed"):
        verify.open_checkpoint(_signed(impostor), signer.verifier)
    assert not c2sp_verify(_signed(impostor), signer.verifier.vkey)


def test_a_checkpoint_with_a_changed_size_is_refused(signer):
    note = _signed(signer).replace("\n42\n", "\n43\n", 1)
    with pytest.raises(verify.VerificationError, match="not signed"):
        verify.open_checkpoint(note, signer.verifier)
    assert not c2sp_verify(note, signer.verifier.vkey)


def test_reordered_lines_or_signature_bytes_are_refused(signer):
    note = _signed(signer)
    origin, size, root, _blank, signature, _ = note.split("\n")
    reordered = [
        # the body's lines swapped
        "\n".join([size, origin, root, "", signature, ""]),
        # the signature line above the body
        "\n".join([signature, origin, size, root, "", ""]),
        # the signature moved before the blank line (no signature block left)
        "\n".join([origin, size, root, signature, "", ""]),
    ]
    _dash, _name, blob = signature.split(" ")
    raw = base64.b64decode(blob)
    # key ID and signature bytes swapped around
    swapped = raw[4:] + raw[:4]
    reordered.append(note.replace(blob, base64.b64encode(swapped).decode()))
    for text in reordered:
        with pytest.raises(verify.VerificationError):
            verify.open_checkpoint(text, signer.verifier)


def test_a_vkey_whose_key_id_does_not_match_is_refused(signer):
    name, key_hash, material = signer.verifier.vkey.split("+", 2)
    with pytest.raises(verify.VerificationError):
        verify.Verifier.parse(f"{name}+00000000+{material}")
    with pytest.raises(verify.VerificationError):
        verify.Verifier.parse(f"other.example+{key_hash}+{material}")
