"""The log's Ed25519 signing key: a PKCS#8 PEM file, readable by its owner only.

Without a key file the service runs, but issues no checkpoint (the transparency endpoints
answer 404 `checkpoint_not_found` / 409 `signing_key_missing`); `make run` creates a
development key first. A key file that others may read stops the service at start.
Rotation renames the old file aside and writes a new key; the old public key stays in
`signing_keys`, published, so the checkpoints it signed still verify.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from app.config import get_settings
from app.transparency.verify import ED25519, Verifier, sign_note


class UnsafeKeyFile(RuntimeError):
    """The signing key file is readable or writable by others than its owner."""


@dataclass(frozen=True)
class Signer:
    name: str
    private_key: Ed25519PrivateKey

    @property
    def verifier(self) -> Verifier:
        return Verifier(self.name, ED25519, self.private_key.public_key().public_bytes_raw())

    def sign(self, body: str) -> str:
        return sign_note(body, self.name, self.private_key)


def key_path() -> Path:
    return Path(get_settings().signing_key_path)


def key_name() -> str:
    """The log's key name: its origin prefix (a schema-less URL, as C2SP recommends)."""
    return get_settings().log_origin


def check_permissions(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise UnsafeKeyFile(
            f"the signing key {path} has mode {mode:04o}: others may read it. "
            f"Run `chmod 600 {path}` (or make a new key: `relief signing-key create --rotate`)."
        )


def load(path: Path | None = None) -> Signer | None:
    """The signing key, or None when no key file exists; refuses an unsafe file."""
    path = path or key_path()
    if not path.exists():
        return None
    check_permissions(path)
    key = load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise UnsafeKeyFile(f"{path} is not an Ed25519 private key")
    return Signer(key_name(), key)


def write_new_key(path: Path) -> Ed25519PrivateKey:
    """Write a new Ed25519 key to `path` (created with mode 0600; never overwrites)."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)
    return key


def retire(path: Path, verifier: Verifier) -> Path:
    """Move the current key file aside (kept, still 0600) before a rotation."""
    retired = path.with_name(f"{path.name}.{verifier.key_id.hex()}.retired")
    path.rename(retired)
    return retired
