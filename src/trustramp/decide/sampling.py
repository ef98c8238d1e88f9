"""Decision ids and the deterministic human-review sample.

A decision id is an event id (:func:`trustramp.events.new_event_id`):
``<16 random hex digits>-<16 hex digits of a counter>``, the prefix drawn once per process and
again in a forked child, so ids from different processes do not collide. That
costs about 0.15 µs where a ``uuid4`` per decision costs about 2 µs.

Review sampling hashes the decision id, so the same id always makes the same
choice (a replay of logged decisions reproduces which answers went to review):
an answer is sampled when ``murmur3_32(decision_id, seed=REVIEW_SEED) < rate * 2**32``
(unsigned 32-bit MurmurHash3 of the id's UTF-8 bytes, as ``mmh3.hash(id, seed,
signed=False)`` computes it).
"""

from __future__ import annotations

import mmh3

from trustramp.events import new_event_id

REVIEW_SEED = 0x7E1EA5ED
"""Seed of the review-sampling hash (fixed: changing it changes every replay)."""

_SPACE = 2**32

new_decision_id = new_event_id


def review_cut(rate: float) -> int:
    """The hash value below which an answer is sampled for review at ``rate``."""
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"review rate must be in [0, 1], got {rate!r}")
    return round(rate * _SPACE)


def review_hash(decision_id: str) -> int:
    """The unsigned 32-bit review-sampling hash of a decision id (its UTF-8 bytes).

    Hashing the bytes, not the str, matters: mmh3 crashes the process on a lone
    surrogate, which ``encode`` turns into a ValueError instead.
    """
    try:
        key = decision_id.encode()
    except UnicodeEncodeError:
        raise ValueError(f"decision_id must be valid Unicode text, got {decision_id!r}") from None
    return mmh3.hash(key, REVIEW_SEED, False)


def review_sampled(decision_id: str, rate: float) -> bool:
    """Whether the answer with this decision id goes to human review at ``rate``.

    Deterministic in the id: the same id and rate always give the same answer.
    Over many ids the sampled fraction is ``rate`` (the hash is uniform).

    >>> review_sampled("abc-1", 1.0), review_sampled("abc-1", 0.0)
    (True, False)
    >>> review_sampled("abc-1", 0.5) == review_sampled("abc-1", 0.5)
    True
    """
    return review_hash(decision_id) < review_cut(rate)
