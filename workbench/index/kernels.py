"""Compiled loops (numba) shared by the learned indexes."""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True)
def lower_bound_in(keys, query, lo, hi):
    """Return the first position in ``[lo, hi)`` whose key is >= ``query`` (``hi`` if none)."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if keys[mid] < query:
            lo = mid + 1
        else:
            hi = mid
    return lo


@numba.njit(cache=True)
def windowed_lower_bound(keys, query, lo, hi):
    """Lower bound of ``query`` searched in the window ``[lo, hi)`` first, verified.

    The window comes from a model and is right for every key the model was
    fitted on. The result is checked against its neighbours; if the window
    missed (a query between keys can fall just outside it), the search is
    repeated on the whole array, so the result is always exact.
    """
    n = keys.shape[0]
    lo = max(0, min(lo, n))
    hi = max(lo, min(hi, n))
    position = lower_bound_in(keys, query, lo, hi)
    left_ok = position == 0 or keys[position - 1] < query
    right_ok = position == n or keys[position] >= query
    if left_ok and right_ok:
        return position
    return lower_bound_in(keys, query, 0, n)


@numba.njit(cache=True)
def window_around(predicted, below, above, n):
    """Return the window ``[lo, hi)`` for a prediction with error bounds ``below``/``above``.

    One position of slack on each side covers the rounding of ``predicted``;
    a prediction that is not a usable number gives the window at 0.
    """
    center = int(math.floor(predicted)) if abs(predicted) < 9.0e18 else 0
    lo = max(0, min(center - below - 1, n))
    hi = max(lo, min(center + above + 2, n))
    return lo, hi


@numba.njit(cache=True)
def first_positions(keys):
    """Return (unique keys, position of each one's first occurrence) of sorted ``keys``."""
    n = keys.shape[0]
    count = 0
    for i in range(n):
        if i == 0 or keys[i] != keys[i - 1]:
            count += 1
    if count == n:                     # no duplicates: the keys themselves, no copy
        return keys, np.arange(n)
    unique = np.empty(count, dtype=keys.dtype)
    positions = np.empty(count, dtype=np.int64)
    j = 0
    for i in range(n):
        if i == 0 or keys[i] != keys[i - 1]:
            unique[j] = keys[i]
            positions[j] = i
            j += 1
    return unique, positions


@numba.njit(cache=True)
def upper_bound_in(keys, query, lo, hi):
    """Return the first position in ``[lo, hi)`` whose key is > ``query`` (``hi`` if none)."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if keys[mid] <= query:
            lo = mid + 1
        else:
            hi = mid
    return lo


@numba.njit(cache=True)
def seek_segment(first_keys, query, segment):
    """Return the last segment whose first key is <= ``query`` (0 if none), starting at ``segment``.

    Galloping search from ``segment`` in either direction: the cost grows
    with the log of the distance moved, so a sorted or nearly sorted batch
    walks the segments in O(log gap) per query, and any order stays exact.
    """
    m = first_keys.shape[0]
    if first_keys[segment] <= query:
        if segment + 1 >= m or first_keys[segment + 1] > query:
            return segment
        step = 1
        while segment + step < m and first_keys[segment + step] <= query:
            step *= 2
        return upper_bound_in(first_keys, query, segment + step // 2, min(segment + step, m)) - 1
    step = 1
    while segment - step >= 0 and first_keys[segment - step] > query:
        step *= 2
    lo = max(segment - step, 0)
    return max(upper_bound_in(first_keys, query, lo, segment - step // 2) - 1, 0)


RADIX_BITS = 11   # digit width of radix_argsort: 2048 counters stay in the L1 cache


@numba.njit(cache=True)
def radix_argsort(values, significant_bits):
    """Return an order of uint64 ``values`` sorted by their leading ``significant_bits``.

    The values are measured from their minimum, and only the top
    ``significant_bits`` bits of that offset are sorted (64 sorts exactly).
    Values that share those bits keep their input order, so the result is
    sorted up to groups of nearby values. That is enough for cache locality
    and needs fewer passes. The sort is least-significant-digit first with
    11-bit digits, one counting pass per digit.
    """
    n = values.shape[0]
    order = np.arange(n)
    if n < 2:
        return order
    smallest = values.min()
    spread = values.max() - smallest
    width = 0
    while width < 64 and (spread >> np.uint64(width)) > 0:
        width += 1
    shift = np.uint64(max(width - significant_bits, 0))
    scratch = np.empty(n, dtype=np.int64)
    size = 1 << RADIX_BITS
    mask = np.uint64(size - 1)
    counts = np.zeros(size, dtype=np.int64)
    while shift < np.uint64(width):
        counts[:] = 0
        for i in range(n):
            counts[((values[i] - smallest) >> shift) & mask] += 1
        total = 0
        for digit in range(size):
            count = counts[digit]
            counts[digit] = total
            total += count
        for i in range(n):
            j = order[i]
            digit = ((values[j] - smallest) >> shift) & mask
            scratch[counts[digit]] = j
            counts[digit] += 1
        order, scratch = scratch, order
        shift += np.uint64(RADIX_BITS)
    return order
