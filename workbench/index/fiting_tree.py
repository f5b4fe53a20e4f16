"""The FITing-Tree: greedy error-bounded segments with per-segment insert buffers.

Galakatos et al., "FITing-Tree: A Data-aware Index Structure", SIGMOD 2019.
ShrinkingCone segments the (unique key, first position) points in one pass.
A segment starts at a point, its origin, and keeps the cone of slopes through
the origin that predict every point so far within ``epsilon``. The segment
ends at the first point whose own slope from the origin falls outside the
cone, and that point is the origin of the next segment. The segment's line
passes through its origin with the middle slope of the final cone. The pass
is linear but greedy, so it can give more segments than the optimal one of
the PGM-index.

A sorted directory of the segments' first keys routes a query to its segment.
Inserted keys go to a sorted buffer of the segment that covers them, and a
lookup adds the buffered keys below the query to the segment's position.
When a buffer contains more than ``buffer_size`` keys, it is merged into the
segment's keys and that segment alone is segmented again, which may give
several segments.

NOTE: the paper keeps the directory in a B+ tree. Here it is one sorted array,
searched by binary search and rebuilt in O(m) for m segments when a merge
changes the segments.
"""

from __future__ import annotations

import logging
from typing import Any

import numba
import numpy as np

from workbench.core.validation import check_int
from workbench.index.base import (SORTED_BATCH_MIN, LearnedIndex, Lookup, ModelLines,
                                  sort_order)
from workbench.index.kernels import (first_positions, lower_bound_in, window_around,
                                     windowed_lower_bound)
from workbench.index.keys import (MAX_EPSILON, MAX_NODE_KEYS, check_keys, convert_inserts,
                                  convert_queries)
from workbench.index.pgm import key_space, model_space

logger = logging.getLogger(__name__)


@numba.njit(cache=True)
def shrinking_cone(keys, positions, epsilon):
    """Segment ``(keys[i], positions[i])`` greedily with ShrinkingCone.

    Returns ``(start, slope)``, each of shape (m,): the index of each
    segment's first point (its origin) and the slope of its line
    ``y = positions[start] + slope * (x - keys[start])``. ``keys`` must be
    strictly increasing and ``epsilon`` >= 0.
    """
    n = keys.shape[0]
    starts = np.empty(n, dtype=np.int64)
    slopes = np.empty(n, dtype=np.float64)
    n_segments = 0
    i = 0
    while i < n:
        origin = i
        low = 0.0          # the cone of feasible slopes through the origin
        high = np.inf
        i += 1
        while i < n:
            dx = float(keys[i] - keys[origin])
            dy = float(positions[i] - positions[origin])
            # Float keys too far from the origin for a finite slope start a new segment.
            if not (dx < np.inf and (dy + epsilon) / dx < np.inf):
                break
            slope = dy / dx
            if slope < low or slope > high:
                break
            low = max(low, (dy - epsilon) / dx)
            high = min(high, (dy + epsilon) / dx)
            i += 1
        starts[n_segments] = origin
        slopes[n_segments] = 0.0 if high == np.inf else (low + high) / 2.0
        n_segments += 1
    return starts[:n_segments].copy(), slopes[:n_segments].copy()


@numba.njit(cache=True)
def _fiting_lookup(data, first_keys, slopes, starts, buffer, buffer_offsets, epsilon,
                   model_queries, queries, positions, predicted_out, lo_out, hi_out, found):
    n = data.shape[0]
    m = first_keys.shape[0]
    for i in range(queries.shape[0]):
        query = model_queries[i]

        # The directory: the last segment whose first key is <= query (0 if none).
        segment = lower_bound_in(first_keys, query, 0, m)
        if segment == m or first_keys[segment] != query:
            segment = max(segment - 1, 0)

        # Clamp the line to the segment, because a query between its last key
        # and the next segment's first key has its lower bound at ``end``.
        start = starts[segment]
        end = starts[segment + 1]
        predicted = float(start)
        if query > first_keys[segment]:
            predicted = start + slopes[segment] * float(query - first_keys[segment])
            if not predicted <= end:        # also NaN, from infinite float keys
                predicted = float(end)
        lo, hi = window_around(predicted, epsilon, epsilon, n)
        lo = max(lo, start)
        hi = max(lo, min(hi, end + 1))
        data_position = windowed_lower_bound(data, queries[i], lo, hi)

        # The buffered keys below the query are all keys in the buffers of
        # earlier segments plus those below it in this segment's buffer.
        buffer_lo = buffer_offsets[segment]
        buffer_hi = buffer_offsets[segment + 1]
        buffered = lower_bound_in(buffer, queries[i], buffer_lo, buffer_hi)

        positions[i] = data_position + buffered
        found[i] = ((data_position < n and data[data_position] == queries[i])
                    or (buffered < buffer_hi and buffer[buffered] == queries[i]))
        predicted_out[i] = predicted + buffer_lo
        lo_out[i] = lo + buffer_lo
        hi_out[i] = hi + buffer_hi


class FITingTree(LearnedIndex):
    """An updatable learned index with error ``epsilon`` on every segment key.

    Parameters
    ----------
    keys : array-like, shape (n,)
        Sorted uint64, int64 or float64 keys; duplicates are allowed.
    epsilon : int, default 64
        Maximum distance between a segment key's predicted and true first
        position, counted among the segment keys (buffered keys excluded).
    buffer_size : int, default 256
        Maximum number of inserted keys a segment buffers before it merges
        them and segments its keys again.
    sort : bool, default False
        Sort unsorted keys instead of raising ``ValueError``.

    Attributes
    ----------
    merges : int
        Number of segment merges that inserts caused so far.

    Example
    -------
    >>> index = FITingTree(np.arange(0, 1000, 3, dtype=np.uint64), epsilon=8)
    >>> index.insert(np.array([4, 4000], dtype=np.uint64))
    >>> index.lower_bound(np.array([0, 4, 5, 5000], dtype=np.uint64)).tolist()
    [0, 2, 3, 336]

    Notes
    -----
    The segment keys live in one array that a merge rebuilds, in O(n) time.
    The buffered keys of all segments live in one sorted array, in which
    segment ``s`` owns the slice ``[buffer_offsets[s], buffer_offsets[s + 1])``.
    The offsets are the prefix sums of the per-segment buffer counts, so the
    number of buffered keys below a query is its lower bound in its own
    segment's slice. An insert of ``k`` keys costs O(k log k + b) for ``b``
    buffered keys, plus O(n) when a buffer overflows. The window that
    :meth:`predict` returns grows by the query's segment buffer count.
    """

    def __init__(self, keys: Any, *, epsilon: int = 64, buffer_size: int = 256,
                 sort: bool = False) -> None:
        data = check_keys(keys, sort=sort)
        self.epsilon = check_int("epsilon", epsilon, minimum=1, maximum=MAX_EPSILON)
        self.buffer_size = check_int("buffer_size", buffer_size, minimum=1, maximum=MAX_NODE_KEYS)
        self.merges = 0
        self._data = data
        self._buffer = data[:0].copy()
        self._merged_keys: np.ndarray | None = None
        if data.size:
            self._first, self._slopes, starts = self._segment(data, 0)
        else:
            # One empty segment routes every insert until the first merge.
            self._first = np.zeros(1, dtype=model_space(data).dtype)
            self._slopes = np.zeros(1)
            starts = np.zeros(1, dtype=np.int64)
        self._starts = np.append(starts, data.size).astype(np.int64)
        self._buffer_offsets = np.zeros(len(self._first) + 1, dtype=np.int64)

    def _segment(self, data: np.ndarray, offset: int) -> tuple[np.ndarray, np.ndarray,
                                                                np.ndarray]:
        """Segment ``data``, which starts at position ``offset`` of the segment keys.

        Returns the first key (model space), slope and start position of each segment.
        """
        unique, positions = first_positions(model_space(data))
        origins, slopes = shrinking_cone(unique, positions, float(self.epsilon))
        return unique[origins].copy(), slopes, positions[origins] + offset

    @property
    def keys(self) -> np.ndarray:
        """All keys, segment keys and buffered keys merged, shape (n,).

        Built on first use after an insert, in O(n) time. Lookups do not need
        it, but :meth:`trace` reads it.
        """
        if self._buffer.size == 0:
            return self._data
        if self._merged_keys is None:
            at = np.searchsorted(self._data, self._buffer, side="right")
            self._merged_keys = np.insert(self._data, at, self._buffer)
        return self._merged_keys

    def __len__(self) -> int:
        return int(self._data.size + self._buffer.size)

    def _search(self, queries: np.ndarray) -> tuple[np.ndarray, ...]:
        """Look up ``queries`` (in the keys' dtype) in the segments and their buffers.

        Returns ``(positions, predicted, lo, hi, found)``, each of shape (m,).
        Like :meth:`LearnedIndex.lower_bound`, a large unsorted batch is
        looked up in key order, so consecutive lookups touch neighbouring
        segments, and the results are scattered back.
        """
        order = None
        if queries.size >= SORTED_BATCH_MIN and not np.all(queries[1:] >= queries[:-1]):
            order = sort_order(queries)
            queries = queries[order]
        size = queries.size
        positions = np.zeros(size, dtype=np.int64)
        predicted = np.zeros(size)
        lo = np.zeros(size, dtype=np.int64)
        hi = np.zeros(size, dtype=np.int64)
        found = np.zeros(size, dtype=bool)
        _fiting_lookup(self._data, self._first, self._slopes, self._starts, self._buffer,
                       self._buffer_offsets, self.epsilon, model_space(queries), queries,
                       positions, predicted, lo, hi, found)
        results = (positions, predicted, lo, hi, found)
        if order is None:
            return results
        scattered = tuple(np.empty_like(result) for result in results)
        for result, in_order in zip(scattered, results):
            result[order] = in_order
        return scattered

    def _lookup(self, queries: np.ndarray, positions: np.ndarray, predicted: np.ndarray,
                lo: np.ndarray, hi: np.ndarray) -> None:
        positions[:], predicted[:], lo[:], hi[:], _ = self._search(queries)

    # query, lower_bound and contains replace the base class's versions, because
    # those read self.keys, which merges the buffers into one array in O(n) time.

    def query(self, queries: Any) -> Lookup:
        """Convert ``queries`` exactly, look them up and return every intermediate result."""
        converted, below, above = convert_queries(queries, self._data.dtype)
        positions, predicted, lo, hi, _ = self._search(converted)
        positions[below] = 0
        positions[above] = len(self)
        return Lookup(converted, positions, predicted, lo, hi, below | above)

    def lower_bound(self, queries: Any) -> np.ndarray:
        """Return ``numpy.searchsorted(keys, queries, side="left")``, shape (m,), int64."""
        return self.query(queries).positions

    def contains(self, queries: Any) -> np.ndarray:
        """Return whether each query is a segment key or a buffered key, shape (m,), bool."""
        converted, below, above = convert_queries(queries, self._data.dtype)
        found = self._search(converted)[4]
        return found & ~(below | above)

    def insert(self, keys: Any) -> None:
        """Insert ``keys`` (array-like, shape (k,)) into the buffers of their segments.

        Every buffer that then contains more than ``buffer_size`` keys is merged
        into its segment's keys, and that segment is segmented again.
        Duplicates, of each other or of keys already indexed, are allowed.
        """
        new = self._convert_new_keys(keys)
        if new.size == 0:
            return
        segment = np.searchsorted(self._first, model_space(new), side="right") - 1
        segment = np.maximum(segment, 0)
        at = np.searchsorted(self._buffer, new, side="right")
        self._buffer = np.insert(self._buffer, at, new)
        counts = np.diff(self._buffer_offsets) + np.bincount(segment,
                                                             minlength=len(self._first))
        self._buffer_offsets = np.append(0, np.cumsum(counts)).astype(np.int64)
        self._merged_keys = None

        overflowing = np.flatnonzero(counts > self.buffer_size)
        if overflowing.size:
            self._merge(overflowing)

    def _convert_new_keys(self, keys: Any) -> np.ndarray:
        """Return inserted ``keys`` sorted, in the index's dtype, or raise if they do not fit."""
        return np.sort(convert_inserts(keys, self._data.dtype), kind="stable")

    def _merge(self, overflowing: np.ndarray) -> None:
        """Merge each ``overflowing`` segment's buffer into its keys and segment them again."""
        m = len(self._first)
        counts = np.diff(self._buffer_offsets)
        merging = np.zeros(m, dtype=bool)
        merging[overflowing] = True

        # Rebuild the segment key array with the moved keys, O(n).
        moving = np.repeat(merging, counts)
        moved = self._buffer[moving]
        self._buffer = self._buffer[~moving]
        at = np.searchsorted(self._data, moved, side="right")
        self._data = np.insert(self._data, at, moved)
        moved_counts = np.where(merging, counts, 0)
        starts = self._starts + np.append(0, np.cumsum(moved_counts))

        # Replace each merged segment by its new segments; keep the others.
        first_parts, slope_parts, start_parts, count_parts = [], [], [], []
        previous = 0
        for segment in overflowing:
            first_parts.append(self._first[previous:segment])
            slope_parts.append(self._slopes[previous:segment])
            start_parts.append(starts[previous:segment])
            count_parts.append(counts[previous:segment])
            lo, hi = starts[segment], starts[segment + 1]
            first, slopes, segment_starts = self._segment(self._data[lo:hi], lo)
            first_parts.append(first)
            slope_parts.append(slopes)
            start_parts.append(segment_starts)
            count_parts.append(np.zeros(len(first), dtype=np.int64))
            previous = segment + 1
        first_parts.append(self._first[previous:])
        slope_parts.append(self._slopes[previous:])
        start_parts.append(starts[previous:])     # ends with the total, n
        count_parts.append(counts[previous:])

        self._first = np.concatenate(first_parts)
        self._slopes = np.concatenate(slope_parts)
        self._starts = np.concatenate(start_parts).astype(np.int64)
        self._buffer_offsets = np.append(0, np.cumsum(np.concatenate(count_parts)))
        self._buffer_offsets = self._buffer_offsets.astype(np.int64)
        self.merges += len(overflowing)
        logger.debug("merged %d buffers into their segments: %d -> %d segments",
                     len(overflowing), m, len(self._first))

    @property
    def size_bytes(self) -> int:
        """Bytes of the model: directory keys, slopes, start positions and buffer offsets."""
        return int(self._first.nbytes + self._slopes.nbytes + self._starts.nbytes
                   + self._buffer_offsets.nbytes)

    def _segment_errors(self) -> np.ndarray:
        """Return |predicted - true first position| of every unique segment key, shape (u,)."""
        if self._data.size == 0:
            return np.zeros(0)
        unique, positions = first_positions(model_space(self._data))
        segment = np.maximum(np.searchsorted(self._first, unique, side="right") - 1, 0)
        offsets = (unique - self._first[segment]).astype(np.float64)
        predicted = self._starts[segment] + self._slopes[segment] * offsets
        return np.abs(predicted - positions)

    def models(self) -> ModelLines:
        """Return the non-empty segments as lines to positions among all keys.

        A segment's intercept counts its first key's position among the
        segment keys plus the buffered keys of all earlier segments. Each
        key in the segment's own buffer can shift its keys up by one, so the
        cone above is ``epsilon`` plus the segment's buffer count. Lookups
        clamp a line's prediction at the next segment's first position.
        """
        counts = np.diff(self._buffer_offsets)
        used = self._starts[1:] > self._starts[:-1]
        first = key_space(self._first[used], self._data.dtype)
        last = self._data[self._starts[1:][used] - 1]
        intercepts = (self._starts[:-1] + self._buffer_offsets[:-1])[used].astype(np.float64)
        below = np.full(int(used.sum()), self.epsilon, dtype=np.int64)
        above = below + counts[used]
        return ModelLines(first, last, self._slopes[used].copy(), intercepts, below, above)

    def stats(self) -> dict[str, Any]:
        """Return the segment count, height, segment-key errors and buffer state.

        The height is 2: the directory, one sorted array searched by binary
        search, above the segments.
        """
        errors = self._segment_errors()
        return {"segments": int(np.count_nonzero(self._starts[1:] > self._starts[:-1])),
                "height": 2, "epsilon": self.epsilon, "buffer_size": self.buffer_size,
                "max_abs_error": float(errors.max()) if errors.size else 0.0,
                "mean_abs_error": float(errors.mean()) if errors.size else 0.0,
                "segment_keys": int(self._data.size), "buffered_keys": int(self._buffer.size),
                "merges": self.merges, "size_bytes": self.size_bytes}
