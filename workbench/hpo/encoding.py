"""Map configurations of an Optuna search space to the unit cube and back.

Each float parameter takes one dimension, scaled linearly (or in log space
for ``log=True``) so that its bounds map to 0 and 1. An integer parameter
takes one dimension covering ``[low - 0.5, high + 0.5]`` (in log space for
``log=True``), so every integer owns an equal slice of it and decoding rounds
to the nearest valid value. A categorical parameter takes one dimension per
choice (one-hot), decoded by argmax. Values outside the bounds (points
observed before a range was narrowed) map outside ``[0, 1]``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from optuna.distributions import (BaseDistribution, CategoricalDistribution, FloatDistribution,
                                  IntDistribution)
from scipy.stats import qmc


class SpaceEncoder:
    """Encoder between ``{name: value}`` configurations and unit-cube vectors.

    Attributes
    ----------
    n_dims : int
        Length of an encoded vector.
    continuous : ndarray of bool, shape (n_dims,)
        Dimensions of float and integer parameters (moved by local refinement);
        one-hot dimensions of categoricals are False.
    """

    def __init__(self, space: Mapping[str, BaseDistribution]) -> None:
        self.space = dict(space)
        self.slices: dict[str, slice] = {}
        start = 0
        for name, distribution in self.space.items():
            width = len(distribution.choices) if isinstance(distribution,
                                                            CategoricalDistribution) else 1
            self.slices[name] = slice(start, start + width)
            start += width
        self.n_dims = start
        self.continuous = np.zeros(self.n_dims, dtype=bool)
        for name, distribution in self.space.items():
            if not isinstance(distribution, CategoricalDistribution):
                self.continuous[self.slices[name]] = True

    @staticmethod
    def _range(distribution: FloatDistribution | IntDistribution) -> tuple[float, float, bool]:
        low, high = float(distribution.low), float(distribution.high)
        if isinstance(distribution, IntDistribution):
            half = 0.5 * distribution.step
            low, high = low - half, high + half
        if distribution.log:
            return math.log(low), math.log(high), True
        return low, high, False

    def encode(self, params: Mapping[str, Any]) -> np.ndarray:
        """Return the unit-cube vector of one configuration, shape (n_dims,)."""
        x = np.zeros(self.n_dims)
        for name, distribution in self.space.items():
            value = params[name]
            position = self.slices[name]
            if isinstance(distribution, CategoricalDistribution):
                x[position.start + distribution.to_internal_repr(value)] = 1.0
                continue
            low, high, log = self._range(distribution)
            scaled = math.log(value) if log else float(value)
            x[position.start] = (scaled - low) / (high - low)
        return x

    def decode(self, x: np.ndarray) -> dict[str, Any]:
        """Return the valid configuration nearest to unit-cube vector ``x``."""
        params: dict[str, Any] = {}
        for name, distribution in self.space.items():
            position = self.slices[name]
            if isinstance(distribution, CategoricalDistribution):
                params[name] = distribution.choices[int(np.argmax(x[position]))]
                continue
            low, high, log = self._range(distribution)
            scaled = low + float(np.clip(x[position.start], 0.0, 1.0)) * (high - low)
            value = math.exp(scaled) if log else scaled
            params[name] = _snap(distribution, value)
        return params

    def project(self, X: np.ndarray) -> np.ndarray:
        """Return each row of ``X`` (m, n_dims) moved to the encoding of its decoded configuration."""
        return np.array([self.encode(self.decode(x)) for x in np.atleast_2d(X)])

    def quasi_random(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Return ``n`` scrambled-Sobol points in the cube, categoricals as one-hot, shape (n, n_dims)."""
        sobol = qmc.Sobol(d=len(self.space), scramble=True, seed=rng)
        # Sobol sequences are balanced at powers of two; draw the next one and keep n.
        u = sobol.random(2 ** max(1, math.ceil(math.log2(max(n, 2)))))[:n]
        X = np.zeros((n, self.n_dims))
        for column, (name, distribution) in enumerate(self.space.items()):
            position = self.slices[name]
            if isinstance(distribution, CategoricalDistribution):
                choice = np.minimum((u[:, column] * len(distribution.choices)).astype(int),
                                    len(distribution.choices) - 1)
                X[np.arange(n), position.start + choice] = 1.0
            else:
                X[:, position.start] = u[:, column]
        return X


def _snap(distribution: FloatDistribution | IntDistribution, value: float) -> Any:
    if isinstance(distribution, IntDistribution):
        steps = round((value - distribution.low) / distribution.step)
        return int(min(max(distribution.low + steps * distribution.step, distribution.low),
                       distribution.high))
    if distribution.step is not None:
        steps = round((value - distribution.low) / distribution.step)
        value = distribution.low + steps * distribution.step
    return float(min(max(value, distribution.low), distribution.high))
