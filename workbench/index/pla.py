"""Optimal piecewise-linear approximation with maximum error epsilon.

Given points (x_i, y_i) with strictly increasing x, the streaming algorithm
of O'Rourke (1981), in the form used by the PGM-index (Ferragina & Vinciguerra,
PVLDB 13(8), 2020, Section 2), keeps the convex hulls of the points shifted
up and down by epsilon and the quadrilateral of feasible lines. A segment
ends at the first point no line can reach within epsilon; this gives the
minimum number of segments, in linear time.

Every decision of the algorithm compares two slopes, ``dy1 / dx1 < dy2 / dx2``,
as the cross products ``dy1 * dx2 < dy2 * dx1``. For integer keys these
products need up to 128 bits (x spans 2^64, y up to 2^63), so
:func:`slope_less` computes them exactly with 64 x 64 -> 128-bit
multiplication; float64 products would misjudge keys spread over more than
2^53 and break the error bound. Float keys compare in float64.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import types
from numba.extending import overload

_LOW_MASK = np.uint64(0xFFFFFFFF)
_HALF = np.uint64(32)


@numba.njit(cache=True)
def _multiply_128(a, b):
    """Return the 128-bit product of uint64 ``a`` and ``b`` as (high, low) uint64 words."""
    a_low, a_high = a & _LOW_MASK, a >> _HALF
    b_low, b_high = b & _LOW_MASK, b >> _HALF
    low_low = a_low * b_low
    low_high = a_low * b_high
    high_low = a_high * b_low
    middle = (low_low >> _HALF) + (low_high & _LOW_MASK) + (high_low & _LOW_MASK)
    low = (middle << _HALF) | (low_low & _LOW_MASK)
    high = a_high * b_high + (low_high >> _HALF) + (high_low >> _HALF) + (middle >> _HALF)
    return high, low


# float64 products of exact integers are each within a relative 3 * 2^-53 of
# the true product. A float difference larger than this share of their sum
# therefore has the true difference's sign, and only nearer cases need the
# 128-bit products.
_FLOAT_DECIDES = 1e-14


@numba.njit(cache=True)
def _product_sign(dy, dx):
    """Return the sign (-1, 0 or 1) of ``dy * dx`` for ``dx`` >= 0."""
    if dx == 0 or dy == 0:
        return 0
    if dy > 0:
        return 1
    return -1


@numba.njit(cache=True)
def _exact_product_less(dy1, dx2, dy2, dx1):
    """Return ``dy1 * dx2 < dy2 * dx1`` exactly for int64 ``dy`` and uint64 ``dx``."""
    product1 = float(dy1) * float(dx2)
    product2 = float(dy2) * float(dx1)
    if abs(product1 - product2) > _FLOAT_DECIDES * (abs(product1) + abs(product2)):
        return product1 < product2
    sign1 = _product_sign(dy1, dx2)
    sign2 = _product_sign(dy2, dx1)
    if sign1 != sign2:
        return sign1 < sign2
    if sign1 == 0:
        return False
    high1, low1 = _multiply_128(np.uint64(abs(dy1)), dx2)
    high2, low2 = _multiply_128(np.uint64(abs(dy2)), dx1)
    smaller = high1 < high2 or (high1 == high2 and low1 < low2)
    larger = high1 > high2 or (high1 == high2 and low1 > low2)
    return smaller if sign1 > 0 else larger


def slope_less(dy1, dx1, dy2, dx2):
    """Return whether slope ``dy1 / dx1`` is below ``dy2 / dx2`` (both ``dx`` >= 0)."""
    return dy1 * dx2 < dy2 * dx1


@overload(slope_less)
def _slope_less_compiled(dy1, dx1, dy2, dx2):
    if isinstance(dx1, types.Integer):
        def exact(dy1, dx1, dy2, dx2):
            return _exact_product_less(dy1, dx2, dy2, dx1)
        return exact

    def floating(dy1, dx1, dy2, dx2):
        return float(dy1) * dx2 < float(dy2) * dx1
    return floating


@numba.njit(cache=True)
def segment_points(keys, positions, epsilon):
    """Segment ``(keys[i], positions[i])`` optimally; return arrays of segment data.

    Returns ``(start, slope, intercept)``: for each segment the index of its
    first point, and the line ``y = slope * (x - keys[start]) + intercept``.
    ``keys`` must be strictly increasing; ``epsilon`` is an integer >= 0.
    """
    starts, slopes, intercepts, _ = segment_block(keys, positions, epsilon, 0, -1)
    return starts, slopes, intercepts


@numba.njit(cache=True)
def segment_block(keys, positions, epsilon, first, max_segments):
    """Segment the points from index ``first`` on, stopping after ``max_segments`` segments.

    Returns ``(start, slope, intercept, next_first)``; ``next_first`` is where
    the next block resumes (``len(keys)`` when every point is covered).
    Segmenting block by block gives exactly the segments of one call, because
    each segment depends only on the points from its start on. A negative
    ``max_segments`` means no limit.
    """
    n = keys.shape[0]
    epsilon = np.int64(epsilon)
    capacity = n - first if max_segments < 0 else min(n - first, max_segments)
    capacity = max(capacity, 0)
    starts = np.empty(capacity, dtype=np.int64)
    slopes = np.empty(capacity, dtype=np.float64)
    intercepts = np.empty(capacity, dtype=np.float64)
    # Hull vertices: x relative to the segment's first key (the keys' dtype,
    # exact for integers) and y = position +- epsilon (int64, exact).
    upper_x = np.empty(n - first, dtype=keys.dtype)
    upper_y = np.empty(n - first, dtype=np.int64)
    lower_x = np.empty(n - first, dtype=keys.dtype)
    lower_y = np.empty(n - first, dtype=np.int64)
    # The feasible quadrilateral: 0 and 2 span the minimum slope, 1 and 3 the maximum.
    rect_x = np.empty(4, dtype=keys.dtype)
    rect_y = np.empty(4, dtype=np.int64)
    n_segments = 0
    i = first
    while i < n and n_segments < capacity:
        start = i
        origin = keys[start]
        upper_n = 0
        lower_n = 0
        upper_start = 0
        lower_start = 0
        count = 0
        last_x = keys[start] - origin
        while i < n:
            x = keys[i] - origin
            # Float keys so far apart that x rounds to the previous x (or is not
            # finite) cannot share a line with it: the segment ends here.
            if count > 0 and (not x > last_x or float(x) == np.inf):
                break
            last_x = x
            y = positions[i]
            p1y = y + epsilon                   # the point shifted up
            p2y = y - epsilon                   # and down
            if count == 0:
                rect_x[0], rect_y[0] = x, p1y
                rect_x[1], rect_y[1] = x, p2y
                upper_x[0], upper_y[0] = x, p1y
                lower_x[0], lower_y[0] = x, p2y
                upper_n, lower_n = 1, 1
                count = 1
                i += 1
                continue
            if count == 1:
                rect_x[2], rect_y[2] = x, p2y
                rect_x[3], rect_y[3] = x, p1y
                upper_x[upper_n], upper_y[upper_n] = x, p1y
                lower_x[lower_n], lower_y[lower_n] = x, p2y
                upper_n += 1
                lower_n += 1
                count = 2
                i += 1
                continue
            # Diagonals of the quadrilateral, as (dx, dy) with dx >= 0.
            s1x, s1y = rect_x[2] - rect_x[0], rect_y[2] - rect_y[0]
            s2x, s2y = rect_x[3] - rect_x[1], rect_y[3] - rect_y[1]
            d1x, d1y = x - rect_x[2], p1y - rect_y[2]
            d2x, d2y = x - rect_x[3], p2y - rect_y[3]
            # The upper point below the minimum slope, or the lower point above
            # the maximum slope: no line reaches both within epsilon.
            if slope_less(d1y, d1x, s1y, s1x) or slope_less(s2y, s2x, d2y, d2x):
                break
            e1x, e1y = x - rect_x[1], p1y - rect_y[1]
            if slope_less(e1y, e1x, s2y, s2x):
                # The upper point lowers the maximum slope: find the lower-hull
                # tangent through it (vectors from hull vertices to the point).
                best_i = lower_start
                best_x, best_y = x - lower_x[best_i], p1y - lower_y[best_i]
                for k in range(lower_start + 1, lower_n):
                    vx, vy = x - lower_x[k], p1y - lower_y[k]
                    if slope_less(best_y, best_x, vy, vx):
                        break
                    best_x, best_y, best_i = vx, vy, k
                rect_x[1], rect_y[1] = lower_x[best_i], lower_y[best_i]
                rect_x[3], rect_y[3] = x, p1y
                lower_start = best_i
                end = upper_n
                while end >= upper_start + 2 and not slope_less(
                        upper_y[end - 1] - upper_y[end - 2], upper_x[end - 1] - upper_x[end - 2],
                        p1y - upper_y[end - 2], x - upper_x[end - 2]):
                    end -= 1
                upper_x[end], upper_y[end] = x, p1y
                upper_n = end + 1
            e2x, e2y = x - rect_x[0], p2y - rect_y[0]
            if slope_less(s1y, s1x, e2y, e2x):
                # The lower point raises the minimum slope: find the upper-hull tangent.
                best_i = upper_start
                best_x, best_y = x - upper_x[best_i], p2y - upper_y[best_i]
                for k in range(upper_start + 1, upper_n):
                    vx, vy = x - upper_x[k], p2y - upper_y[k]
                    if slope_less(vy, vx, best_y, best_x):
                        break
                    best_x, best_y, best_i = vx, vy, k
                rect_x[0], rect_y[0] = upper_x[best_i], upper_y[best_i]
                rect_x[2], rect_y[2] = x, p2y
                upper_start = best_i
                end = lower_n
                while end >= lower_start + 2 and not slope_less(
                        p2y - lower_y[end - 2], x - lower_x[end - 2],
                        lower_y[end - 1] - lower_y[end - 2], lower_x[end - 1] - lower_x[end - 2]):
                    end -= 1
                lower_x[end], lower_y[end] = x, p2y
                lower_n = end + 1
            count += 1
            i += 1

        starts[n_segments] = start
        if count == 1:
            slopes[n_segments] = 0.0
            intercepts[n_segments] = float(positions[start])
        else:
            slope = _middle_slope(rect_x, rect_y)
            slopes[n_segments] = slope
            intercepts[n_segments] = _middle_intercept(keys, positions, start, i, slope,
                                                       float(epsilon))
        n_segments += 1
    return starts[:n_segments], slopes[:n_segments], intercepts[:n_segments], i


@numba.njit(cache=True)
def _middle_slope(rect_x, rect_y):
    """Return the mean of the feasible quadrilateral's minimum and maximum slope."""
    min_slope = (rect_y[2] - rect_y[0]) / float(rect_x[2] - rect_x[0])
    max_slope = (rect_y[3] - rect_y[1]) / float(rect_x[3] - rect_x[1])
    return (min_slope + max_slope) / 2.0


@numba.njit(cache=True)
def _middle_intercept(keys, positions, start, stop, slope, epsilon):
    """Return the middle of the intercepts that keep points ``start..stop-1`` within epsilon.

    Every slope between the minimum and the maximum feasible slope has a
    feasible intercept range; this pass computes it in float64 from the
    exact offsets. The rounding is relative to the positions, so it adds far
    less than one position of error.
    """
    origin = keys[start]
    lowest = -np.inf
    highest = np.inf
    for j in range(start, stop):
        shifted = positions[j] - slope * float(keys[j] - origin)
        lowest = max(lowest, shifted - epsilon)
        highest = min(highest, shifted + epsilon)
    return (lowest + highest) / 2.0
