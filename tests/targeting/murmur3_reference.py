"""A pure-Python MurmurHash3 x86 32-bit, written from the algorithm's description.

It is the independent computation behind ``vectors/bucketing.json``: the
vectors are produced with it (``python -m tests.targeting.make_bucketing_vectors``)
and the tests compare it with the ``mmh3`` C extension that ``bucket`` uses.
"""

from __future__ import annotations

_MASK = 0xFFFFFFFF
_C1 = 0xCC9E2D51
_C2 = 0x1B873593


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (32 - r))) & _MASK


def _scramble(k: int) -> int:
    k = (k * _C1) & _MASK
    k = _rotl(k, 15)
    return (k * _C2) & _MASK


def murmur3_32(data: bytes, seed: int = 0) -> int:
    """MurmurHash3_x86_32 of ``data`` as an unsigned 32-bit integer."""
    h = seed & _MASK
    blocks = len(data) // 4
    for i in range(blocks):
        k = int.from_bytes(data[4 * i: 4 * i + 4], "little")
        h ^= _scramble(k)
        h = _rotl(h, 13)
        h = (h * 5 + 0xE6546B64) & _MASK
    tail = data[4 * blocks:]
    if tail:
        # The 1-3 leftover bytes, little-endian, scrambled like a block but not mixed.
        h ^= _scramble(int.from_bytes(tail, "little"))
    h ^= len(data)
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _MASK
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _MASK
    h ^= h >> 16
    return h


def reference_bucket_hash(feature_key: str, unit_id: str) -> int:
    """The bucketing spec, step by step: key bytes, then MurmurHash3 with seed 0."""
    return murmur3_32((feature_key + "\x1f" + unit_id).encode("utf-8"), 0)
