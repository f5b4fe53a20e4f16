"""Optimal piecewise-linear approximation with maximum error epsilon.

Given points (x_i, y_i) with strictly increasing x, the streaming algorithm
of O'Rourke (1981), in the form used by the PGM-index (Ferragina & Vinciguerra,
PVLDB 13(8), 2020, Section 2), keeps the convex hulls of the points shifted
up and down by epsilon and the quadrilateral of feasible lines. A segment
ends at the first point no line can reach within epsilon; this gives the
minimum number of segments, in linear time.

NOTE: the geometry is computed in float64 on x relative to each segment's
first key. For integer keys spread over more than 2^53 the rounding can, in
rare cases, end a segment one point early or late; lookups stay exact
because every search result is verified.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def _cross(ox, oy, ax, ay, bx, by):
    return (ax - ox) * (by - oy) - (ay - oy) * (bx - ox)


@numba.njit(cache=True)
def segment_points(keys, positions, epsilon):
    """Segment ``(keys[i], positions[i])`` optimally; return arrays of segment data.

    Returns ``(start, slope, intercept)``: for each segment the index of its
    first point, and the line ``y = slope * (x - keys[start]) + intercept``.
    ``keys`` must be strictly increasing; ``epsilon`` >= 0.
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
    capacity = n - first if max_segments < 0 else min(n - first, max_segments)
    capacity = max(capacity, 0)
    starts = np.empty(capacity, dtype=np.int64)
    slopes = np.empty(capacity, dtype=np.float64)
    intercepts = np.empty(capacity, dtype=np.float64)
    upper_x = np.empty(n, dtype=np.float64)
    upper_y = np.empty(n, dtype=np.float64)
    lower_x = np.empty(n, dtype=np.float64)
    lower_y = np.empty(n, dtype=np.float64)
    rect_x = np.empty(4, dtype=np.float64)
    rect_y = np.empty(4, dtype=np.float64)
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
        last_x = 0.0
        while i < n:
            x = float(keys[i] - origin)
            y = float(positions[i])
            # Float keys so far apart that x rounds to the previous x (or is not
            # finite) cannot share a line with it: the segment ends here.
            if count > 0 and (not x > last_x or x == np.inf):
                break
            last_x = x
            p1x, p1y = x, y + epsilon      # upper point
            p2x, p2y = x, y - epsilon      # lower point
            if count == 0:
                rect_x[0], rect_y[0] = p1x, p1y
                rect_x[1], rect_y[1] = p2x, p2y
                upper_x[0], upper_y[0] = p1x, p1y
                lower_x[0], lower_y[0] = p2x, p2y
                upper_n, lower_n = 1, 1
                count = 1
                i += 1
                continue
            if count == 1:
                rect_x[2], rect_y[2] = p2x, p2y
                rect_x[3], rect_y[3] = p1x, p1y
                upper_x[upper_n], upper_y[upper_n] = p1x, p1y
                lower_x[lower_n], lower_y[lower_n] = p2x, p2y
                upper_n += 1
                lower_n += 1
                count = 2
                i += 1
                continue
            # Slopes of the quadrilateral's two diagonals, as direction vectors.
            s1x, s1y = rect_x[2] - rect_x[0], rect_y[2] - rect_y[0]
            s2x, s2y = rect_x[3] - rect_x[1], rect_y[3] - rect_y[1]
            # Slope (dx, dy) a < slope b  <=>  a.dy * b.dx < b.dy * a.dx  (dx > 0).
            d1x, d1y = p1x - rect_x[2], p1y - rect_y[2]
            d2x, d2y = p2x - rect_x[3], p2y - rect_y[3]
            outside1 = d1y * s1x < s1y * d1x
            outside2 = d2y * s2x > s2y * d2x
            if outside1 or outside2:
                break
            e1x, e1y = p1x - rect_x[1], p1y - rect_y[1]
            if e1y * s2x < s2y * e1x:
                # The upper point lowers the maximum slope: find the lower-hull tangent.
                best_x, best_y = lower_x[lower_start] - p1x, lower_y[lower_start] - p1y
                best_i = lower_start
                for k in range(lower_start + 1, lower_n):
                    vx, vy = lower_x[k] - p1x, lower_y[k] - p1y
                    if vy * best_x > best_y * vx:   # val > min
                        break
                    best_x, best_y, best_i = vx, vy, k
                rect_x[1], rect_y[1] = lower_x[best_i], lower_y[best_i]
                rect_x[3], rect_y[3] = p1x, p1y
                lower_start = best_i
                end = upper_n
                while end >= upper_start + 2 and _cross(upper_x[end - 2], upper_y[end - 2],
                                                        upper_x[end - 1], upper_y[end - 1],
                                                        p1x, p1y) <= 0:
                    end -= 1
                upper_x[end], upper_y[end] = p1x, p1y
                upper_n = end + 1
            e2x, e2y = p2x - rect_x[0], p2y - rect_y[0]
            if e2y * s1x > s1y * e2x:
                # The lower point raises the minimum slope: find the upper-hull tangent.
                best_x, best_y = upper_x[upper_start] - p2x, upper_y[upper_start] - p2y
                best_i = upper_start
                for k in range(upper_start + 1, upper_n):
                    vx, vy = upper_x[k] - p2x, upper_y[k] - p2y
                    if vy * best_x < best_y * vx:   # val < max
                        break
                    best_x, best_y, best_i = vx, vy, k
                rect_x[0], rect_y[0] = upper_x[best_i], upper_y[best_i]
                rect_x[2], rect_y[2] = p2x, p2y
                upper_start = best_i
                end = lower_n
                while end >= lower_start + 2 and _cross(lower_x[end - 2], lower_y[end - 2],
                                                        lower_x[end - 1], lower_y[end - 1],
                                                        p2x, p2y) >= 0:
                    end -= 1
                lower_x[end], lower_y[end] = p2x, p2y
                lower_n = end + 1
            count += 1
            i += 1

        starts[n_segments] = start
        if count == 1:
            slopes[n_segments] = 0.0
            intercepts[n_segments] = (rect_y[0] + rect_y[1]) / 2.0
        else:
            # A line through the intersection of the diagonals with the middle slope.
            min_slope = 0.0
            max_slope = 0.0
            if rect_x[2] != rect_x[0]:
                min_slope = (rect_y[2] - rect_y[0]) / (rect_x[2] - rect_x[0])
            if rect_x[3] != rect_x[1]:
                max_slope = (rect_y[3] - rect_y[1]) / (rect_x[3] - rect_x[1])
            a1 = rect_y[2] - rect_y[0]
            b1 = rect_x[0] - rect_x[2]
            c1 = a1 * rect_x[0] + b1 * rect_y[0]
            a2 = rect_y[3] - rect_y[1]
            b2 = rect_x[1] - rect_x[3]
            c2 = a2 * rect_x[1] + b2 * rect_y[1]
            determinant = a1 * b2 - a2 * b1
            slope = (min_slope + max_slope) / 2.0
            if determinant == 0.0:
                intercepts[n_segments] = rect_y[0] - slope * rect_x[0]
            else:
                ix = (b2 * c1 - b1 * c2) / determinant
                iy = (a1 * c2 - a2 * c1) / determinant
                intercepts[n_segments] = iy - ix * slope
            slopes[n_segments] = slope
        n_segments += 1
    return starts[:n_segments], slopes[:n_segments], intercepts[:n_segments], i
