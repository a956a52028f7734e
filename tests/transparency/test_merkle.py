"""The tree and its proofs against RFC 9162 (RFC 6962): published known answers, a reference
implementation written here straight from the RFC's recursive definitions, and properties
of random trees (every proof verifies; any flipped byte fails)."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.transparency import merkle
from app.transparency.verify import (
    VerificationError,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from tests.support.rfc9162 import ref_mth, ref_path, ref_subproof

# The certificate-transparency reference inputs (transparency-dev/merkle testonly) and the
# roots of their first n leaves, as published.
CT_LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_INCLUSION = {
    (0, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (3, 8): [
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (5, 8): [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (7, 8): [
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
}
CT_CONSISTENCY = {
    (1, 8): CT_INCLUSION[(0, 8)],
    (6, 8): [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 5): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
}


# --------------------------------------------------------------------------- the stored tree


class Tree:
    """The log's tree as the service keeps it: perfect nodes, grown in batches."""

    def __init__(self) -> None:
        self.nodes: dict[merkle.Node, bytes] = {}
        self.size = 0

    def append(self, leaves: list[bytes]) -> None:
        made = merkle.extend(self.size, leaves, lambda need: {n: self.nodes[n] for n in need})
        assert not made.keys() & self.nodes.keys(), "a stored node was written twice"
        self.nodes.update(made)
        self.size += len(leaves)

    def root(self, size: int) -> bytes:
        return merkle.subtree_hash((0, size), self.nodes)

    def inclusion(self, index: int, size: int) -> list[bytes]:
        return merkle.hashes_of(merkle.inclusion_ranges(index, size), self.nodes)

    def consistency(self, old: int, new: int) -> list[bytes]:
        return merkle.hashes_of(merkle.consistency_ranges(old, new), self.nodes)


def _tree(leaves: list[bytes], batches: list[int] | None = None) -> Tree:
    tree, start = Tree(), 0
    for batch in batches or [len(leaves)]:
        tree.append(leaves[start : start + batch])
        start += batch
    tree.append(leaves[start:])
    return tree


def test_roots_match_the_published_answers_however_the_leaves_arrive():
    for batches in ([8], [1] * 8, [3, 2, 3], [5, 1, 2]):
        tree = _tree(CT_LEAVES, batches)
        assert tree.root(0).hex() == hashlib.sha256(b"").hexdigest()
        assert [tree.root(n).hex() for n in range(1, 9)] == CT_ROOTS


def test_inclusion_proofs_match_the_published_answers():
    tree = _tree(CT_LEAVES)
    for (index, size), expected in CT_INCLUSION.items():
        assert [h.hex() for h in tree.inclusion(index, size)] == expected
        verify_inclusion(
            index, size, leaf_hash(CT_LEAVES[index]), tree.inclusion(index, size), tree.root(size)
        )


def test_consistency_proofs_match_the_published_answers():
    tree = _tree(CT_LEAVES)
    for (old, new), expected in CT_CONSISTENCY.items():
        assert [h.hex() for h in tree.consistency(old, new)] == expected
        verify_consistency(old, new, tree.root(old), tree.root(new), tree.consistency(old, new))


def test_every_proof_of_small_trees_is_the_rfcs():
    leaves = [bytes([i]) * (i % 5) for i in range(40)]
    tree = _tree(leaves, [7, 1, 9, 16])
    for n in range(1, 41):
        assert tree.root(n) == ref_mth(leaves[:n])
        for m in range(n):
            assert tree.inclusion(m, n) == ref_path(m, leaves[:n])
        for m in range(1, n + 1):
            assert tree.consistency(m, n) == ref_subproof(m, leaves[:n], True)


def _flip(proof: list[bytes], at: int, bit: int) -> list[bytes]:
    node = bytearray(proof[at % len(proof)])
    node[(bit // 8) % 32] ^= 1 << (bit % 8)
    changed = list(proof)
    changed[at % len(proof)] = bytes(node)
    return changed


sizes_and_batches = st.integers(min_value=2, max_value=3000).flatmap(
    lambda n: st.tuples(st.just(n), st.lists(st.integers(min_value=1, max_value=700), max_size=6))
)


@settings(max_examples=40, deadline=None)
@given(
    shape=sizes_and_batches,
    pick=st.floats(min_value=0, max_value=1, allow_nan=False),
    at=st.integers(min_value=0, max_value=64),
    bit=st.integers(min_value=0, max_value=255),
)
def test_random_inclusion_proofs_verify_and_any_flipped_byte_fails(shape, pick, at, bit):
    n, batches = shape
    leaves = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(n)]
    tree = _tree(leaves, batches)
    index = min(int(pick * n), n - 1)
    root = tree.root(n)
    proof = tree.inclusion(index, n)
    verify_inclusion(index, n, leaf_hash(leaves[index]), proof, root)
    with pytest.raises(VerificationError):
        verify_inclusion(index, n, leaf_hash(leaves[index]), _flip(proof, at, bit), root)
    with pytest.raises(VerificationError):
        verify_inclusion(index, n, leaf_hash(_flip([leaves[index]], 0, bit)[0]), proof, root)
    with pytest.raises(VerificationError):
        verify_inclusion(index, n, leaf_hash(leaves[index]), proof, _flip([root], 0, bit)[0])
    with pytest.raises(VerificationError):  # a proof for one leaf proves no other
        verify_inclusion((index + 1) % n, n, leaf_hash(leaves[index]), proof, root)


@settings(max_examples=40, deadline=None)
@given(
    shape=sizes_and_batches,
    pick=st.floats(min_value=0, max_value=1, allow_nan=False),
    at=st.integers(min_value=0, max_value=64),
    bit=st.integers(min_value=0, max_value=255),
)
def test_random_consistency_proofs_verify_and_any_flipped_byte_fails(shape, pick, at, bit):
    n, batches = shape
    leaves = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(n)]
    tree = _tree(leaves, batches)
    old = max(1, min(int(pick * n), n - 1))
    proof = tree.consistency(old, n)
    root1, root2 = tree.root(old), tree.root(n)
    verify_consistency(old, n, root1, root2, proof)
    with pytest.raises(VerificationError):
        verify_consistency(old, n, root1, root2, _flip(proof, at, bit))
    with pytest.raises(VerificationError):
        verify_consistency(old, n, _flip([root1], 0, bit)[0], root2, proof)
    with pytest.raises(VerificationError):
        verify_consistency(old, n, root1, _flip([root2], 0, bit)[0], proof)


def test_a_rewritten_old_leaf_breaks_consistency_with_the_old_root():
    leaves = [bytes([i]) * 32 for i in range(100)]
    before = _tree(leaves[:60])
    rewritten = [*leaves[:17], b"\xff" * 32, *leaves[18:]]
    after = _tree(rewritten)
    with pytest.raises(VerificationError):
        verify_consistency(60, 100, before.root(60), after.root(100), after.consistency(60, 100))


def test_proofs_read_few_nodes_at_a_million_leaves():
    # O(log n) stored nodes, whatever the size: what keeps a proof cheap at 10^6 entries.
    n = 1_000_000
    assert (
        max(len(merkle.nodes_of(merkle.inclusion_ranges(i, n))) for i in (0, 777_777, n - 1)) <= 40
    )
    assert len(merkle.nodes_of(merkle.consistency_ranges(999_999, n))) <= 40
