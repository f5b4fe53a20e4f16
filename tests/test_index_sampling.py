"""SampledIndex: exact lookups for every base, a bound that holds for all keys, the trade-off table."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.index import PGMIndex, SampledIndex, sampling_tradeoff

uint64_keys = st.lists(st.one_of(st.integers(0, 2**64 - 1), st.integers(0, 50),
                                 st.sampled_from([0, 2**64 - 1, 2**64 - 2, 2**63])),
                       max_size=300)


@settings(max_examples=120, deadline=None)
@given(values=uint64_keys, queries=uint64_keys, rate=st.floats(0.01, 1.0),
       base=st.sampled_from(["pgm", "rmi"]), seed=st.integers(0, 100))
def test_sampled_lower_bound_matches_searchsorted(values, queries, rate, base, seed):
    keys = np.sort(np.array(values, dtype=np.uint64))
    probe = np.array(queries + values[:20], dtype=np.uint64)
    index = SampledIndex(keys, base=base, sample_rate=rate, seed=seed)
    np.testing.assert_array_equal(index.lower_bound(probe), np.searchsorted(keys, probe))
    assert index.contains(probe).tolist() == np.isin(probe, keys).tolist()


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.integers(-2**63, 2**63 - 1), max_size=200),
       floats=st.lists(st.floats(allow_nan=False, width=64), max_size=200))
def test_sampled_int64_and_float64_exact(values, floats):
    keys = np.sort(np.array(values, dtype=np.int64))
    index = SampledIndex(keys, sample_rate=0.2, seed=1, epsilon=2)
    np.testing.assert_array_equal(index.lower_bound(keys), np.searchsorted(keys, keys))
    float_keys = np.sort(np.array(floats, dtype=np.float64))
    probe = np.r_[float_keys, -np.inf, np.inf, 0.0]
    float_index = SampledIndex(float_keys, base="rmi", sample_rate=0.3, seed=2)
    np.testing.assert_array_equal(float_index.lower_bound(probe),
                                  np.searchsorted(float_keys, probe))


@pytest.mark.parametrize("rate", [0.5, 0.05, 0.005])
def test_window_holds_for_every_key(rate):
    rng = np.random.default_rng(0)
    keys = np.sort((rng.lognormal(0, 2, size=200_000) * 1e9).astype(np.uint64))
    index = SampledIndex(keys, sample_rate=rate, seed=0, epsilon=16)
    _, lo, hi = index.predict(keys)
    truth = np.searchsorted(keys, keys)
    assert np.all(lo <= truth)
    assert np.all(truth < hi)
    # Every model's cone contains the keys it covers.
    lines = index.models()
    model = np.searchsorted(lines.first_keys, keys, side="right") - 1
    offset = (keys - lines.first_keys[model]).astype(np.float64)
    center = np.floor(lines.intercepts[model] + lines.slopes[model] * offset).astype(np.int64)
    assert np.all(center - truth <= lines.error_below[model])
    assert np.all(truth - center <= lines.error_above[model])


def test_error_grows_as_sample_shrinks():
    rng = np.random.default_rng(1)
    keys = np.sort(rng.integers(0, 2**50, size=300_000, dtype=np.uint64))
    errors = [SampledIndex(keys, sample_rate=rate, seed=0).stats()["mean_abs_error"]
              for rate in (0.3, 0.03, 0.003)]
    assert errors[0] < errors[1] < errors[2]
    assert SampledIndex(keys, sample_rate=1.0).stats()["max_abs_error"] == 0


def test_sampled_is_reproducible_by_seed():
    keys = np.arange(0, 50_000, 3, dtype=np.uint64) ** 2
    first = SampledIndex(keys, sample_rate=0.01, seed=7)
    second = SampledIndex(keys, sample_rate=0.01, seed=7)
    other = SampledIndex(keys, sample_rate=0.01, seed=8)
    np.testing.assert_array_equal(first.landmark_keys, second.landmark_keys)
    assert not np.array_equal(first.landmark_keys, other.landmark_keys)


def test_tradeoff_table_compares_with_full_build():
    keys = np.sort(np.random.default_rng(2).integers(0, 2**40, size=100_000, dtype=np.uint64))
    table = sampling_tradeoff(keys, sample_rates=(0.1, 0.01), epsilon=32)
    assert table["sample_rate"].tolist() == ["full", 0.1, 0.01]
    assert table["landmarks"].tolist()[0] == 100_000
    assert table["max_abs_error"].iloc[0] == pytest.approx(
        PGMIndex(keys, epsilon=32).stats()["max_abs_error"])
    assert (table["build_seconds"] > 0).all()


def test_sampled_rejects_bad_arguments():
    keys = np.arange(10, dtype=np.uint64)
    with pytest.raises(ValueError, match="sample_rate must be > 0"):
        SampledIndex(keys, sample_rate=0.0)
    with pytest.raises(ValueError, match="sample_rate must be <= 1"):
        SampledIndex(keys, sample_rate=1.5)
    with pytest.raises(ValueError, match="base must be one of"):
        SampledIndex(keys, base="btree")
    with pytest.raises(ValueError, match="epsilon must be >= 1"):
        SampledIndex(keys, epsilon=0)
    with pytest.raises(ValueError, match="sample_rates is empty"):
        sampling_tradeoff(keys, sample_rates=())


def test_sampled_empty_and_single_key():
    empty = SampledIndex(np.array([], dtype=np.uint64))
    assert empty.lower_bound(np.array([3], dtype=np.uint64)).tolist() == [0]
    assert len(empty.models()) == 0
    single = SampledIndex(np.array([9, 9], dtype=np.uint64))
    assert single.lower_bound(np.array([0, 9, 10], dtype=np.uint64)).tolist() == [0, 0, 2]


def test_tradeoff_rejects_a_single_rate():
    keys = np.arange(100, dtype=np.uint64)
    with pytest.raises(TypeError, match="sequence of rates"):
        sampling_tradeoff(keys, sample_rates=0.1)
