"""Random search on an Optuna study, as a steerable search."""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.trial import TrialState

from workbench.core import Search, create_study, steering
from workbench.core.validation import check_choice, check_int, check_seed
from workbench.hpo.space import check_params, check_space, sample_params
from workbench.hpo.study_view import StudySnapshot, snapshot_study

logger = logging.getLogger(__name__)

FINISHED_STATES = (TrialState.COMPLETE, TrialState.FAIL, TrialState.PRUNED)


class RandomSearch(Search):
    """Evaluate configurations drawn uniformly at random from ``space``.

    One step is one trial on the Optuna study. Trial ``k`` draws its
    configuration from a generator seeded by ``(seed, k)``, so a search that is
    interrupted and rebuilt on the same study continues with exactly the
    configurations an uninterrupted run would have drawn.

    Parameters
    ----------
    objective : callable
        ``objective(params) -> float``; ``params`` is a dict of parameter name
        to value. A non-finite result marks the trial failed; an exception
        marks it failed and is raised from :meth:`step`.
    space : dict of str to optuna distribution
        The search space.
    n_trials : int, default 20
        Number of finished trials (complete or failed) after which the search
        is done; counts trials already in a loaded study.
    direction : {"maximize", "minimize"}, default "maximize"
    study_name : str, optional
        Name of the study; a study of that name in ``storage`` is continued.
        Defaults to a new unique name.
    storage : None, str or optuna storage
        Where the study lives; see :func:`workbench.core.resolve_storage`.
    seed : int, default 0

    Attributes
    ----------
    study : optuna.Study

    Example
    -------
    >>> from optuna.distributions import FloatDistribution
    >>> search = RandomSearch(lambda p: -(p["x"] - 1) ** 2,
    ...                       {"x": FloatDistribution(-5, 5)}, n_trials=10,
    ...                       storage="sqlite:///:memory:")  # doctest: +SKIP
    """

    def __init__(self, objective: Callable[[dict[str, Any]], float],
                 space: Mapping[str, BaseDistribution], *, n_trials: int = 20,
                 direction: str = "maximize", study_name: str | None = None,
                 storage: Any = None, seed: int = 0) -> None:
        super().__init__()
        if not callable(objective):
            raise TypeError(f"objective must be callable as objective(params) -> float, "
                            f"got {type(objective).__name__}.")
        self.objective = objective
        self.space = check_space(space)
        self.n_trials = check_int("n_trials", n_trials, minimum=1)
        self.direction = check_choice("direction", direction, ("maximize", "minimize"))
        self.seed = check_seed("seed", seed) or 0
        name = study_name or f"random-search-{uuid.uuid4().hex[:8]}"
        self.study = create_study(name, storage=storage, direction=direction)
        self._proposals: list[dict[str, Any]] = []

    # ----- protocol -------------------------------------------------------

    @property
    def n_finished(self) -> int:
        return len(self.study.get_trials(deepcopy=False, states=FINISHED_STATES))

    @property
    def done(self) -> bool:
        return not self._proposals and self.n_finished >= self.n_trials

    def _step(self) -> dict[str, Any]:
        trial_index = len(self.study.get_trials(deepcopy=False))
        if self._proposals:
            params, source = self._proposals[0], "proposed"
        else:
            params, source = sample_params(self.space, np.random.default_rng([self.seed, trial_index])), "random"
        self.study.enqueue_trial(params, user_attrs={"workbench_source": source})
        trial = self.study.ask(self.space)
        if source == "proposed":
            self._proposals.pop(0)

        try:
            value = float(self.objective(dict(trial.params)))
        except Exception:
            self.study.tell(trial, state=TrialState.FAIL)
            raise
        if not math.isfinite(value):
            logger.warning("trial %d returned %r; marked failed", trial.number, value)
            self.study.tell(trial, state=TrialState.FAIL)
            return {"trial": trial.number, "params": dict(trial.params), "value": None,
                    "state": "FAIL", "source": source}
        self.study.tell(trial, value)
        return {"trial": trial.number, "params": dict(trial.params), "value": value,
                "state": "COMPLETE", "source": source}

    def snapshot(self) -> StudySnapshot:
        return snapshot_study(self.study, n_trials_target=self.n_trials)

    # ----- steering -------------------------------------------------------

    @steering
    def propose(self, params: dict[str, Any]) -> None:
        """Evaluate ``params`` next, before any random configuration."""
        self._proposals.append(check_params(self.space, params))

    @steering
    def set_n_trials(self, n_trials: int) -> None:
        """Change the number of finished trials after which the search is done."""
        self.n_trials = check_int("n_trials", n_trials, minimum=1)
