"""Bucketing: the spec's test vectors, and the guarantees bucket() documents."""

from __future__ import annotations

import json
from importlib import resources

import mmh3
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from tests.targeting.murmur3_reference import murmur3_32, reference_bucket_hash
from trustramp.targeting import bucket, bucket_hash, in_rollout

N_IDS = 100_000
IDS = [f"user-{i}" for i in range(N_IDS)]
ids_strategy = st.text(min_size=1, max_size=40)
feature_strategy = st.text(min_size=1, max_size=30).filter(lambda s: "\x1f" not in s)
ALPHA = 1e-3  # the hash is deterministic, so these p-values are fixed numbers, not flaky


def _vectors() -> list[dict[str, object]]:
    text = resources.files("trustramp.targeting").joinpath("vectors/bucketing.json").read_text(
        encoding="utf-8")
    vectors: list[dict[str, object]] = json.loads(text)["vectors"]
    return vectors


def _buckets(feature: str) -> np.ndarray:
    return np.fromiter((bucket(feature, u) for u in IDS), dtype=float, count=N_IDS)


def test_reference_hash_matches_published_murmur3_values() -> None:
    # Published MurmurHash3_x86_32 results, independent of this project.
    assert murmur3_32(b"", 0) == 0
    assert murmur3_32(b"", 1) == 0x514E28B7
    assert murmur3_32(b"hello", 0) == 0x248BFA47
    assert murmur3_32(b"The quick brown fox jumps over the lazy dog", 0) == 0x2E4FF723


@pytest.mark.parametrize("vector", _vectors(), ids=lambda v: f"{v['feature_key']}/{v['unit_id']}")
def test_shipped_vectors(vector: dict[str, object]) -> None:
    feature, unit = str(vector["feature_key"]), str(vector["unit_id"])
    assert reference_bucket_hash(feature, unit) == vector["hash"]
    assert bucket_hash(feature, unit) == vector["hash"]
    assert bucket(feature, unit) == vector["bucket"]


def test_vectors_cover_every_tail_length_and_non_ascii() -> None:
    vectors = _vectors()
    tails = {len((f"{v['feature_key']}\x1f{v['unit_id']}").encode()) % 4 for v in vectors}
    assert tails == {0, 1, 2, 3}
    assert any(not str(v["unit_id"]).isascii() for v in vectors)


@settings(max_examples=200, deadline=None)
@given(feature=feature_strategy, unit=ids_strategy)
def test_mmh3_agrees_with_reference_on_generated_ids(feature: str, unit: str) -> None:
    expected = reference_bucket_hash(feature, unit)
    assert bucket_hash(feature, unit) == expected
    assert bucket(feature, unit) == expected / 2**32
    assert mmh3.hash((feature + "\x1f" + unit).encode(), 0, signed=False) == expected
    # mmh3 hashes a str as its UTF-8 bytes; the decision engine relies on that when it
    # inlines the hash without encoding.
    assert mmh3.hash(feature + "\x1f" + unit, 0, False) == expected


@settings(max_examples=200, deadline=None)
@given(feature=feature_strategy, unit=ids_strategy)
def test_sticky_and_in_unit_interval(feature: str, unit: str) -> None:
    first = bucket(feature, unit)
    assert 0.0 <= first < 1.0
    assert bucket(feature, unit) == first
    assert bucket(str(feature), "".join(unit)) == first  # equal strings, other objects


@settings(max_examples=300, deadline=None)
@given(feature=feature_strategy, unit=ids_strategy,
       p=st.floats(0, 100), q=st.floats(0, 100))
def test_monotone_expansion(feature: str, unit: str, p: float, q: float) -> None:
    low, high = min(p, q), max(p, q)
    if in_rollout(feature, unit, low):
        assert in_rollout(feature, unit, high)


def test_raising_the_percent_only_adds_users() -> None:
    buckets = _buckets("portfolio-advice")
    previous = np.zeros(N_IDS, dtype=bool)
    for percent in (0.01, 0.1, 1.0, 5.0, 25.0, 50.0, 100.0):
        inside = np.array([in_rollout("portfolio-advice", u, percent) for u in IDS[:2000]])
        assert np.array_equal(inside, buckets[:2000] < percent / 100)
        now = buckets < percent / 100
        assert not np.any(previous & ~now)
        # The share admitted is the percent, within a binomial test at 1/10,000 resolution.
        assert stats.binomtest(int(now.sum()), N_IDS, percent / 100).pvalue > ALPHA
        previous = now
    assert previous.all()
    assert not any(in_rollout("portfolio-advice", u, 0.0) for u in IDS[:2000])


def _uniformity_pvalues(buckets: np.ndarray) -> tuple[float, float]:
    counts = np.bincount((buckets * 100).astype(int), minlength=100)
    chi2 = stats.chisquare(counts).pvalue
    ks = stats.kstest(buckets, "uniform").pvalue
    return float(chi2), float(ks)


def test_uniform_chi_square_and_ks() -> None:
    for feature in ("summarize", "portfolio-advice"):
        chi2, ks = _uniformity_pvalues(_buckets(feature))
        assert chi2 > ALPHA
        assert ks > ALPHA


def test_uniformity_check_rejects_a_skewed_bucketing() -> None:
    # The same check on a plausible mistake (bucket = sqrt of a uniform) must fail,
    # or the test above would prove nothing.
    chi2, ks = _uniformity_pvalues(np.sqrt(_buckets("summarize")))
    assert chi2 < 1e-6
    assert ks < 1e-6


def _independence_pvalue(a: np.ndarray, b: np.ndarray) -> float:
    table = np.zeros((10, 10))
    np.add.at(table, ((a * 10).astype(int), (b * 10).astype(int)), 1)
    return float(stats.chi2_contingency(table).pvalue)


def test_buckets_of_two_features_are_independent() -> None:
    a, b = _buckets("summarize"), _buckets("portfolio-advice")
    assert _independence_pvalue(a, b) > ALPHA
    # Under independence Spearman's rho has standard error 1/sqrt(n): allow 4 of them.
    assert abs(stats.spearmanr(a, b).statistic) < 4 / np.sqrt(N_IDS)
    # Users in feature A's 5% are in feature B's 5% at the base rate, not more.
    both = np.sum((a < 0.05) & (b < 0.05))
    assert stats.binomtest(int(both), int(np.sum(a < 0.05)), 0.05).pvalue > ALPHA


def test_independence_check_rejects_a_shared_hash() -> None:
    # Hashing the unit id alone (no feature key) puts everyone in the same place for
    # every feature; the independence check must catch that.
    shared = np.array([mmh3.hash(u.encode(), 0, signed=False) / 2**32 for u in IDS])
    assert _independence_pvalue(shared, shared) < 1e-6


@pytest.mark.parametrize(
    ("feature", "unit", "where"),
    [("", "u", "feature_key"), ("a\x1fb", "u", "feature_key"), ("f", "", "unit_id"),
     ("f", 42, "unit_id"), (None, "u", "feature_key")],
)
def test_bad_input_names_the_argument(feature: object, unit: object, where: str) -> None:
    with pytest.raises(ValueError, match=rf"^{where}:"):
        bucket(feature, unit)  # type: ignore[arg-type]


@pytest.mark.parametrize("percent", [-0.01, 100.5, float("nan"), True, "5"])
def test_bad_percent(percent: object) -> None:
    with pytest.raises(ValueError, match=r"^percent:"):
        in_rollout("f", "u", percent)  # type: ignore[arg-type]
