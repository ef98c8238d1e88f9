"""Sticky bucketing: a user's fixed position in [0, 1) for one feature.

The hash, exactly (any implementation that follows these lines gives the
same buckets; ``vectors/bucketing.json`` holds test vectors):

1. ``key = feature_key + "\\x1f" + unit_id`` (U+001F, the ASCII unit separator;
   a feature key may not contain it, so the split is unambiguous);
2. ``h = MurmurHash3_x86_32(UTF-8 bytes of key, seed=0)`` as an unsigned
   32-bit integer (``mmh3.hash(key_bytes, 0, signed=False)``);
3. ``bucket = h / 2**32``, a float in [0, 1) with resolution 2**-32.

A phase's audience is ``bucket < percent / 100``. The percent is not part of
the hash, so raising it only adds users; the feature key is, so the buckets of
two features are independent.
"""

from __future__ import annotations

import mmh3

_murmur3 = mmh3.hash
SEPARATOR = "\x1f"
_SCALE = 2.0**-32


def bucket_hash(feature_key: str, unit_id: str) -> int:
    """The raw unsigned 32-bit MurmurHash3 behind :func:`bucket` (for test vectors).

    >>> bucket_hash("summarize", "user-1") == round(bucket("summarize", "user-1") * 2**32)
    True
    """
    _check(feature_key, unit_id)
    value: int = mmh3.hash((feature_key + SEPARATOR + unit_id).encode("utf-8"), 0, signed=False)
    return value


def bucket(feature_key: str, unit_id: str) -> float:
    """The unit's sticky position in [0, 1) for ``feature_key``.

    Same inputs, same bucket, on every machine and Python version.

    >>> b = bucket("portfolio-advice", "user-42")
    >>> 0.0 <= b < 1.0 and b == bucket("portfolio-advice", "user-42")
    True
    """
    try:
        # The hot path inlines bucket_hash; invalid input is sorted out below.
        if feature_key and unit_id and SEPARATOR not in feature_key:
            value: int = _murmur3(
                (feature_key + SEPARATOR + unit_id).encode("utf-8"), 0, signed=False)
            return value * _SCALE
    except TypeError:
        pass
    return bucket_hash(feature_key, unit_id) * _SCALE


def in_rollout(feature_key: str, unit_id: str, percent: float) -> bool:
    """Whether the unit is inside a ``percent`` (0 to 100) rollout of the feature.

    Monotone: a unit in at ``percent`` is in at every larger percent.

    >>> in_rollout("f", "u", 100.0), in_rollout("f", "u", 0.0)
    (True, False)
    """
    if isinstance(percent, bool) or not isinstance(percent, int | float) or not (
            0.0 <= percent <= 100.0):
        raise ValueError(f"percent: expected a number from 0 to 100, got {percent!r}")
    return bucket(feature_key, unit_id) < percent / 100.0


def _check(feature_key: str, unit_id: str) -> None:
    if not isinstance(feature_key, str) or not feature_key:
        raise ValueError(f"feature_key: expected a non-empty string, got {feature_key!r}")
    if SEPARATOR in feature_key:
        raise ValueError(f"feature_key: must not contain the separator U+001F, got "
                         f"{feature_key!r}")
    if not isinstance(unit_id, str) or not unit_id:
        raise ValueError(f"unit_id: expected a non-empty string (the user's id), got "
                         f"{unit_id!r}")
