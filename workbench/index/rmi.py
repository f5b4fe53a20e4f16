"""The recursive model index (RMI), two stages.

Kraska, Beutel, Chi, Dean & Polyzotis, "The Case for Learned Index
Structures", SIGMOD 2018. A root model routes a key to one of
``branching`` leaf models. Each leaf is a least-squares line from key to
position that records its largest errors below and above its prediction over
the keys routed to it, so the last-mile search of a key is bounded.
"""

from __future__ import annotations

import warnings
from typing import Any

import numba
import numpy as np

from workbench.core.validation import check_choice, check_int
from workbench.index.base import LearnedIndex, ModelLines
from workbench.index.kernels import first_positions, window_around, windowed_lower_bound
from workbench.index.keys import MAX_BRANCHING, check_keys
from workbench.index.pgm import model_space

ROOT_MODELS = ("linear", "cubic", "radix")
ROOT_FIT_SAMPLE = 100_000   # keys the root polynomial is fitted on, evenly spaced


@numba.njit(cache=True)
def _features(values, low, span):
    """Map keys to x = (key - low) / span, clipped to [0, 1]; NaN (from infinities) maps to 0."""
    x = np.empty(values.shape[0])
    for i in range(values.shape[0]):
        value = (float(values[i]) - low) / span
        if not value > 0.0:
            value = 0.0
        elif value > 1.0:
            value = 1.0
        x[i] = value
    return x


@numba.njit(cache=True)
def _route(x, root_kind, root_coefficients, n_leaves):
    """Return the leaf of key feature ``x`` (float64, in [0, 1] over the key range)."""
    if root_kind == 2:                        # radix: the leading bits of the key range
        value = x * n_leaves
    else:                                     # polynomial in x, giving a leaf index
        value = 0.0
        for c in root_coefficients:
            value = value * x + c
    if not value > 0.0:
        return 0
    if value >= n_leaves - 1:
        return n_leaves - 1
    return int(value)


@numba.njit(cache=True)
def _route_all(x, root_kind, root_coefficients, n_leaves):
    leaves = np.empty(x.shape[0], dtype=np.int64)
    for i in range(x.shape[0]):
        leaves[i] = _route(x[i], root_kind, root_coefficients, n_leaves)
    return leaves


@numba.njit(cache=True)
def _rmi_lookup(keys, model_queries, queries, low, span, root_kind, root_coefficients,
                slopes, intercepts, error_below, error_above, positions, predicted_out, lo_out,
                hi_out):
    n_leaves = slopes.shape[0]
    for i in range(queries.shape[0]):
        x = (float(model_queries[i]) - low) / span
        if not x >= 0.0:          # also NaN, from infinite keys
            x = 0.0
        elif x > 1.0:
            x = 1.0
        leaf = _route(x, root_kind, root_coefficients, n_leaves)
        predicted = slopes[leaf] * x + intercepts[leaf]
        lo, hi = window_around(predicted, error_below[leaf], error_above[leaf], keys.shape[0])
        predicted_out[i], lo_out[i], hi_out[i] = predicted, lo, hi
        positions[i] = windowed_lower_bound(keys, queries[i], lo, hi)


class RMI(LearnedIndex):
    """A two-stage recursive model index with per-leaf error bounds.

    Parameters
    ----------
    keys : array-like, shape (n,)
        Sorted uint64, int64 or float64 keys; duplicates are allowed.
    branching : int, default 1024
        Number of leaf models.
    root : {"linear", "cubic", "radix"}, default "linear"
        Root model: a least-squares line or cubic from the key to the leaf
        index, or the leading bits of the key within the key range.
    sort : bool, default False

    Attributes
    ----------
    error_below, error_above : ndarray of int64, shape (branching,)
        Largest distances below and above each leaf's prediction over its keys.
    """

    def __init__(self, keys: Any, *, branching: int = 1024, root: str = "linear",
                 sort: bool = False) -> None:
        self.keys = check_keys(keys, sort=sort)
        self.branching = check_int("branching", branching, minimum=1, maximum=MAX_BRANCHING)
        self.root = check_choice("root", root, ROOT_MODELS)
        self.fit_root()
        self.fit_leaves()

    @classmethod
    def unfitted(cls, keys: Any, *, branching: int = 1024, root: str = "linear",
                 sort: bool = False) -> RMI:
        """Return an RMI whose stages are fitted later, by :meth:`fit_root` then :meth:`fit_leaves`."""
        index = cls.__new__(cls)
        index.keys = check_keys(keys, sort=sort)
        index.branching = check_int("branching", branching, minimum=1, maximum=MAX_BRANCHING)
        index.root = check_choice("root", root, ROOT_MODELS)
        return index

    def root_curve(self, size: int = 256) -> tuple[np.ndarray, np.ndarray]:
        """Return ``size`` evenly spaced keys (float64) and the root's predicted positions.

        The prediction is the leaf index scaled to positions (leaf * n / branching)
        before it is rounded down, so the curve shows the root model itself.
        """
        x = np.linspace(0.0, 1.0, size)
        keys = self._low + x * self._span - (2.0**63 if self.keys.dtype == np.int64 else 0.0)
        if self._root_kind == 2:
            leaf = x * self.branching
        else:
            leaf = np.polyval(self._root, x)
        return keys, np.clip(leaf, 0, self.branching) * self.keys.size / self.branching

    def _features(self, values: np.ndarray) -> np.ndarray:
        return _features(model_space(values), self._low, self._span)

    def fit_root(self) -> None:
        """Fit the first stage: the root model that routes each key to a leaf."""
        n = self.keys.size
        unique, positions = first_positions(model_space(self.keys)) if n else (
            np.zeros(0, np.uint64), np.zeros(0, np.int64))
        values = unique.astype(np.float64)
        self._low = float(values[0]) if n else 0.0
        with np.errstate(invalid="ignore", over="ignore"):     # inf - inf for infinite keys
            self._span = float(values[-1] - values[0]) if n else 1.0
        if not np.isfinite(self._span) or self._span <= 0:
            self._span = 1.0
        x = self._features(unique) if n else values
        leaf_target = positions * self.branching / max(n, 1)
        self._root_kind, self._root = 2, np.zeros(1)
        # A polynomial fit needs distinct feature values; identical ones (all keys
        # in one float64 bucket) would make LAPACK reject the scaled system.
        if self.root != "radix" and len(x) >= 2 and np.ptp(x) > 0:
            degree = 3 if self.root == "cubic" and len(x) >= 4 else 1
            try:
                with warnings.catch_warnings():
                    # A poorly conditioned fit is still a valid root: the leaves'
                    # error bounds are measured after routing, whatever the root.
                    warnings.simplefilter("ignore", np.exceptions.RankWarning)
                    # The root is a coarse model: fit it on evenly spaced keys.
                    sample = np.unique(np.linspace(0, len(x) - 1, min(len(x), ROOT_FIT_SAMPLE))
                                       .astype(np.int64))
                    coefficients = np.polyfit(x[sample], leaf_target[sample], degree)
            except np.linalg.LinAlgError:
                coefficients = np.full(1, np.nan)
            # NOTE: keys too spread out for a stable fit (float keys up to 1e300)
            # fall back to the radix root. The error bounds stay valid either way.
            if np.all(np.isfinite(coefficients)):
                self._root_kind, self._root = 0, coefficients
        self._root = np.ascontiguousarray(self._root, dtype=np.float64)
        self._unique, self._unique_positions, self._x = unique, positions, x

    def fit_leaves(self) -> None:
        """Fit the second stage: a line and its error bounds per leaf, on the keys routed there."""
        x, positions = self._x, self._unique_positions
        leaves = _route_all(np.ascontiguousarray(x), self._root_kind, self._root, self.branching)
        x = np.ascontiguousarray(x, dtype=np.float64)
        self.slopes, self.intercepts = _fit_leaves(x, positions.astype(np.float64), leaves,
                                                   self.branching)
        self.error_below, self.error_above = _leaf_errors(x, positions, leaves, self.slopes,
                                                          self.intercepts, self.branching)
        del self._unique, self._unique_positions, self._x

    def _lookup(self, queries: np.ndarray, positions: np.ndarray, predicted: np.ndarray,
                lo: np.ndarray, hi: np.ndarray) -> None:
        _rmi_lookup(self.keys, model_space(queries), queries, self._low, self._span,
                    self._root_kind, self._root, self.slopes, self.intercepts, self.error_below,
                    self.error_above, positions, predicted, lo, hi)

    @property
    def size_bytes(self) -> int:
        """Bytes of the models: root coefficients, leaf lines and error bounds."""
        return int(self._root.nbytes + self.slopes.nbytes + self.intercepts.nbytes
                   + self.error_below.nbytes + self.error_above.nbytes)

    def models(self) -> ModelLines:
        """Return the non-empty leaves as lines from key to position."""
        if self.keys.size == 0:
            return ModelLines(self.keys.copy(), self.keys.copy(), np.zeros(0), np.zeros(0),
                              np.zeros(0, np.int64), np.zeros(0, np.int64))
        unique = self.keys[first_positions(self.keys)[1]]
        x = self._features(unique)
        leaves = _route_all(np.ascontiguousarray(x), self._root_kind, self._root, self.branching)
        used, first_index = np.unique(leaves, return_index=True)
        last_index = len(leaves) - 1 - np.unique(leaves[::-1], return_index=True)[1]
        first_x = x[first_index]
        # The leaf predicts slope * x + intercept with x = (key - low) / span.
        slopes = self.slopes[used] / self._span
        intercepts = self.slopes[used] * first_x + self.intercepts[used]
        return ModelLines(unique[first_index], unique[last_index], slopes, intercepts,
                          self.error_below[used].copy(), self.error_above[used].copy())

    def stats(self) -> dict[str, Any]:
        """Return the models per stage, height and the leaves' error bounds."""
        errors = np.maximum(self.error_below, self.error_above)
        return {"models_per_level": [self.branching, 1], "height": 2, "root": self.root,
                "max_abs_error": int(errors.max()) if errors.size else 0,
                "mean_abs_error": float(errors.mean()) if errors.size else 0.0,
                "size_bytes": self.size_bytes}


@numba.njit(cache=True)
def _fit_leaves(x, y, leaves, n_leaves):
    """Fit a least-squares line per leaf; an empty leaf predicts the next leaf's first position.

    The sums are centred on each leaf's means (two passes), because the
    one-pass formula ``n * sum(x^2) - sum(x)^2`` cancels to zero for a leaf
    whose keys span a tiny part of [0, 1].
    """
    count = np.zeros(n_leaves)
    mean_x = np.zeros(n_leaves)
    mean_y = np.zeros(n_leaves)
    first = np.full(n_leaves, float(y.shape[0]))
    for i in range(x.shape[0]):
        leaf = leaves[i]
        count[leaf] += 1.0
        mean_x[leaf] += x[i]
        mean_y[leaf] += y[i]
        first[leaf] = min(first[leaf], y[i])
    for leaf in range(n_leaves):
        if count[leaf] > 0:
            mean_x[leaf] /= count[leaf]
            mean_y[leaf] /= count[leaf]
    sxx = np.zeros(n_leaves)
    sxy = np.zeros(n_leaves)
    for i in range(x.shape[0]):
        leaf = leaves[i]
        dx = x[i] - mean_x[leaf]
        sxx[leaf] += dx * dx
        sxy[leaf] += dx * (y[i] - mean_y[leaf])
    slopes = np.zeros(n_leaves)
    intercepts = np.zeros(n_leaves)
    next_first = float(y.shape[0])
    for leaf in range(n_leaves - 1, -1, -1):
        if count[leaf] > 0:
            if sxx[leaf] > 0.0:
                slopes[leaf] = sxy[leaf] / sxx[leaf]
            intercepts[leaf] = mean_y[leaf] - slopes[leaf] * mean_x[leaf]
            next_first = first[leaf]
        else:
            intercepts[leaf] = next_first
    return slopes, intercepts


@numba.njit(cache=True)
def _leaf_errors(x, positions, leaves, slopes, intercepts, n_leaves):
    """Return the largest distance below and above each leaf's rounded-down prediction."""
    below = np.zeros(n_leaves, dtype=np.int64)
    above = np.zeros(n_leaves, dtype=np.int64)
    for i in range(x.shape[0]):
        leaf = leaves[i]
        center = int(np.floor(slopes[leaf] * x[i] + intercepts[leaf]))
        below[leaf] = max(below[leaf], center - positions[i])
        above[leaf] = max(above[leaf], positions[i] - center)
    return below, above
