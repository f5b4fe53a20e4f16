"""FITingTree and RadixSpline: exact lower bounds, error bounds, inserts and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.index import FITingTree, RadixSpline

U64_MAX = np.iinfo(np.uint64).max
I64 = np.iinfo(np.int64)

uint64_keys = st.lists(st.one_of(st.integers(0, 2**64 - 1), st.integers(0, 50),
                                 st.sampled_from([0, 2**64 - 1, 2**64 - 2, 2**63])),
                       max_size=300)


def build_all(keys, epsilon):
    """Return both structures on ``keys``, RadixSpline with several radix table sizes."""
    return (FITingTree(keys, epsilon=epsilon), RadixSpline(keys, epsilon=epsilon, radix_bits=0),
            RadixSpline(keys, epsilon=epsilon, radix_bits=3), RadixSpline(keys, epsilon=epsilon))


def make_keys(distribution, size, seed):
    rng = np.random.default_rng(seed)
    if distribution == "uniform":
        keys = rng.integers(0, 2**63, size=size, dtype=np.uint64)
    elif distribution == "lognormal":
        keys = (rng.lognormal(0, 2, size=size) * 1e9).astype(np.uint64)
    else:
        centers = rng.integers(0, 2**60, size=50, dtype=np.uint64)
        keys = (np.repeat(centers, size // 50)
                + rng.integers(0, 10_000, size=size, dtype=np.uint64))
    return np.sort(keys)


@settings(max_examples=150, deadline=None)
@given(values=uint64_keys, queries=uint64_keys, epsilon=st.sampled_from([1, 2, 8, 64]))
def test_uint64_lower_bound_matches_searchsorted(values, queries, epsilon):
    keys = np.sort(np.array(values, dtype=np.uint64))
    probe = np.array(queries + values[:20], dtype=np.uint64)
    truth = np.searchsorted(keys, probe)
    for index in build_all(keys, epsilon):
        np.testing.assert_array_equal(index.lower_bound(probe), truth)
        assert index.contains(probe).tolist() == np.isin(probe, keys).tolist()


@settings(max_examples=100, deadline=None)
@given(values=st.lists(st.integers(I64.min, I64.max), max_size=200),
       queries=st.lists(st.integers(I64.min, I64.max), max_size=50))
def test_int64_lower_bound_matches_searchsorted(values, queries):
    keys = np.sort(np.array(values, dtype=np.int64))
    probe = np.array(queries + values[:10], dtype=np.int64)
    for index in build_all(keys, 4):
        np.testing.assert_array_equal(index.lower_bound(probe), np.searchsorted(keys, probe))
        assert index.contains(probe).tolist() == np.isin(probe, keys).tolist()


@settings(max_examples=100, deadline=None)
@given(values=st.lists(st.floats(allow_nan=False, allow_infinity=True, width=64), max_size=200),
       queries=st.lists(st.floats(allow_nan=False, allow_infinity=True, width=64), max_size=50))
def test_float64_lower_bound_matches_searchsorted(values, queries):
    keys = np.sort(np.array(values, dtype=np.float64))
    probe = np.array(queries + values[:10], dtype=np.float64)
    for index in build_all(keys, 4):
        np.testing.assert_array_equal(index.lower_bound(probe), np.searchsorted(keys, probe))
        assert index.contains(probe).tolist() == np.isin(probe, keys).tolist()


@pytest.mark.parametrize("structure", [FITingTree, RadixSpline])
@pytest.mark.parametrize("distribution", ["uniform", "lognormal", "clustered"])
@pytest.mark.parametrize("epsilon", [16, 64, 256])
def test_epsilon_holds_for_every_key(structure, distribution, epsilon):
    keys = make_keys(distribution, 100_000, epsilon)
    index = structure(keys, epsilon=epsilon)
    # Rounding of the float64 line parameters may add a few millionths.
    assert index.stats()["max_abs_error"] <= epsilon + 1e-3
    predicted, lo, hi = index.predict(keys)
    truth = np.searchsorted(keys, keys)
    assert np.all(lo <= truth)
    assert np.all(truth < hi)
    assert np.all(np.abs(predicted - truth) <= epsilon + 1)
    np.testing.assert_array_equal(index.lower_bound(keys), truth)


@pytest.mark.parametrize("structure", [FITingTree, RadixSpline])
def test_models_cones_contain_every_key(structure):
    keys = make_keys("lognormal", 20_000, 7)          # lognormal integers repeat often
    assert np.unique(keys).size < keys.size
    index = structure(keys, epsilon=16)
    lines = index.models()
    assert len(lines) > 1
    assert np.all(lines.last_keys[:-1] < lines.first_keys[1:])
    assert np.all(lines.first_keys <= lines.last_keys)

    unique = np.unique(keys)
    model = np.searchsorted(lines.first_keys, unique, side="right") - 1
    assert np.all(model >= 0)
    assert np.all(unique <= lines.last_keys[model])
    offsets = (unique - lines.first_keys[model]).astype(np.float64)
    line = lines.intercepts[model] + lines.slopes[model] * offsets
    truth = np.searchsorted(keys, unique)
    assert np.all(truth >= line - lines.error_below[model] - 1e-6)
    assert np.all(truth <= line + lines.error_above[model] + 1e-6)
    # The lines are the models the lookups use, which clamp at the next model's first position.
    end = np.append(lines.intercepts[1:], keys.size)[model]
    np.testing.assert_allclose(index.predict(unique)[0], np.minimum(line, end), rtol=0, atol=1e-6)


def test_extreme_keys_are_exact():
    keys = np.array([0, 0, 5, 2**64 - 2, 2**64 - 1, 2**64 - 1], dtype=np.uint64)
    queries = np.array([0, 1, 5, 6, 2**64 - 2, 2**64 - 1], dtype=np.uint64)
    for index in build_all(keys, 1):
        assert index.lower_bound(queries).tolist() == [0, 2, 2, 3, 3, 4]
        assert index.contains(queries).tolist() == [True, False, True, False, True, True]
        assert index.lower_bound([-1, 2**64]).tolist() == [0, 6]
        assert index.trace(2**64 - 1).position == 4


def test_empty_and_single_key():
    for index in build_all(np.array([], dtype=np.uint64), 4):
        assert index.lower_bound(np.array([0, U64_MAX], dtype=np.uint64)).tolist() == [0, 0]
        assert index.contains(np.array([7], dtype=np.uint64)).tolist() == [False]
        assert len(index.models()) == 0
        assert index.stats()["max_abs_error"] == 0.0
    for index in build_all(np.array([42], dtype=np.uint64), 4):
        assert index.lower_bound(np.array([0, 42, 43], dtype=np.uint64)).tolist() == [0, 0, 1]
        assert len(index.models()) == 1


def test_signed_zeros_and_infinities_are_exact():
    keys = np.array([-np.inf, -1e308, -0.0, 0.0, 0.0, 5e-324, 1e308, np.inf, np.inf])
    queries = np.array([-np.inf, -1e300, 0.0, -0.0, 1e-320, 2e308, 1e308, 7.0])
    for index in build_all(keys, 1):
        np.testing.assert_array_equal(index.lower_bound(queries), np.searchsorted(keys, queries))


def test_radix_table_size_follows_radix_bits():
    keys = make_keys("uniform", 10_000, 1)
    small = RadixSpline(keys, radix_bits=4).stats()
    large = RadixSpline(keys, radix_bits=12).stats()
    assert small["radix_table_entries"] == 2**4 + 1
    assert large["radix_table_entries"] == 2**12 + 1
    assert large["radix_shift"] == small["radix_shift"] - 8
    assert small["knots"] == large["knots"]
    narrow = RadixSpline(np.arange(100, 110, dtype=np.uint64), radix_bits=18).stats()
    assert narrow["radix_shift"] == 0
    assert narrow["radix_table_entries"] == 9 + 2


def test_float_keys_use_the_bit_pattern_radix():
    keys = np.sort(np.random.default_rng(2).lognormal(0, 5, size=5_000) * np.where(
        np.arange(5_000) % 2, 1.0, -1.0))
    index = RadixSpline(keys, epsilon=8, radix_bits=10)
    probe = np.concatenate([keys, keys * 1.5, [0.0, -0.0, np.inf, -np.inf]])
    np.testing.assert_array_equal(index.lower_bound(probe), np.searchsorted(keys, probe))
    predicted, lo, hi = index.predict(keys)
    truth = np.searchsorted(keys, keys)
    assert np.all(lo <= truth)
    assert np.all(truth < hi)


@settings(max_examples=60, deadline=None)
@given(initial=st.lists(st.integers(0, 1000), max_size=60),
       batches=st.lists(st.lists(st.one_of(st.integers(0, 1000), st.integers(0, 2**64 - 1)),
                                 max_size=20), max_size=8),
       buffer_size=st.sampled_from([1, 2, 4, 256]), epsilon=st.sampled_from([1, 4]))
def test_inserts_keep_lookups_exact(initial, batches, buffer_size, epsilon):
    keys = np.sort(np.array(initial, dtype=np.uint64))
    index = FITingTree(keys, epsilon=epsilon, buffer_size=buffer_size)
    probe = np.array(list(range(0, 1002, 7)) + [2**63, U64_MAX], dtype=np.uint64)
    everything = keys
    for batch in batches:
        index.insert(np.array(batch, dtype=np.uint64))
        everything = np.sort(np.concatenate([everything, np.array(batch, dtype=np.uint64)]))
        queries = np.concatenate([probe, everything])
        np.testing.assert_array_equal(index.lower_bound(queries),
                                      np.searchsorted(everything, queries))
        assert index.contains(queries).tolist() == np.isin(queries, everything).tolist()
        assert len(index) == everything.size
        np.testing.assert_array_equal(index.keys, everything)
        stats = index.stats()
        assert stats["segment_keys"] + stats["buffered_keys"] == everything.size
        assert stats["max_abs_error"] <= epsilon + 1e-6


def test_insert_merges_overflowing_buffer():
    keys = np.arange(0, 10_000, 10, dtype=np.uint64)        # one straight segment
    index = FITingTree(keys, epsilon=4, buffer_size=8)
    assert index.stats()["segments"] == 1

    index.insert(np.arange(1, 9, dtype=np.uint64))
    stats = index.stats()
    assert stats["buffered_keys"] == 8
    assert stats["merges"] == 0
    assert stats["segments"] == 1

    index.insert(np.array([9], dtype=np.uint64))             # the ninth key overflows
    stats = index.stats()
    assert stats["merges"] == 1
    assert stats["buffered_keys"] == 0
    assert stats["segment_keys"] == keys.size + 9
    assert stats["segments"] > 1                              # nine keys bend the line
    assert stats["max_abs_error"] <= 4 + 1e-6
    everything = np.sort(np.concatenate([keys, np.arange(1, 10, dtype=np.uint64)]))
    np.testing.assert_array_equal(index.lower_bound(everything), np.searchsorted(everything,
                                                                                 everything))


def test_insert_windows_contain_segment_keys():
    keys = make_keys("lognormal", 20_000, 3)
    index = FITingTree(keys, epsilon=16, buffer_size=10_000)
    inserted = np.random.default_rng(4).choice(keys, 500) + np.uint64(1)
    index.insert(inserted)
    assert index.stats()["buffered_keys"] == 500
    everything = np.sort(np.concatenate([keys, inserted]))
    shuffled = np.random.default_rng(5).permutation(keys)    # a large unsorted batch
    predicted, lo, hi = index.predict(shuffled)
    truth = np.searchsorted(everything, shuffled)
    assert np.all(lo <= truth)
    assert np.all(truth < hi)
    np.testing.assert_array_equal(index.lower_bound(shuffled), truth)
    assert index.contains(shuffled).all()
    lines = index.models()
    model = np.searchsorted(lines.first_keys, keys, side="right") - 1
    line = lines.intercepts[model] + lines.slopes[model] * (keys - lines.first_keys[model])
    truth = np.searchsorted(everything, keys)
    assert np.all(truth <= line + lines.error_above[model] + 1e-6)
    assert np.all(truth >= line - lines.error_below[model] - 1e-6)
    trace = index.trace(inserted[0])
    assert trace.position == np.searchsorted(everything, inserted[0])


def test_insert_into_empty_index():
    index = FITingTree(np.array([], dtype=np.int64), buffer_size=2)
    index.insert([5, -3])
    assert index.lower_bound([-10, -3, 0, 5, 6]).tolist() == [0, 0, 1, 1, 2]
    assert index.stats()["merges"] == 0
    index.insert([2**62])
    assert index.stats()["merges"] == 1
    assert index.lower_bound([-10, -3, 0, 5, 6, 2**62]).tolist() == [0, 0, 1, 1, 2, 2]
    assert index.keys.tolist() == [-3, 5, 2**62]
    index.insert([])
    assert len(index) == 3


def test_insert_rejects_keys_that_do_not_fit():
    index = FITingTree(np.arange(10, dtype=np.uint64))
    with pytest.raises(ValueError, match="key to insert -1 at position 0 does not fit uint64"):
        index.insert([-1, 3])
    with pytest.raises(TypeError, match="must be integers, got 1.5"):
        index.insert(np.array([1.5]))
    with pytest.raises(ValueError, match="1-D array"):
        index.insert(np.zeros((2, 2), dtype=np.uint64))
    signed = FITingTree(np.arange(10, dtype=np.int64))
    with pytest.raises(ValueError, match="does not fit int64"):
        signed.insert(np.array([2**63], dtype=np.uint64))
    floats = FITingTree(np.array([0.5, 1.5]))
    with pytest.raises(ValueError, match="NaN at position 1"):
        floats.insert(np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match="beyond 2\\*\\*53"):
        floats.insert(np.array([2**60], dtype=np.int64))
    floats.insert(np.array([1, 2], dtype=np.int64))
    assert floats.lower_bound(np.array([1.0, 1.75, 3.0])).tolist() == [1, 3, 4]
    assert len(index) == 10
    # Python integers on both sides of 2^63 stay exact (numpy alone would make them float64).
    index.insert([5, 2**63 + 5])
    assert index.lower_bound([2**63 + 5]).tolist() == [11]


@pytest.mark.parametrize("structure", [FITingTree, RadixSpline])
def test_bad_keys_rejected(structure):
    with pytest.raises(ValueError, match=r"keys\[2\] = 1 < keys\[1\] = 5"):
        structure(np.array([0, 5, 1, 7], dtype=np.uint64))
    sorted_index = structure(np.array([0, 5, 1, 7], dtype=np.uint64), sort=True)
    assert sorted_index.keys.tolist() == [0, 1, 5, 7]
    with pytest.raises(ValueError, match="NaN at position 1"):
        structure(np.array([0.0, np.nan, 2.0]))
    with pytest.raises(ValueError, match="1-D array"):
        structure(np.zeros((2, 2), dtype=np.uint64))
    with pytest.raises(ValueError, match="epsilon must be >= 1, got 0"):
        structure(np.arange(5), epsilon=0)
    with pytest.raises(TypeError, match="epsilon must be an integer, got 2.5"):
        structure(np.arange(5), epsilon=2.5)


def test_bad_arguments_rejected():
    with pytest.raises(ValueError, match="radix_bits must be <= 28, got 29"):
        RadixSpline(np.arange(5), radix_bits=29)
    with pytest.raises(ValueError, match="radix_bits must be >= 0, got -1"):
        RadixSpline(np.arange(5), radix_bits=-1)
    with pytest.raises(ValueError, match="buffer_size must be >= 1, got 0"):
        FITingTree(np.arange(5), buffer_size=0)
