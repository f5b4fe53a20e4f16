"""Random search on an Optuna study, as a steerable search."""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.hpo.space import sample_params
from workbench.hpo.study_search import StudySearch


class RandomSearch(StudySearch):
    """Evaluate configurations drawn uniformly at random from ``space``.

    One step is one trial. Trial ``k`` draws its configuration from a
    generator seeded by ``(seed, k)``, so a search that is interrupted and
    rebuilt on the same study continues with exactly the configurations an
    uninterrupted run would have drawn. Parameters are those of
    :class:`~workbench.hpo.study_search.StudySearch`; ``n_trials`` defaults to 20.

    Example
    -------
    >>> from optuna.distributions import FloatDistribution
    >>> search = RandomSearch(lambda p: -(p["x"] - 1) ** 2,
    ...                       {"x": FloatDistribution(-5, 5)}, n_trials=10)  # doctest: +SKIP
    >>> while not search.done:                                             # doctest: +SKIP
    ...     search.step()
    """

    name_prefix = "random-search"

    def __init__(self, objective, space, *, n_trials: int = 20, **kwargs: Any) -> None:
        super().__init__(objective, space, n_trials=n_trials, **kwargs)

    def next_params(self, trial_index: int) -> tuple[dict[str, Any], str]:
        rng = np.random.default_rng([self.seed, trial_index])
        return sample_params(self.space, rng), "random"
