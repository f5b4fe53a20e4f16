"""Grid search on an Optuna study, as a steerable search."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from optuna.distributions import BaseDistribution, CategoricalDistribution, IntDistribution

from workbench.core.validation import check_int
from workbench.hpo.study_search import StudySearch


def grid_values(distribution: BaseDistribution, n_points: int) -> list[Any]:
    """Return the grid values of one parameter.

    Categoricals give every choice. Integers give every valid value when
    there are at most ``n_points`` of them, else ``n_points`` evenly spaced
    ones (geometrically spaced for ``log=True``). Floats give ``n_points``
    evenly (or geometrically) spaced values including both bounds, snapped to
    ``step`` when there is one.
    """
    if isinstance(distribution, CategoricalDistribution):
        return list(distribution.choices)
    low, high = distribution.low, distribution.high
    if distribution.log:
        points = np.geomspace(low, high, n_points)
    else:
        points = np.linspace(low, high, n_points)
    if isinstance(distribution, IntDistribution):
        every = list(range(low, high + 1, distribution.step))
        if len(every) <= n_points:
            return every
        snapped = {int(low + round((p - low) / distribution.step) * distribution.step)
                   for p in points}
        return sorted(snapped)
    if distribution.step is not None:
        points = low + np.round((points - low) / distribution.step) * distribution.step
    return sorted({float(min(max(p, low), high)) for p in points})


class GridSearch(StudySearch):
    """Evaluate every point of a grid over ``space``, in a seeded random order.

    Parameters
    ----------
    objective, space, direction, study_name, storage, seed
        As for :class:`~workbench.hpo.study_search.StudySearch`.
    n_points : int or dict of str to int, default 5
        Grid values per float or integer parameter (see :func:`grid_values`).
    shuffle : bool, default True
        Visit the grid in a random order (seeded), so that an early stop
        still covers the whole space coarsely.
    n_trials : int, optional
        Defaults to the grid size.

    Attributes
    ----------
    grid : list of dict
        Every configuration, in visiting order.
    """

    name_prefix = "grid-search"

    def __init__(self, objective, space, *, n_points: int | Mapping[str, int] = 5,
                 shuffle: bool = True, n_trials: int | None = None, **kwargs: Any) -> None:
        self.n_points = n_points
        self.shuffle = bool(shuffle)
        self._default_n_trials = n_trials is None
        grid = _build_grid(space, n_points)
        super().__init__(objective, space, n_trials=len(grid) if n_trials is None else n_trials,
                         **kwargs)
        if self.shuffle:
            order = np.random.default_rng(self.seed).permutation(len(grid))
            grid = [grid[i] for i in order]
        self.grid = grid

    def remaining(self) -> list[dict[str, Any]]:
        """Return the grid points not yet evaluated in the study."""
        seen = {_key(trial.params) for trial in self.completed_trials()}
        return [params for params in self.grid if _key(params) not in seen]

    @property
    def done(self) -> bool:
        if self._proposals:
            return False
        return self.n_finished >= self.n_trials or not self.remaining()

    def next_params(self, trial_index: int) -> tuple[dict[str, Any], str]:
        return self.remaining()[0], "grid"

    def on_space_changed(self) -> None:
        grid = _build_grid(self.space, self.n_points)
        if self.shuffle:
            order = np.random.default_rng(self.seed).permutation(len(grid))
            grid = [grid[i] for i in order]
        self.grid = grid
        if self._default_n_trials:
            # Finished trials plus the points of the new grid not evaluated yet.
            self.n_trials = self.n_finished + len(self.remaining())


def _build_grid(space: Mapping[str, BaseDistribution],
                n_points: int | Mapping[str, int]) -> list[dict[str, Any]]:
    from workbench.hpo.space import check_space

    space = check_space(space)
    if isinstance(n_points, Mapping):
        unknown = sorted(set(n_points) - set(space))
        if unknown:
            raise ValueError(f"n_points has keys {unknown} that are not parameters; use names "
                             f"from {sorted(space)}.")
    counts = {}
    for name in space:
        count = n_points.get(name, 5) if isinstance(n_points, Mapping) else n_points
        counts[name] = check_int(f"n_points[{name!r}]" if isinstance(n_points, Mapping)
                                 else "n_points", count, minimum=2)
    axes: Sequence[list[Any]] = [grid_values(space[name], counts[name]) for name in space]
    size = math.prod(len(axis) for axis in axes)
    if size > 1_000_000:
        raise ValueError(f"the grid has {size:,} points; lower n_points or narrow the space.")
    return [dict(zip(space, values)) for values in itertools.product(*axes)]


def _key(params: Mapping[str, Any]) -> tuple:
    return tuple(sorted((name, repr(value)) for name, value in params.items()))
