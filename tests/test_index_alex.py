"""ALEXIndex: exact lower bounds under any insert sequence, expansions and splits, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.index import ALEXIndex

U64_MAX = 2**64 - 1
I64 = np.iinfo(np.int64)

uint64_values = st.lists(st.one_of(st.integers(0, U64_MAX), st.integers(0, 40),
                                   st.sampled_from([0, U64_MAX, U64_MAX - 1, 2**63])),
                         max_size=120)
int64_values = st.lists(st.one_of(st.integers(I64.min, I64.max), st.integers(-20, 20),
                                  st.sampled_from([I64.min, I64.max, -1, 0])),
                        max_size=120)
float64_values = st.lists(st.one_of(st.floats(allow_nan=False, allow_infinity=True, width=64),
                                    st.sampled_from([-np.inf, np.inf, 0.0, -0.0, 1.0])),
                          max_size=120)
node_sizes = st.sampled_from([2, 3, 8, 32])


def assert_matches_multiset(index, current, extra_queries):
    """Check lower_bound, contains and keys against numpy on the sorted multiset ``current``."""
    expected = np.sort(current)
    queries = np.concatenate([expected, extra_queries.astype(expected.dtype)])
    np.testing.assert_array_equal(index.lower_bound(queries), np.searchsorted(expected, queries))
    np.testing.assert_array_equal(index.contains(queries), np.isin(queries, expected))
    np.testing.assert_array_equal(index.keys, expected)


def run_insert_sequence(dtype, initial, batches, max_node_keys, extremes):
    keys = np.sort(np.array(initial, dtype=dtype))
    index = ALEXIndex(keys, max_node_keys=max_node_keys)
    current = keys
    assert_matches_multiset(index, current, extremes)
    for batch in batches:
        new = np.array(batch, dtype=dtype)
        index.insert(new)
        current = np.concatenate([current, new])
        assert_matches_multiset(index, current, np.concatenate([extremes, new]))
    stats = index.stats()
    assert sum(stats["data_node_keys"]) == current.size
    assert np.isfinite(stats["max_abs_error"])
    lines = index.models()
    assert len(lines) == sum(1 for count in stats["data_node_keys"] if count)
    assert np.all(lines.error_below >= 0)
    assert np.all(lines.error_above >= 0)
    assert np.all(np.isfinite(lines.intercepts))


@settings(max_examples=60, deadline=None)
@given(initial=uint64_values, batches=st.lists(uint64_values, max_size=5),
       max_node_keys=node_sizes)
def test_uint64_inserts_match_searchsorted(initial, batches, max_node_keys):
    extremes = np.array([0, 1, 2**63, U64_MAX - 1, U64_MAX], dtype=np.uint64)
    run_insert_sequence(np.uint64, initial, batches, max_node_keys, extremes)


@settings(max_examples=40, deadline=None)
@given(initial=int64_values, batches=st.lists(int64_values, max_size=5),
       max_node_keys=node_sizes)
def test_int64_inserts_match_searchsorted(initial, batches, max_node_keys):
    extremes = np.array([I64.min, I64.min + 1, -1, 0, I64.max], dtype=np.int64)
    run_insert_sequence(np.int64, initial, batches, max_node_keys, extremes)


@settings(max_examples=40, deadline=None)
@given(initial=float64_values, batches=st.lists(float64_values, max_size=5),
       max_node_keys=node_sizes)
def test_float64_inserts_match_searchsorted(initial, batches, max_node_keys):
    extremes = np.array([-np.inf, -1e308, -0.0, 0.5, 1e308, np.inf])
    run_insert_sequence(np.float64, initial, batches, max_node_keys, extremes)


@pytest.mark.parametrize("direction", ["ascending", "descending"])
def test_sequential_inserts_expand_and_split(direction):
    rng = np.random.default_rng(7)
    initial = np.sort(rng.integers(10**6, 2 * 10**6, size=1000, dtype=np.uint64))
    if direction == "ascending":
        stream = np.arange(2 * 10**6, 2 * 10**6 + 20_000, dtype=np.uint64)
    else:
        stream = np.arange(10**6 - 1, 10**6 - 20_001, -1, dtype=np.uint64)
    index = ALEXIndex(initial, max_node_keys=256)
    for chunk in np.array_split(stream, 100):
        index.insert(chunk)
    stats = index.stats()
    assert stats["expansions"] > 0
    assert stats["splits"] > 10
    assert stats["inner_extensions"] > 0
    assert max(stats["data_node_keys"]) <= 256
    expected = np.sort(np.concatenate([initial, stream]))
    queries = np.concatenate([expected, rng.integers(0, 3 * 10**6, size=2000, dtype=np.uint64)])
    np.testing.assert_array_equal(index.lower_bound(queries), np.searchsorted(expected, queries))


def test_dense_cluster_splits_downward():
    initial = np.linspace(0, 2**40, 500).astype(np.uint64)
    index = ALEXIndex(initial, max_node_keys=64)
    cluster = np.uint64(2**39) + np.arange(5000, dtype=np.uint64)
    index.insert(cluster[::-1])
    stats = index.stats()
    assert stats["splits_downward"] > 0
    assert stats["height"] > 2
    expected = np.sort(np.concatenate([initial, cluster]))
    np.testing.assert_array_equal(index.lower_bound(expected), np.searchsorted(expected, expected))


def test_equal_keys_expand_past_max_node_keys():
    index = ALEXIndex(np.array([1, 9], dtype=np.uint64), max_node_keys=16)
    index.insert(np.full(500, 5, dtype=np.uint64))
    stats = index.stats()
    assert max(stats["data_node_keys"]) >= 500
    queries = np.array([0, 1, 4, 5, 6, 9, 10], dtype=np.uint64)
    assert index.lower_bound(queries).tolist() == [0, 0, 1, 1, 501, 501, 502]


def test_scalar_and_python_int_inserts_are_exact():
    index = ALEXIndex(np.array([], dtype=np.uint64))
    index.insert(np.uint64(U64_MAX))
    index.insert(7)
    index.insert([0, U64_MAX - 1])          # numpy alone would make this list float64
    assert index.keys.tolist() == [0, 7, U64_MAX - 1, U64_MAX]
    assert index.lower_bound([U64_MAX - 1, U64_MAX, 2**70, -1]).tolist() == [2, 3, 4, 0]
    floats = ALEXIndex(np.array([0.5]))
    floats.insert([1, -3])
    assert floats.keys.tolist() == [-3.0, 0.5, 1.0]


def test_empty_index_and_empty_insert():
    index = ALEXIndex(np.array([], dtype=np.int64))
    assert index.lower_bound(np.array([I64.min, 0, I64.max])).tolist() == [0, 0, 0]
    assert index.contains(np.array([0])).tolist() == [False]
    index.insert(np.array([], dtype=np.int64))
    assert index.keys.size == 0
    assert index.trace(0).probes == ()
    stats = index.stats()
    assert stats["data_node_keys"] == [0]
    assert stats["fill_fraction"] == 0.0


def test_sort_option_and_unsorted_rejected():
    with pytest.raises(ValueError, match=r"keys\[2\] = 1 < keys\[1\] = 5"):
        ALEXIndex(np.array([0, 5, 1, 7], dtype=np.uint64))
    index = ALEXIndex(np.array([0, 5, 1, 7], dtype=np.uint64), sort=True)
    assert index.keys.tolist() == [0, 1, 5, 7]


@pytest.mark.parametrize(("keys", "bad", "error", "message"), [
    (np.array([1.0, 2.0]), np.array([3.0, np.nan]), ValueError, "NaN at position 1"),
    (np.array([1, 2], dtype=np.uint64), np.array([1.5]), TypeError, "got 1.5 at position 0"),
    (np.array([1, 2], dtype=np.uint64), np.array([-1]), ValueError, "-1 at position 0"),
    (np.array([1, 2], dtype=np.uint64), [5, 2**64], ValueError,
     "18446744073709551616 at position 1"),
    (np.array([1, 2], dtype=np.int64), np.array([2**63], dtype=np.uint64), ValueError,
     "9223372036854775808 at position 0"),
    (np.array([1, 2], dtype=np.uint64), np.zeros((2, 2), dtype=np.uint64), ValueError,
     r"shape \(2, 2\)"),
    (np.array([1.0]), [2**60 + 1], ValueError, "beyond 2\\*\\*53"),
    (np.array([1, 2], dtype=np.uint64), np.array([True]), TypeError, "True of dtype bool"),
    (np.array([1, 2], dtype=np.uint64), np.array(["a"]), TypeError, "'a' of dtype <U1"),
    (np.array([1, 2], dtype=np.uint64), [1, "a"], TypeError, "'a' of type str"),
])
def test_bad_insert_rejected_and_index_unchanged(keys, bad, error, message):
    index = ALEXIndex(keys, max_node_keys=4)
    with pytest.raises(error, match=message):
        index.insert(bad)
    np.testing.assert_array_equal(index.keys, keys)


def test_bad_arguments_rejected():
    keys = np.arange(10, dtype=np.uint64)
    with pytest.raises(ValueError, match="max_node_keys must be >= 2"):
        ALEXIndex(keys, max_node_keys=1)
    with pytest.raises(TypeError, match="max_node_keys must be an integer"):
        ALEXIndex(keys, max_node_keys=8.0)
    with pytest.raises(ValueError, match="lower < upper"):
        ALEXIndex(keys, density=(0.8, 0.6))
    with pytest.raises(ValueError, match=r"density\[1\] must be <= 1.0"):
        ALEXIndex(keys, density=(0.5, 1.5))
    with pytest.raises(ValueError, match=r"density\[0\] must be >= 0.05"):
        ALEXIndex(keys, density=(0.0, 0.5))
    with pytest.raises(TypeError, match="density must be a pair"):
        ALEXIndex(keys, density=0.7)
    with pytest.raises(ValueError, match="NaN at position 1"):
        ALEXIndex(np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match="trace takes one query, got 2"):
        ALEXIndex(keys).trace(np.array([1, 2], dtype=np.uint64))


def grown_index(seed=3, n=20_000, inserts=10_000):
    rng = np.random.default_rng(seed)
    keys = np.sort((rng.lognormal(0, 2, size=n) * 1e9).astype(np.uint64))
    index = ALEXIndex(keys, max_node_keys=256)
    new = (rng.lognormal(0, 2, size=inserts) * 1e9).astype(np.uint64)
    index.insert(new)
    return index, np.sort(np.concatenate([keys, new]))


def test_stats_are_consistent():
    index, expected = grown_index()
    stats = index.stats()
    assert sum(stats["data_node_keys"]) == expected.size
    assert len(stats["data_node_keys"]) == stats["data_nodes"]
    assert stats["splits"] == stats["splits_sideways"] + stats["splits_downward"]
    assert stats["splits"] > 0
    assert stats["expansions"] > 0
    assert stats["height"] >= 2
    assert 0.0 <= stats["mean_abs_error"] <= stats["max_abs_error"]
    assert 0.5 < stats["fill_fraction"] <= 0.8
    assert stats["size_bytes"] == index.size_bytes
    assert stats["size_bytes"] > 0


def test_predict_window_contains_lower_bound():
    index, expected = grown_index()
    rng = np.random.default_rng(0)
    queries = np.concatenate([expected, rng.integers(0, 2**45, size=5000, dtype=np.uint64)])
    predicted, lo, hi = index.predict(queries)
    truth = np.searchsorted(expected, queries)
    inside = (lo <= truth) & (truth < hi)
    assert np.all(inside | (truth == expected.size))
    assert np.all((predicted >= 0) & (predicted <= expected.size))


def test_models_cones_hold_for_every_key():
    rng = np.random.default_rng(5)
    keys = np.unique(rng.integers(0, 2**50, size=30_000, dtype=np.uint64))
    index = ALEXIndex(keys, max_node_keys=512)
    index.insert(np.setdiff1d(rng.integers(0, 2**50, size=5000, dtype=np.uint64), keys))
    expected = index.keys
    lines = index.models()
    assert len(lines) == sum(1 for count in index.stats()["data_node_keys"] if count)
    assert np.all(np.diff(lines.first_keys.astype(np.float64)) > 0)
    model = np.searchsorted(lines.first_keys, expected, side="right") - 1
    rank_low = np.searchsorted(expected, lines.first_keys)[model]
    rank_high = np.searchsorted(expected, lines.last_keys)[model]
    offsets = (expected - lines.first_keys[model]).astype(np.float64)
    predicted = np.clip(lines.intercepts[model] + lines.slopes[model] * offsets, rank_low,
                        rank_high)
    truth = np.arange(expected.size)
    assert np.all(truth >= predicted - lines.error_below[model] - 1e-9)
    assert np.all(truth <= predicted + lines.error_above[model] + 1e-9)


def test_trace_reads_the_slots_of_one_data_node():
    index, expected = grown_index()
    for query in (expected[0], expected[expected.size // 2], expected[-1] + np.uint64(1),
                  np.uint64(0)):
        trace = index.trace(query)
        assert trace.position == int(np.searchsorted(expected, query))
        assert not trace.fallback
        assert len(trace.probes) >= 1
        assert min(trace.probes) >= 0
        assert trace.lo <= trace.position
        assert trace.position < trace.hi or trace.position == expected.size
    assert index.trace(-5).position == 0
    assert index.trace(2**70).position == expected.size
