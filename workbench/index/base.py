"""The interface every learned index shares."""

from __future__ import annotations

import abc
import dataclasses
from typing import Any

import numpy as np

from workbench.index.keys import convert_queries, model_space
from workbench.index.kernels import radix_argsort


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


@dataclasses.dataclass(frozen=True)
class ModelLines:
    """The bottom-level models drawn as lines from key to position, each array of shape (m,).

    Model ``j`` covers the keys in ``[first_keys[j], last_keys[j]]`` and
    predicts ``intercepts[j] + slopes[j] * (key - first_keys[j])``. Every key
    it covers lies within ``error_below[j]`` positions below and
    ``error_above[j]`` above that prediction, which is the error cone.
    """

    first_keys: np.ndarray
    last_keys: np.ndarray
    slopes: np.ndarray
    intercepts: np.ndarray
    error_below: np.ndarray
    error_above: np.ndarray

    def __len__(self) -> int:
        return len(self.first_keys)


@dataclasses.dataclass(frozen=True)
class LookupTrace:
    """One query's lookup step by step, for a lookup inspector.

    Attributes
    ----------
    query : int or float
        The query in the keys' dtype.
    predicted : float
        The model's predicted position.
    lo, hi : int
        The last-mile window ``[lo, hi)``.
    probes : tuple of int
        Array positions read by the last-mile search, in order.
    position : int
        The exact lower bound.
    fallback : bool
        Whether the window missed and the search widened to the whole array.
    """

    query: Any
    predicted: float
    lo: int
    hi: int
    probes: tuple[int, ...]
    position: int
    fallback: bool


def binary_search_probes(keys: np.ndarray, query: Any, lo: int, hi: int) -> tuple[int, list[int]]:
    """Return the lower bound of ``query`` in ``keys[lo:hi]`` and the positions it read."""
    probes = []
    while lo < hi:
        mid = (lo + hi) >> 1
        probes.append(mid)
        if keys[mid] < query:
            lo = mid + 1
        else:
            hi = mid
    return lo, probes


SORTED_BATCH_MIN = 4096   # unsorted batches this large are sorted before the lookup
# Leading bits a batch is sorted by (three 11-bit radix passes). Skewed keys
# crowd into few groups of the leading bits, so fewer bits lose locality there.
LOCALITY_BITS = 33


def sort_order(queries: np.ndarray, *, exact: bool = False) -> np.ndarray:
    """Return an order of ``queries`` that is ascending up to groups of nearby values.

    Integer queries are radix-sorted on their leading ``LOCALITY_BITS`` bits
    (all 64 with ``exact=True``); float queries are sorted exactly by numpy.
    """
    if queries.dtype.kind in "iu":
        return radix_argsort(model_space(queries), 64 if exact else LOCALITY_BITS)
    return np.argsort(queries, kind="stable")


class LearnedIndex(abc.ABC):
    """A sorted key array plus a model that predicts each key's position.

    Subclasses set ``keys`` and implement :meth:`_lookup` on non-empty keys,
    :meth:`models`, :meth:`stats` and :attr:`size_bytes`.
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

    def _positions(self, queries: np.ndarray, positions: np.ndarray, ascending: bool) -> None:
        """Fill ``positions`` with the lower bounds of ``queries`` (keys' dtype, non-empty keys).

        ``ascending`` is True when the queries are sorted or nearly sorted (in
        the order of :func:`sort_order`), which a subclass may use to walk its
        models in step. Results must stay exact for any order. The default runs :meth:`_lookup` with
        scratch arrays for the model outputs.
        """
        size = queries.size
        self._lookup(queries, positions, np.empty(size), np.empty(size, dtype=np.int64),
                     np.empty(size, dtype=np.int64))

    def _positions_in_order(self, queries: np.ndarray, order: np.ndarray,
                            positions: np.ndarray) -> None:
        """Fill ``positions`` by looking up ``queries[order]``, which is nearly ascending.

        The default gathers the sorted queries and scatters the results back;
        a subclass may do both inside its compiled loop.
        """
        in_order = np.empty(queries.size, dtype=np.int64)
        self._positions(queries[order], in_order, True)
        positions[order] = in_order

    def lower_bound(self, queries: Any) -> np.ndarray:
        """Return ``numpy.searchsorted(keys, queries, side="left")``, shape (m,), int64.

        A large unsorted batch is looked up in key order and the results are
        scattered back. Sorting costs O(m log m) but makes consecutive lookups
        touch neighbouring models and keys, which is faster once the batch is
        at least ``SORTED_BATCH_MIN`` queries.
        """
        converted, below, above = convert_queries(queries, self.keys.dtype)
        positions = np.zeros(converted.size, dtype=np.int64)
        if self.keys.size and converted.size:
            ascending = bool(np.all(converted[1:] >= converted[:-1]))
            if ascending or converted.size < SORTED_BATCH_MIN:
                self._positions(converted, positions, ascending)
            else:
                self._positions_in_order(converted, sort_order(converted), positions)
        positions[below] = 0
        positions[above] = self.keys.size
        return positions

    def contains(self, queries: Any) -> np.ndarray:
        """Return whether each query is a key, shape (m,), bool."""
        converted, below, above = convert_queries(queries, self.keys.dtype)
        positions = self.lower_bound(converted)
        found = (positions < self.keys.size) & ~below & ~above
        found[found] = self.keys[positions[found]] == converted[found]
        return found

    def predict(self, queries: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return the predicted position and the last-mile window ``[lo, hi)`` of each query."""
        result = self.query(queries)
        return result.predicted, result.lo, result.hi

    def trace(self, query: Any) -> LookupTrace:
        """Look up one query and record the window and every position the search reads.

        The search is a binary search in the window, verified against the
        neighbours of its result and widened to the whole array if the window
        missed, the same search the compiled lookup runs.
        """
        result = self.query(query)
        if result.queries.size != 1:
            raise ValueError(f"trace takes one query, got {result.queries.size}; pass a scalar.")
        value = result.queries[0]
        lo, hi = int(result.lo[0]), int(result.hi[0])
        n = self.keys.size
        position, probes = binary_search_probes(self.keys, value, lo, hi)
        fallback = not ((position == 0 or self.keys[position - 1] < value)
                        and (position == n or self.keys[position] >= value))
        if fallback:
            position, wide = binary_search_probes(self.keys, value, 0, n)
            probes += wide
        if result.outside[0]:
            position = int(result.positions[0])
        return LookupTrace(value.item(), float(result.predicted[0]), lo, hi, tuple(probes),
                           int(position), fallback)

    @abc.abstractmethod
    def models(self) -> ModelLines:
        """Return the bottom-level models as key-to-position lines with their error cones."""

    @abc.abstractmethod
    def stats(self) -> dict[str, Any]:
        """Return model counts per level, height, error bounds and ``size_bytes``."""

    @property
    @abc.abstractmethod
    def size_bytes(self) -> int:
        """Bytes of the model, not counting the key array."""
