"""The interface every learned index shares."""

from __future__ import annotations

import abc
from typing import Any

import numpy as np

from workbench.index.keys import convert_queries


class LearnedIndex(abc.ABC):
    """A sorted key array plus a model that predicts each key's position.

    Subclasses set ``keys`` and implement :meth:`_run`, which returns the
    exact lower bounds and the model's predicted positions of the queries.
    """

    keys: np.ndarray

    @abc.abstractmethod
    def _run(self, queries: Any) -> tuple[np.ndarray, np.ndarray]:
        """Return (lower bounds, predicted positions) of ``queries``, each shape (m,)."""

    def lower_bound(self, queries: Any) -> np.ndarray:
        """Return ``numpy.searchsorted(keys, queries, side="left")``, shape (m,), int64."""
        return self._run(queries)[0]

    def contains(self, queries: Any) -> np.ndarray:
        """Return whether each query is a key, shape (m,), bool."""
        converted, below, above = convert_queries(queries, self.keys.dtype)
        positions = self.lower_bound(queries)
        found = positions < self.keys.size
        found[found] = self.keys[positions[found]] == converted[found]
        return found & ~below & ~above
