"""The interface every learned index shares."""

from __future__ import annotations

import abc
import dataclasses
from typing import Any

import numpy as np

from workbench.index.keys import convert_queries


@dataclasses.dataclass(frozen=True)
class Lookup:
    """Result of a batch of queries, each array of shape (m,).

    Attributes
    ----------
    queries : ndarray
        The queries in the keys' dtype (clipped where out of its range).
    positions : ndarray of int64
        Exact lower bounds, as ``numpy.searchsorted(keys, queries, side="left")``.
    predicted : ndarray of float64
        The model's predicted positions.
    lo, hi : ndarray of int64
        The last-mile window ``[lo, hi)`` searched first.
    outside : ndarray of bool
        Queries below or above every value of the keys' dtype.
    """

    queries: np.ndarray
    positions: np.ndarray
    predicted: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    outside: np.ndarray


class LearnedIndex(abc.ABC):
    """A sorted key array plus a model that predicts each key's position.

    Subclasses set ``keys`` and implement :meth:`_lookup` on non-empty keys.
    """

    keys: np.ndarray

    @abc.abstractmethod
    def _lookup(self, queries: np.ndarray, positions: np.ndarray, predicted: np.ndarray,
                lo: np.ndarray, hi: np.ndarray) -> None:
        """Fill the output arrays for ``queries``, which are already in the keys' dtype."""

    def query(self, queries: Any) -> Lookup:
        """Convert ``queries`` exactly, look them up and return every intermediate result."""
        converted, below, above = convert_queries(queries, self.keys.dtype)
        size = converted.size
        positions = np.zeros(size, dtype=np.int64)
        predicted = np.zeros(size)
        lo = np.zeros(size, dtype=np.int64)
        hi = np.zeros(size, dtype=np.int64)
        if self.keys.size:
            self._lookup(converted, positions, predicted, lo, hi)
        positions[below] = 0
        positions[above] = self.keys.size
        return Lookup(converted, positions, predicted, lo, hi, below | above)

    def lower_bound(self, queries: Any) -> np.ndarray:
        """Return ``numpy.searchsorted(keys, queries, side="left")``, shape (m,), int64."""
        return self.query(queries).positions

    def contains(self, queries: Any) -> np.ndarray:
        """Return whether each query is a key, shape (m,), bool."""
        result = self.query(queries)
        found = (result.positions < self.keys.size) & ~result.outside
        found[found] = self.keys[result.positions[found]] == result.queries[found]
        return found

    def predict(self, queries: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return the predicted position and the last-mile window ``[lo, hi)`` of each query."""
        result = self.query(queries)
        return result.predicted, result.lo, result.hi
