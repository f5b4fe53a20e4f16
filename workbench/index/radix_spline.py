"""RadixSpline: an error-bounded linear spline over the keys, found through a radix table.

Kipf et al., "RadixSpline: A Single-Pass Learned Index", aiDM@SIGMOD 2020.
The spline's knots are (unique key, first position) points chosen in one pass
by GreedySplineCorridor (Neumann & Michel, "Smooth Interpolating Histograms
with Error Guarantees", 2008). Linear interpolation between two consecutive
knots predicts the position of every key between them within ``epsilon``.

The pass keeps a base knot and a corridor of slopes from it: each point
narrows the corridor to the slopes that reach it within ``epsilon``. When the
slope from the base to a point leaves the corridor, the previous point
becomes a knot and the new base. The last point is always a knot.

A radix table over the top ``radix_bits`` bits of ``key - min_key``, shifted
right so the key range fits, maps each prefix to the first knot whose prefix
is at least as large. A lookup reads the table, binary-searches the knots of the query's
prefix, interpolates between the two knots around the query and searches
the window of ``2 * epsilon + 3`` keys around the prediction.

For float64 keys the radix table works on each float's order-preserving
uint64 bit pattern (the sign bit flipped for non-negative floats, all bits
flipped for negative ones, and -0.0 read as +0.0). Prefixes of that pattern
split the keys by sign, exponent and leading mantissa bits, so the table
spreads over orders of magnitude, not over equal widths of the key range.
The spline itself interpolates on the float values.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from workbench.core.validation import check_int
from workbench.index.base import LearnedIndex, ModelLines
from workbench.index.kernels import (first_positions, upper_bound_in, window_around,
                                     windowed_lower_bound)
from workbench.index.keys import MAX_EPSILON, check_keys
from workbench.index.pgm import key_space, model_space

# The table has up to 2^radix_bits + 1 entries of 4 bytes, so 28 bits take 1 GiB.
MAX_RADIX_BITS = 28
SIGN_BIT = np.uint64(2**63)


def radix_space(values: np.ndarray) -> np.ndarray:
    """Map model-space values (uint64 or float64) to uint64 preserving their order.

    A float maps to its bit pattern with the sign bit flipped when it is
    non-negative and all bits flipped when it is negative; -0.0 maps as +0.0.
    """
    if values.dtype != np.float64:
        return values
    bits = (values + 0.0).view(np.uint64)        # + 0.0 turns -0.0 into +0.0
    negative = (bits & SIGN_BIT) != 0
    return np.where(negative, ~bits, bits | SIGN_BIT)


@numba.njit(cache=True)
def greedy_spline_corridor(keys, positions, epsilon):
    """Choose spline knots among ``(keys[i], positions[i])`` with GreedySplineCorridor.

    Returns the indices of the knots, shape (k,), the first and last point
    included. ``keys`` must be strictly increasing and ``epsilon`` >= 0.
    """
    n = keys.shape[0]
    knots = np.empty(max(n, 1), dtype=np.int64)
    if n == 0:
        return knots[:0].copy()
    knots[0] = 0
    n_knots = 1
    base = 0
    lower = -np.inf        # the corridor of slopes from the base knot
    upper = np.inf
    for i in range(1, n):
        dx = float(keys[i] - keys[base])
        dy = float(positions[i] - positions[base])
        # Float keys too far from the base for a finite slope leave the corridor.
        finite = dx < np.inf and (dy + epsilon) / dx < np.inf
        slope = dy / dx
        if finite and lower <= slope <= upper:
            lower = max(lower, (dy - epsilon) / dx)
            upper = min(upper, (dy + epsilon) / dx)
            continue

        # The point leaves the corridor, so the previous point becomes a knot.
        if base != i - 1:
            base = i - 1
            knots[n_knots] = base
            n_knots += 1
            dx = float(keys[i] - keys[base])
            dy = float(positions[i] - positions[base])
            if dx < np.inf and (dy + epsilon) / dx < np.inf:
                lower = (dy - epsilon) / dx
                upper = (dy + epsilon) / dx
                continue

        # No finite slope reaches the point from its predecessor, so it becomes a knot too.
        base = i
        knots[n_knots] = base
        n_knots += 1
        lower = -np.inf
        upper = np.inf
    if knots[n_knots - 1] != n - 1:
        knots[n_knots] = n - 1
        n_knots += 1
    return knots[:n_knots].copy()


@numba.njit(cache=True)
def _fill_radix_table(prefixes, table):
    """Set ``table[p]`` to the first knot whose prefix is >= p, for sorted ``prefixes``.

    The last entry, one past the largest prefix, becomes the knot count.
    """
    knot = 0
    for p in range(table.shape[0]):
        prefix = np.uint64(p)
        while knot < prefixes.shape[0] and prefixes[knot] < prefix:
            knot += 1
        table[p] = knot


@numba.njit(cache=True)
def _radix_spline_lookup(keys, knot_keys, knot_positions, table, min_radix, max_radix, shift,
                         epsilon, model_queries, radix_queries, queries, positions,
                         predicted_out, lo_out, hi_out):
    n = keys.shape[0]
    last = knot_keys.shape[0] - 1
    for i in range(queries.shape[0]):
        query = model_queries[i]
        radix = radix_queries[i]

        # The lower bound lies in [bound_lo, bound_hi], between the positions of
        # the knots around the query, or at one end for a query outside the keys.
        if radix < min_radix:
            predicted, bound_lo, bound_hi = 0.0, 0, 0
        elif radix > max_radix:
            predicted, bound_lo, bound_hi = float(n), n, n
        else:
            prefix = (radix - min_radix) >> shift
            begin = np.int64(table[prefix])
            end = np.int64(table[prefix + np.uint64(1)])
            # Knots of smaller prefixes are below the query, so the segment
            # starts at knot ``begin - 1`` when no knot of this prefix is <= query.
            knot = max(upper_bound_in(knot_keys, query, begin, end) - 1, 0)
            bound_lo = knot_positions[knot]
            if knot == last:
                predicted, bound_hi = float(bound_lo), n
            else:
                bound_hi = knot_positions[knot + 1]
                slope = float(bound_hi - bound_lo) / float(knot_keys[knot + 1] - knot_keys[knot])
                predicted = bound_lo + slope * float(query - knot_keys[knot])
                if not predicted <= bound_hi:       # also NaN, from infinite float keys
                    predicted = float(bound_hi)

        lo, hi = window_around(predicted, epsilon, epsilon, n)
        lo = max(lo, bound_lo)
        hi = max(lo, min(hi, bound_hi + 1))
        predicted_out[i], lo_out[i], hi_out[i] = predicted, lo, hi
        positions[i] = windowed_lower_bound(keys, queries[i], lo, hi)


class RadixSpline(LearnedIndex):
    """A static learned index: a linear spline with error ``epsilon`` and a radix table.

    Parameters
    ----------
    keys : array-like, shape (n,)
        Sorted uint64, int64 or float64 keys; duplicates are allowed.
    epsilon : int, default 32
        Maximum distance between a key's interpolated and true first position.
    radix_bits : int, default 18
        Number of leading bits of ``key - min_key`` that index the radix
        table, from 0 (binary search over all knots) to 28.
    sort : bool, default False
        Sort unsorted keys instead of raising ``ValueError``.

    Attributes
    ----------
    knot_keys : ndarray, shape (k,)
        The spline knots' keys, in the keys' dtype.
    knot_positions : ndarray of int64, shape (k,)
        The knots' first positions.
    shift : int
        Bits dropped from ``key - min_key`` before its prefix indexes the table.

    Example
    -------
    >>> index = RadixSpline(np.arange(0, 1000, 3, dtype=np.uint64), epsilon=8)
    >>> index.lower_bound(np.array([0, 4, 5000], dtype=np.uint64)).tolist()
    [0, 2, 334]
    """

    def __init__(self, keys: Any, *, epsilon: int = 32, radix_bits: int = 18,
                 sort: bool = False) -> None:
        self.keys = check_keys(keys, sort=sort)
        self.epsilon = check_int("epsilon", epsilon, minimum=1, maximum=MAX_EPSILON)
        self.radix_bits = check_int("radix_bits", radix_bits, minimum=0, maximum=MAX_RADIX_BITS)
        self._build()

    def _build(self) -> None:
        unique, positions = first_positions(model_space(self.keys))
        knots = greedy_spline_corridor(unique, positions, float(self.epsilon))
        self._knot_keys = unique[knots].copy()            # model space
        self.knot_positions = positions[knots].copy()
        self.knot_keys = key_space(self._knot_keys, self.keys.dtype)

        radix = radix_space(self._knot_keys)
        self._min_radix = np.uint64(radix[0]) if radix.size else np.uint64(0)
        self._max_radix = np.uint64(radix[-1]) if radix.size else np.uint64(0)
        span = int(self._max_radix - self._min_radix)
        # A uint64 shifts by at most 63 bits, so radix_bits=0 can leave two prefixes.
        self.shift = min(max(span.bit_length() - self.radix_bits, 0), 63)
        prefixes = (radix - self._min_radix) >> np.uint64(self.shift)
        table_dtype = np.uint32 if len(knots) < 2**32 else np.int64
        self.table = np.empty((span >> self.shift) + 2, dtype=table_dtype)
        _fill_radix_table(prefixes, self.table)

    def _lookup(self, queries: np.ndarray, positions: np.ndarray, predicted: np.ndarray,
                lo: np.ndarray, hi: np.ndarray) -> None:
        model_queries = model_space(queries)
        _radix_spline_lookup(self.keys, self._knot_keys, self.knot_positions, self.table,
                             self._min_radix, self._max_radix, np.uint64(self.shift),
                             self.epsilon, model_queries, radix_space(model_queries), queries,
                             positions, predicted, lo, hi)

    @property
    def size_bytes(self) -> int:
        """Bytes of the model: knot keys and positions plus the radix table."""
        return int(self._knot_keys.nbytes + self.knot_positions.nbytes + self.table.nbytes)

    def _segment_slopes(self) -> np.ndarray:
        """Return the slope of each spline segment between consecutive knots, shape (k - 1,)."""
        dx = (self._knot_keys[1:] - self._knot_keys[:-1]).astype(np.float64)
        dy = np.diff(self.knot_positions).astype(np.float64)
        with np.errstate(over="ignore", invalid="ignore"):
            return dy / dx

    def models(self) -> ModelLines:
        """Return each spline segment between consecutive knots, with cone ``epsilon``.

        Segment ``j`` covers the keys from knot ``j`` up to the key before
        knot ``j + 1``; the last segment also covers the last knot. One knot
        alone gives one flat segment.
        """
        k = len(self._knot_keys)
        if k <= 1:
            first = self.knot_keys.copy()
            last = self.keys[-1:].copy()
            slopes = np.zeros(k)
            intercepts = self.knot_positions.astype(np.float64)
        else:
            first = self.knot_keys[:-1].copy()
            last = self.keys[np.append(self.knot_positions[1:-1] - 1, self.keys.size - 1)]
            slopes = self._segment_slopes()
            intercepts = self.knot_positions[:-1].astype(np.float64)
        bound = np.full(len(first), self.epsilon, dtype=np.int64)
        return ModelLines(first, last, slopes, intercepts, bound, bound.copy())

    def _key_errors(self) -> np.ndarray:
        """Return |interpolated - true first position| of every unique key, shape (u,)."""
        if self.keys.size == 0:
            return np.zeros(0)
        unique, positions = first_positions(model_space(self.keys))
        if len(self._knot_keys) == 1:
            return np.abs(self.knot_positions[0] - positions).astype(np.float64)
        segment = np.searchsorted(self._knot_keys, unique, side="right") - 1
        segment = np.minimum(segment, len(self._knot_keys) - 2)
        offsets = (unique - self._knot_keys[segment]).astype(np.float64)
        with np.errstate(invalid="ignore"):
            predicted = self.knot_positions[segment] + self._segment_slopes()[segment] * offsets
        return np.abs(predicted - positions)

    def stats(self) -> dict[str, Any]:
        """Return the knot and table sizes, height, key errors and ``size_bytes``.

        The height is 2: the radix table above the spline knots.
        """
        errors = self._key_errors()
        return {"knots": len(self._knot_keys), "segments": max(len(self._knot_keys) - 1,
                                                               min(len(self._knot_keys), 1)),
                "height": 2, "epsilon": self.epsilon, "radix_bits": self.radix_bits,
                "radix_shift": self.shift, "radix_table_entries": len(self.table),
                "max_abs_error": float(errors.max()) if errors.size else 0.0,
                "mean_abs_error": float(errors.mean()) if errors.size else 0.0,
                "size_bytes": self.size_bytes}
