"""The transparency log's signing key in tests: none unless a test asks for one.

Every test points `SIGNING_KEY_PATH` at its own temporary directory (so a developer's
`./relief-signing.key` never leaks in); `signing_key` writes a key there, as
`relief signing-key create` does, and returns it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config import get_settings
from app.transparency import signing


@pytest.fixture(autouse=True)
def signing_key_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "signing" / "relief-signing.key"
    monkeypatch.setattr(get_settings(), "signing_key_path", str(path))
    monkeypatch.setenv("SIGNING_KEY_PATH", str(path))  # for servers a test starts
    yield path


@pytest.fixture
def signing_key(signing_key_path: Path) -> signing.Signer:
    """The log's signing key, written with mode 0600."""
    signing.write_new_key(signing_key_path)
    signer = signing.load(signing_key_path)
    assert signer is not None
    return signer
