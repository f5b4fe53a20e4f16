"""Sampling-based learning: fit any learned index on a sample, then bound the error on all keys.

Li, Chen, Ding, Zeng & Zhou, "A Pluggable Learned Index Method via Sampling
and Gap Insertion", arXiv 2101.00808, 2021, Section 4: an index learned from
a sample of the keys builds much faster and, for smooth key distributions,
predicts nearly as well. This module makes the idea exact for every structure
of this package:

1. Landmarks. Take a seeded random sample of the unique keys, always with the
   smallest and the largest, and record each landmark's true first position.
2. Inner index. Build the chosen structure (PGM, RMI, ...) on the landmarks
   only; it returns a query's exact rank ``r`` among them.
3. Restriction. A query between landmarks ``r - 1`` and ``r`` has its lower
   bound in ``(pos[r - 1], pos[r]]``, whatever the keys in between are.
4. Linearization. Inside that interval the position is interpolated linearly
   between the two landmarks. One sorted sweep over all keys measures the
   largest error below and above the line in every interval, so the
   last-mile window is guaranteed for every key.

Building costs one inner build on ``sample_rate * n`` keys plus that linear
sweep; :func:`sampling_tradeoff` measures the speedup and the error growth.
"""

from __future__ import annotations

import time
from typing import Any

import numba
import numpy as np
import pandas as pd

from workbench.core.seeding import make_rng
from workbench.core.validation import check_choice, check_float, check_int, check_seed
from workbench.index.base import LearnedIndex, ModelLines
from workbench.index.keys import check_keys
from workbench.index.kernels import first_positions, window_around, windowed_lower_bound
from workbench.index.pgm import model_space

SAMPLED_BASES = ("pgm", "rmi", "fiting_tree", "radix_spline")


def base_index_class(name: str) -> type:
    """Return the static index class called ``name`` (one of :data:`SAMPLED_BASES`)."""
    check_choice("base", name, SAMPLED_BASES)
    import workbench.index as index_package
    class_names = {"pgm": "PGMIndex", "rmi": "RMI", "fiting_tree": "FITingTree",
                   "radix_spline": "RadixSpline"}
    return getattr(index_package, class_names[name])


@numba.njit(cache=True)
def _interval_errors(unique, positions, landmark_keys, landmark_positions):
    """Return the largest error below and above the landmark line per interval, and the mean.

    Interval ``r`` (1 <= r < m) contains the keys strictly between landmarks
    ``r - 1`` and ``r``. All arrays are sorted, so one merge-like sweep
    suffices. The mean absolute error is over every unique key (landmarks
    count as exact).
    """
    m = landmark_keys.shape[0]
    below = np.zeros(m, dtype=np.int64)
    above = np.zeros(m, dtype=np.int64)
    total = 0.0
    r = 1
    for i in range(unique.shape[0]):
        key = unique[i]
        while r < m - 1 and landmark_keys[r] <= key:
            r += 1
        if key == landmark_keys[r] or key == landmark_keys[r - 1]:
            continue
        predicted = _interpolate(key, landmark_keys[r - 1], landmark_keys[r],
                                 landmark_positions[r - 1], landmark_positions[r])
        center = int(np.floor(predicted))
        below[r] = max(below[r], center - positions[i])
        above[r] = max(above[r], positions[i] - center)
        total += abs(predicted - positions[i])
    return below, above, total / max(unique.shape[0], 1)


@numba.njit(cache=True)
def _interpolate(key, left_key, right_key, left_position, right_position):
    """Position of ``key`` on the line through two landmarks (left_key < key < right_key)."""
    span = float(right_key - left_key)
    fraction = float(key - left_key) / span if span > 0 else 0.0
    if not fraction >= 0.0:
        fraction = 0.0
    elif fraction > 1.0:
        fraction = 1.0
    return left_position + fraction * (right_position - left_position)


@numba.njit(cache=True)
def _sampled_lookup(keys, model_queries, queries, ranks, landmark_keys, landmark_positions,
                    below, above, positions, predicted_out, lo_out, hi_out):
    n = keys.shape[0]
    m = landmark_keys.shape[0]
    for i in range(queries.shape[0]):
        r = ranks[i]
        if r == 0:                               # at or below the smallest key
            lo, hi, predicted = 0, 1, 0.0
        elif r == m:                             # above the largest key
            lo, hi, predicted = n, n, float(n)
        elif model_queries[i] == landmark_keys[r]:
            lo, hi, predicted = landmark_positions[r], landmark_positions[r] + 1, float(
                landmark_positions[r])
        else:
            predicted = _interpolate(model_queries[i], landmark_keys[r - 1], landmark_keys[r],
                                     landmark_positions[r - 1], landmark_positions[r])
            lo, hi = window_around(predicted, below[r], above[r], n)
            # Restriction: the lower bound lies in (pos[r - 1], pos[r]].
            lo = max(lo, landmark_positions[r - 1] + 1)
            hi = max(lo, min(hi, landmark_positions[r] + 1))
        predicted_out[i], lo_out[i], hi_out[i] = predicted, lo, hi
        positions[i] = windowed_lower_bound(keys, queries[i], lo, hi)


class SampledIndex(LearnedIndex):
    """A learned index fitted on a sample of the keys, with an error bound that holds for all.

    Parameters
    ----------
    keys : array-like, shape (n,)
        Sorted uint64, int64 or float64 keys; duplicates are allowed.
    base : {"pgm", "rmi", "fiting_tree", "radix_spline"}, default "pgm"
        The structure built on the sampled landmarks.
    sample_rate : float in (0, 1], default 0.01
        Fraction of the unique keys used as landmarks (at least 2).
    seed : int, optional
        Seed of the sample.
    sort : bool, default False
    **base_params
        Passed to the base structure, for example ``epsilon=64``.

    Attributes
    ----------
    inner : LearnedIndex
        The base structure built on the landmarks.
    landmark_keys : ndarray, shape (m,)
    landmark_positions : ndarray of int64, shape (m,)
        First position of each landmark in ``keys``.
    error_below, error_above : ndarray of int64, shape (m,)
        Largest error below and above the landmark line in the interval that
        ends at each landmark, over every key in it.
    build_seconds : float
        Time spent on the sample, the inner build and the error sweep.

    Example
    -------
    >>> keys = np.arange(0, 10_000, 7, dtype=np.uint64)
    >>> index = SampledIndex(keys, sample_rate=0.05, seed=0, epsilon=8)
    >>> index.lower_bound(np.array([0, 8, 70_000], dtype=np.uint64)).tolist()
    [0, 2, 1429]
    """

    def __init__(self, keys: Any, *, base: str = "pgm", sample_rate: float = 0.01,
                 seed: int | None = 0, sort: bool = False, **base_params: Any) -> None:
        started = time.perf_counter()
        self.keys = check_keys(keys, sort=sort)
        self.base = check_choice("base", base, SAMPLED_BASES)
        self.sample_rate = check_float("sample_rate", sample_rate, minimum=0.0, maximum=1.0,
                                       exclusive_minimum=True)
        self.seed = check_seed("seed", seed)
        self.base_params = dict(base_params)
        self._build()
        self.build_seconds = time.perf_counter() - started

    def _build(self) -> None:
        model_keys = model_space(self.keys)
        if model_keys.size:
            unique, positions = first_positions(model_keys)
        else:
            unique, positions = model_keys, np.zeros(0, dtype=np.int64)
        count = len(unique)
        m = min(count, max(2, int(round(self.sample_rate * count))))
        if count > 2 and m < count:
            middle = make_rng(self.seed).choice(count - 2, size=m - 2, replace=False,
                                                shuffle=False) + 1
            chosen = np.sort(np.r_[0, middle, count - 1])
        else:
            chosen = np.arange(count)
        self._landmark_model_keys = np.ascontiguousarray(unique[chosen])
        self.landmark_positions = np.ascontiguousarray(positions[chosen])
        self.landmark_keys = self.keys[self.landmark_positions]
        self.inner = base_index_class(self.base)(self.landmark_keys, **self.base_params)
        if len(chosen) >= 2:
            self.error_below, self.error_above, self._mean_abs_error = _interval_errors(
                unique, positions, self._landmark_model_keys, self.landmark_positions)
        else:
            self.error_below = np.zeros(len(chosen), dtype=np.int64)
            self.error_above = np.zeros(len(chosen), dtype=np.int64)
            self._mean_abs_error = 0.0

    def _lookup(self, queries: np.ndarray, positions: np.ndarray, predicted: np.ndarray,
                lo: np.ndarray, hi: np.ndarray) -> None:
        ranks = self.inner.lower_bound(queries)
        _sampled_lookup(self.keys, model_space(queries), queries, ranks,
                        self._landmark_model_keys, self.landmark_positions, self.error_below,
                        self.error_above, positions, predicted, lo, hi)

    def models(self) -> ModelLines:
        """Return one line per landmark interval, from landmark ``r - 1`` to landmark ``r``."""
        m = len(self.landmark_keys)
        if m < 2:
            bound = np.zeros(m, dtype=np.int64)
            return ModelLines(self.landmark_keys.copy(), self.landmark_keys.copy(), np.zeros(m),
                              self.landmark_positions.astype(np.float64), bound, bound.copy())
        left, right = self._landmark_model_keys[:-1], self._landmark_model_keys[1:]
        rise = np.diff(self.landmark_positions).astype(np.float64)
        slopes = rise / (right - left).astype(np.float64)
        last = self.keys[self.landmark_positions[1:] - 1]
        return ModelLines(self.landmark_keys[:-1].copy(), last, slopes,
                          self.landmark_positions[:-1].astype(np.float64),
                          self.error_below[1:].copy(), self.error_above[1:].copy())

    @property
    def size_bytes(self) -> int:
        """Bytes of the inner index plus the landmarks, their positions and error bounds."""
        return int(self.inner.size_bytes + self.landmark_keys.nbytes
                   + self.landmark_positions.nbytes + self.error_below.nbytes
                   + self.error_above.nbytes)

    def stats(self) -> dict[str, Any]:
        """Return the sample size, the inner index's stats and the errors over all keys."""
        errors = np.maximum(self.error_below, self.error_above)
        return {"base": self.base, "sample_rate": self.sample_rate,
                "landmarks": int(len(self.landmark_keys)), "inner": self.inner.stats(),
                "height": self.inner.stats()["height"] + 1,
                "max_abs_error": int(errors.max()) if errors.size else 0,
                "mean_abs_error": float(self._mean_abs_error),
                "size_bytes": self.size_bytes, "build_seconds": self.build_seconds}


def sampling_tradeoff(keys: Any, *, base: str = "pgm", sample_rates=(1.0, 0.1, 0.01, 0.001),
                      seed: int | None = 0, repeats: int = 3, **base_params: Any) -> pd.DataFrame:
    """Measure build speedup against error growth of sampling-based learning.

    For each sample rate the index is built ``repeats`` times (the fastest
    build counts) and compared with the base structure built on every key,
    timed the same way after a warm-up build that compiles the kernels. Returns one row per rate with columns
    ``sample_rate``, ``landmarks``, ``build_seconds``, ``speedup`` (full build
    seconds divided by this build's), ``max_abs_error``, ``mean_abs_error``
    and ``size_bytes``.
    """
    keys = check_keys(keys)
    if isinstance(sample_rates, (int, float)):
        raise TypeError(f"sample_rates must be a sequence of rates, got the number "
                        f"{sample_rates}; pass for example ({sample_rates},).")
    if not sample_rates:
        raise ValueError("sample_rates is empty; pass rates in (0, 1] such as (0.1, 0.01).")
    repeats = check_int("repeats", repeats, minimum=1)
    # Compile (or load from numba's cache) every kernel before timing anything.
    SampledIndex(keys[:1000], base=base, sample_rate=0.5, seed=seed, **base_params)
    full, full_seconds = None, float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        full = base_index_class(base)(keys, **base_params)
        full_seconds = min(full_seconds, time.perf_counter() - started)
    full_stats = full.stats()
    rows = [{"sample_rate": "full", "landmarks": int(keys.size),
             "build_seconds": full_seconds, "speedup": 1.0,
             "max_abs_error": float(full_stats["max_abs_error"]),
             "mean_abs_error": float(full_stats["mean_abs_error"]),
             "size_bytes": full.size_bytes}]
    for rate in sample_rates:
        builds = [SampledIndex(keys, base=base, sample_rate=rate, seed=seed, **base_params)
                  for _ in range(repeats)]
        index = min(builds, key=lambda build: build.build_seconds)
        stats = index.stats()
        rows.append({"sample_rate": rate, "landmarks": stats["landmarks"],
                     "build_seconds": index.build_seconds,
                     "speedup": full_seconds / max(index.build_seconds, 1e-9),
                     "max_abs_error": float(stats["max_abs_error"]),
                     "mean_abs_error": stats["mean_abs_error"], "size_bytes": index.size_bytes})
    return pd.DataFrame(rows)
