"""RFC 9162 Merkle tree hashing and proofs (section 2.1), independent of storage.

Hashes are SHA-256 with the domain-separation prefixes 0x00 (leaf) and 0x01 (node). Proofs
are described as lists of leaf ranges [start, end) whose Merkle tree hashes form the proof;
a store answers them from its perfect (complete) subtrees, see `perfect_blocks`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

# (level, index): the perfect subtree over leaves [index << level, (index + 1) << level).
NodeId = tuple[int, int]


class ProofError(ValueError):
    """A proof that does not verify, or arguments no proof can exist for."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(size: int) -> int:
    """The largest power of two strictly smaller than size (size >= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def root_of(hashes: Sequence[bytes]) -> bytes:
    """MTH over leaf hashes, by the definition (recursive); for tests and small trees."""
    if not hashes:
        return EMPTY_ROOT
    if len(hashes) == 1:
        return hashes[0]
    k = _split(len(hashes))
    return node_hash(root_of(hashes[:k]), root_of(hashes[k:]))


class CompactRange:
    """The perfect subtree roots of leaves [0, size): append in O(1) amortised, root in
    O(log size). Lets a verifier stream a million leaves in constant memory."""

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[bytes] = []

    def append(self, leaf: bytes) -> None:
        node = leaf
        size = self.size
        while size & 1:
            node = node_hash(self._stack.pop(), node)
            size >>= 1
        self._stack.append(node)
        self.size += 1

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        node = self._stack[-1]
        for left in reversed(self._stack[:-1]):
            node = node_hash(left, node)
        return node


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """PATH(index, D[0:size]) as leaf ranges, leaf side first (RFC 9162 2.1.3.1)."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    ranges: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index - start < k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()
    return ranges


def consistency_ranges(first: int, second: int) -> list[tuple[int, int]]:
    """PROOF(first, D[0:second]) as leaf ranges (RFC 9162 2.1.4.1)."""
    if not 0 < first <= second:
        raise ProofError(f"no consistency proof from size {first} to size {second}")
    ranges: list[tuple[int, int]] = []
    start, end = 0, second
    while first != end:
        k = _split(end - start)
        if first - start <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    if start != 0:  # b is false once the recursion went right: include this subtree
        ranges.append((start, end))
    ranges.reverse()
    return ranges


def perfect_blocks(start: int, end: int) -> list[NodeId]:
    """[start, end) as perfect subtrees of decreasing size, left to right. For the ranges
    proofs use (start aligned to the range's top split), folding them right to left gives
    MTH(D[start:end])."""
    blocks: list[NodeId] = []
    while start < end:
        level = (end - start).bit_length() - 1
        while start % (1 << level):
            level -= 1
        blocks.append((level, start >> level))
        start += 1 << level
    return blocks


def fold_blocks(blocks: Sequence[NodeId], nodes: Mapping[NodeId, bytes]) -> bytes:
    node = nodes[blocks[-1]]
    for block in reversed(blocks[:-1]):
        node = node_hash(nodes[block], node)
    return node


def nodes_needed(ranges: Iterable[tuple[int, int]]) -> set[NodeId]:
    needed: set[NodeId] = set()
    for start, end in ranges:
        needed.update(perfect_blocks(start, end))
    return needed


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root an inclusion proof implies (RFC 9162 2.1.3.2, step by step)."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    _check_hashes([leaf, *proof])
    fn, sn, node = index, size - 1, leaf
    for sibling in proof:
        if sn == 0:
            raise ProofError("inclusion proof is longer than the path")
        if fn & 1 or fn == sn:
            node = node_hash(sibling, node)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            node = node_hash(node, sibling)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("inclusion proof is shorter than the path")
    return node


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    if root_from_inclusion(index, size, leaf, proof) != root:
        raise ProofError("inclusion proof does not lead to the root")


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 2.1.4.2; raises ProofError unless the proof shows second extends first."""
    _check_hashes(proof)
    if not 0 <= first <= second:
        raise ProofError(f"no consistency proof from size {first} to size {second}")
    if first == second:
        _check_same_tree(first, first_root, second_root, proof)
        return
    if first == 0:
        raise ProofError("no consistency proof from an empty tree")
    if not proof:
        raise ProofError("empty consistency proof")
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fr, sr = _walk_consistency(first, second, path)
    if fr != first_root:
        raise ProofError("consistency proof does not lead to the first root")
    if sr != second_root:
        raise ProofError("consistency proof does not lead to the second root")


def _check_same_tree(size: int, first_root: bytes, second_root: bytes,
                     proof: Sequence[bytes]) -> None:
    if proof:
        raise ProofError("sizes are equal but the proof is not empty")
    if first_root != second_root:
        raise ProofError("sizes are equal but the roots differ")
    if size == 0 and first_root != EMPTY_ROOT:
        raise ProofError("an empty tree has another root")


def _walk_consistency(first: int, second: int, path: Sequence[bytes]) -> tuple[bytes, bytes]:
    """Steps 3-7 of RFC 9162 2.1.4.2: the two roots the proof implies."""
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("consistency proof is too short")
    return fr, sr


def _check_hashes(hashes: Iterable[bytes]) -> None:
    for value in hashes:
        if len(value) != HASH_SIZE:
            raise ProofError(f"a hash of {len(value)} bytes, want {HASH_SIZE}")


def inclusion_proof(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """An inclusion proof over in-memory leaf hashes (tests, bundles of small trees)."""
    return [root_of(leaves[a:b]) for a, b in inclusion_ranges(index, len(leaves))]


def consistency_proof(first: int, leaves: Sequence[bytes]) -> list[bytes]:
    return [root_of(leaves[a:b]) for a, b in consistency_ranges(first, len(leaves))]
