"""The log's side of RFC 9162 §2.1: which stored nodes a root or a proof is made of.

The tree is stored as its *perfect* subtrees: node (level, index) is the hash of leaves
[index·2^level, (index+1)·2^level), written once when its last leaf arrives and never
changed (an append-only tree only ever completes nodes). Any RFC 9162 subtree D[a:b] is a
right-fold of at most log2(b−a) of them, so a root or a proof reads O(log n) rows, whatever
the size of the tree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from app.transparency.verify import leaf_hash, node_hash

Node = tuple[int, int]  # (level, index)
Range = tuple[int, int]  # leaves [start, end)
EMPTY_ROOT = bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")


def _largest_power_below(n: int) -> int:
    """The largest power of two strictly smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def perfect_nodes(start: int, end: int) -> list[Node]:
    """The perfect subtrees that tile [start, end), left to right (each as large as alignment allows)."""
    nodes = []
    while start < end:
        level = (start & -start).bit_length() - 1 if start else (end - start).bit_length() - 1
        while start + (1 << level) > end:
            level -= 1
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def subtree_hash(span: Range, nodes: Mapping[Node, bytes]) -> bytes:
    """MTH(D[start:end]) from the stored perfect nodes that tile it."""
    start, end = span
    if start == end:
        return EMPTY_ROOT
    hashes = [nodes[node] for node in perfect_nodes(start, end)]
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """PATH(index, D[0:size]) of RFC 9162 §2.1.3.1, as the subtrees whose hashes it lists."""
    ranges: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = _largest_power_below(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()  # the path runs from the leaf up
    return ranges


def consistency_ranges(old: int, new: int) -> list[Range]:
    """PROOF(old, D[0:new]) of RFC 9162 §2.1.4.1 (0 < old ≤ new), as subtrees."""
    ranges: list[Range] = []
    start, end, m, complete = 0, new, old, True
    while m != end - start:
        k = _largest_power_below(end - start)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start, m, complete = start + k, m - k, False
    if not complete:
        ranges.append((start, end))
    ranges.reverse()
    return ranges


def nodes_of(ranges: Iterable[Range]) -> set[Node]:
    return {node for start, end in ranges for node in perfect_nodes(start, end)}


def hashes_of(ranges: Sequence[Range], nodes: Mapping[Node, bytes]) -> list[bytes]:
    return [subtree_hash(span, nodes) for span in ranges]


def extend(
    size: int, leaves: Sequence[bytes], fetch: Callable[[set[Node]], Mapping[Node, bytes]]
) -> dict[Node, bytes]:
    """The perfect nodes that appending `leaves` (raw, unhashed) to a tree of `size` completes.

    `fetch` reads already-stored nodes; at most one per level is needed (the left sibling
    of the first new node at that level)."""
    new = size + len(leaves)
    made: dict[Node, bytes] = {(0, size + i): leaf_hash(leaf) for i, leaf in enumerate(leaves)}
    needed: set[Node] = set()
    level = 1
    while new >> level > size >> level:
        first = size >> level
        if 2 * first < size >> (level - 1):
            needed.add((level - 1, 2 * first))
        level += 1
    known = dict(fetch(needed)) if needed else {}
    level = 1
    while new >> level > size >> level:
        for index in range(size >> level, new >> level):
            left, right = (level - 1, 2 * index), (level - 1, 2 * index + 1)
            made[(level, index)] = node_hash(
                made[left] if left in made else known[left], made[right]
            )
        level += 1
    return made
