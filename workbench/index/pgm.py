"""The PGM-index: optimal piecewise-linear segments, built recursively into levels.

Ferragina & Vinciguerra, "The PGM-index: a fully-dynamic compressed learned
index with provable worst-case bounds", PVLDB 13(8), 2020. Level 0 segments
the (unique key, first position) points with error ``epsilon``. Each higher
level segments the first keys of the level below with error
``epsilon_recursive``, until one segment remains. A lookup walks the levels
top-down, each time searching only a window of ``2 * epsilon + 3`` entries.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numba
import numpy as np

from workbench.core.validation import check_int
from workbench.index.base import LearnedIndex, ModelLines
from workbench.index.keys import MAX_EPSILON, check_keys, key_space, model_space
from workbench.index.kernels import (first_positions, seek_segment, window_around,
                                     windowed_lower_bound)
from workbench.index.pla import segment_points


@dataclasses.dataclass(frozen=True)
class Level:
    """Segments of one level: first key, slope and intercept of each, shape (m,)."""

    first_keys: np.ndarray
    slopes: np.ndarray
    intercepts: np.ndarray


@numba.njit(cache=True)
def _predict(first_key, slope, intercept, query):
    if query <= first_key:
        return intercept
    return slope * float(query - first_key) + intercept


@numba.njit(cache=True)
def _find_segment(first_keys, query, predicted, epsilon):
    """Return the last segment whose first key is <= query (0 if none), searched near ``predicted``."""
    m = first_keys.shape[0]
    lo, hi = window_around(predicted, epsilon + 1, epsilon + 1, m)
    position = windowed_lower_bound(first_keys, query, lo, hi)
    # lower_bound gives the first key >= query; step back unless it is equal.
    if position < m and first_keys[position] == query:
        return position
    return max(position - 1, 0)


@numba.njit(cache=True)
def _lookup(keys, levels_first, levels_slope, levels_intercept, offsets, epsilon,
            epsilon_recursive, model_queries, queries, positions, predicted_out, lo_out,
            hi_out):
    n_levels = offsets.shape[0] - 1
    for i in range(queries.shape[0]):
        query = model_queries[i]
        segment = 0
        for level in range(n_levels - 1, 0, -1):
            start = offsets[level]
            # Predict the child segment from this level's segment, then search its window.
            predicted = _predict(levels_first[start + segment], levels_slope[start + segment],
                                 levels_intercept[start + segment], query)
            child_start = offsets[level - 1]
            child_end = offsets[level]
            segment = _find_segment(levels_first[child_start:child_end], query, predicted,
                                    epsilon_recursive)
        predicted = _predict(levels_first[segment], levels_slope[segment],
                             levels_intercept[segment], query)
        lo, hi = window_around(predicted, epsilon + 1, epsilon + 1, keys.shape[0])
        predicted_out[i], lo_out[i], hi_out[i] = predicted, lo, hi
        positions[i] = windowed_lower_bound(keys, queries[i], lo, hi)


@numba.njit(cache=True)
def _positions_ascending(keys, first_keys, slopes, intercepts, epsilon, model_queries, queries,
                         positions):
    """Lower bounds of queries in (nearly) sorted order: walk the level-0 segments in step."""
    segment = 0
    for i in range(queries.shape[0]):
        query = model_queries[i]
        segment = seek_segment(first_keys, query, segment)
        predicted = _predict(first_keys[segment], slopes[segment], intercepts[segment], query)
        lo, hi = window_around(predicted, epsilon + 1, epsilon + 1, keys.shape[0])
        positions[i] = windowed_lower_bound(keys, queries[i], lo, hi)


class PGMIndex(LearnedIndex):
    """A static learned index with a guaranteed error ``epsilon`` on every key.

    Parameters
    ----------
    keys : array-like, shape (n,)
        Sorted uint64, int64 or float64 keys; duplicates are allowed.
    epsilon : int, default 64
        Maximum distance between a key's predicted and true first position.
    epsilon_recursive : int, default 4
        Error of the upper levels that route a query to its segment.
    sort : bool, default False
        Sort unsorted keys instead of raising ``ValueError``.

    Example
    -------
    >>> index = PGMIndex(np.arange(0, 1000, 3, dtype=np.uint64), epsilon=8)
    >>> index.lower_bound(np.array([0, 4, 5000], dtype=np.uint64)).tolist()
    [0, 2, 334]
    """

    def __init__(self, keys: Any, *, epsilon: int = 64, epsilon_recursive: int = 4,
                 sort: bool = False) -> None:
        self.keys = check_keys(keys, sort=sort)
        self.epsilon = check_int("epsilon", epsilon, minimum=1, maximum=MAX_EPSILON)
        self.epsilon_recursive = check_int("epsilon_recursive", epsilon_recursive, minimum=1,
                                           maximum=MAX_EPSILON)
        self.levels: list[Level] = []
        self._build()

    @classmethod
    def from_level0(cls, keys: np.ndarray, level0: tuple[np.ndarray, np.ndarray, np.ndarray], *,
                    epsilon: int, epsilon_recursive: int = 4) -> PGMIndex:
        """Finish an index whose level-0 segments ``(starts, slopes, intercepts)`` are computed.

        ``keys`` must be checked keys and ``level0`` the output of
        :func:`~workbench.index.pla.segment_points` on their unique keys, for
        example assembled block by block; only the upper levels are built here.
        """
        index = cls.__new__(cls)
        index.keys = keys
        index.epsilon = check_int("epsilon", epsilon, minimum=1, maximum=MAX_EPSILON)
        index.epsilon_recursive = check_int("epsilon_recursive", epsilon_recursive, minimum=1,
                                            maximum=MAX_EPSILON)
        index.levels = []
        index._build(level0)
        return index

    def _build(self, level0: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> None:
        if self.keys.size == 0:
            self.levels = [Level(np.zeros(1, model_space(self.keys).dtype), np.zeros(1),
                                 np.zeros(1))]
        else:
            unique, positions = first_positions(model_space(self.keys))
            epsilon = self.epsilon
            while True:
                if level0 is not None and not self.levels:
                    starts, slopes, intercepts = level0
                else:
                    starts, slopes, intercepts = segment_points(unique, positions, epsilon)
                if len(starts) == len(unique) and len(starts) > 1 and self.levels:
                    # No compression (float keys too far apart for float64): one
                    # coarse root; the verified search keeps lookups exact.
                    starts = np.zeros(1, dtype=np.int64)
                    slopes, intercepts = np.zeros(1), np.zeros(1)
                level = Level(unique[starts].copy(), slopes, intercepts)
                self.levels.append(level)
                if len(starts) == 1:
                    break
                unique, positions = level.first_keys, np.arange(len(starts), dtype=np.int64)
                epsilon = self.epsilon_recursive
        sizes = [len(level.first_keys) for level in self.levels]
        self._offsets = np.r_[0, np.cumsum(sizes)].astype(np.int64)
        self._first = np.concatenate([level.first_keys for level in self.levels])
        self._slopes = np.concatenate([level.slopes for level in self.levels])
        self._intercepts = np.concatenate([level.intercepts for level in self.levels])

    def _lookup(self, queries: np.ndarray, positions: np.ndarray, predicted: np.ndarray,
                lo: np.ndarray, hi: np.ndarray) -> None:
        _lookup(self.keys, self._first, self._slopes, self._intercepts, self._offsets,
                self.epsilon, self.epsilon_recursive, model_space(queries), queries, positions,
                predicted, lo, hi)

    def _positions(self, queries: np.ndarray, positions: np.ndarray, ascending: bool) -> None:
        if not ascending:
            super()._positions(queries, positions, ascending)
            return
        level0 = self.levels[0]
        _positions_ascending(self.keys, level0.first_keys, level0.slopes, level0.intercepts,
                             self.epsilon, model_space(queries), queries, positions)

    @property
    def size_bytes(self) -> int:
        """Bytes of the model: first key, slope and intercept of every segment of every level."""
        return int(self._first.nbytes + self._slopes.nbytes + self._intercepts.nbytes)

    def models(self) -> ModelLines:
        """Return the level-0 segments; each one's cone is ``epsilon`` wide on both sides."""
        level0 = self.levels[0]
        m = len(level0.first_keys) if self.keys.size else 0
        first = key_space(level0.first_keys[:m], self.keys.dtype)
        # A segment ends at the last key before the next segment's first key.
        next_first = np.searchsorted(self.keys, first[1:], side="left")
        last = self.keys[np.r_[next_first - 1, self.keys.size - 1]] if m else first
        bound = np.full(m, self.epsilon, dtype=np.int64)
        return ModelLines(first, last, level0.slopes[:m].copy(), level0.intercepts[:m].copy(),
                          bound, bound.copy())

    def stats(self) -> dict[str, Any]:
        """Return segment counts per level (bottom first), height and the level-0 errors."""
        level0 = self.levels[0]
        errors = np.zeros(0)
        if self.keys.size:
            unique, positions = first_positions(model_space(self.keys))
            segment = np.searchsorted(level0.first_keys, unique, side="right") - 1
            offsets = (unique - level0.first_keys[segment]).astype(np.float64)
            errors = np.abs(level0.slopes[segment] * offsets + level0.intercepts[segment]
                            - positions)
        return {"segments_per_level": [len(level.first_keys) for level in self.levels],
                "height": len(self.levels), "epsilon": self.epsilon,
                "max_abs_error": float(errors.max()) if errors.size else 0.0,
                "mean_abs_error": float(errors.mean()) if errors.size else 0.0,
                "size_bytes": self.size_bytes}
