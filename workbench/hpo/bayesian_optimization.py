"""GP-EI Bayesian optimization as a steerable search."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from workbench.core import steering
from workbench.core.validation import check_float
from workbench.hpo.gp import GPPosterior
from workbench.hpo.gp_sampler import GPEISampler, complete_observations
from workbench.hpo.encoding import SpaceEncoder
from workbench.hpo.space import sample_params
from workbench.hpo.study_search import StudySearch
from workbench.hpo.study_view import StudySnapshot, snapshot_study


@dataclasses.dataclass(frozen=True)
class BOSnapshot:
    """Render-ready view of a Bayesian optimization.

    Attributes
    ----------
    study : StudySnapshot
    posterior : GPPosterior or None
        The GP fitted to every complete trial so far (None during start-up).
    encoder : SpaceEncoder or None
        Maps configurations to the GP's unit-cube inputs.
    sign : float
        +1 if the study maximizes, -1 if it minimizes; the GP models
        ``sign * objective`` in standardized units.
    next_params : dict or None
        The configuration the acquisition chose for the next trial.
    incumbent : dict or None
        The best configuration so far.
    acquisition, exploration : str, float
    best_standardized : float or None
        The incumbent's standardized target, the reference of EI and PI.
    lengthscales : dict of str to float
        Fitted lengthscale per unit-cube dimension, named by parameter.
    """

    study: StudySnapshot
    posterior: GPPosterior | None
    encoder: SpaceEncoder | None
    sign: float
    next_params: dict[str, Any] | None
    incumbent: dict[str, Any] | None
    acquisition: str
    exploration: float
    best_standardized: float | None
    lengthscales: dict[str, float]


class BayesianOptimization(StudySearch):
    """Bayesian optimization with :class:`~workbench.hpo.gp_sampler.GPEISampler`.

    After every trial the GP is refitted and the acquisition maximized, so the
    snapshot always shows the surrogate including the latest point and the
    configuration that will be evaluated next.

    Parameters
    ----------
    objective, space, n_trials, direction, study_name, storage, seed
        As for :class:`~workbench.hpo.study_search.StudySearch`; ``n_trials``
        defaults to 30.
    acquisition : {"log_ei", "ucb", "pi"}, default "log_ei"
    exploration : float, optional
    n_startup_trials : int, default 8
        Random trials before the GP takes over.
    n_candidates : int, default 1024
    """

    name_prefix = "bayesian-optimization"

    def __init__(self, objective, space, *, n_trials: int = 30, acquisition: str = "log_ei",
                 exploration: float | None = None, n_startup_trials: int = 8,
                 n_candidates: int = 1024, seed: int = 0, **kwargs: Any) -> None:
        self.sampler = GPEISampler(acquisition=acquisition, exploration=exploration,
                                   n_startup_trials=n_startup_trials, n_candidates=n_candidates,
                                   search_space=space, seed=seed)
        super().__init__(objective, space, n_trials=n_trials, seed=seed, sampler=self.sampler,
                         **kwargs)
        self._posterior: tuple[GPPosterior, SpaceEncoder, float] | None = None
        self._next: dict[str, Any] | None = None
        self._fitted_on = -1   # complete trials the current posterior was fitted on
        self._prepare_next()

    # ----- proposals ------------------------------------------------------

    def _prepare_next(self) -> None:
        """Fit the GP to all complete trials and choose the next configuration."""
        observations = complete_observations(self.study, self.space)
        self._fitted_on = len(observations)
        if len(observations) < self.sampler.n_startup_trials:
            self._posterior, self._next = None, None
            if observations:
                self._posterior = self.sampler.fit(self.study, self.space)
            return
        posterior, encoder, sign = self.sampler.fit(self.study, self.space)
        x, _ = self.sampler.maximize_acquisition(posterior, encoder, float(posterior.y.max()))
        self._posterior = (posterior, encoder, sign)
        self._next = encoder.decode(x)

    def next_params(self, trial_index: int) -> tuple[dict[str, Any], str]:
        if len(complete_observations(self.study, self.space)) != self._fitted_on:
            self._prepare_next()   # other workers added trials since the last fit
        if self._next is None:
            rng = np.random.default_rng([self.seed, trial_index])
            return sample_params(self.space, rng), "random"
        return self._next, self.sampler.acquisition

    def after_trial(self, event: dict[str, Any]) -> None:
        self._prepare_next()

    def on_space_changed(self) -> None:
        self.sampler.search_space = dict(self.space)
        self._prepare_next()

    # ----- snapshot -------------------------------------------------------

    def snapshot(self) -> BOSnapshot:
        study = snapshot_study(self.study, n_trials_target=self.n_trials)
        posterior, encoder, sign = self._posterior or (None, None, 1.0)
        lengthscales: dict[str, float] = {}
        incumbent = None
        best = None
        if posterior is not None:
            for name, position in encoder.slices.items():
                for offset, index in enumerate(range(position.start, position.stop)):
                    label = name if position.stop - position.start == 1 else f"{name}[{offset}]"
                    lengthscales[label] = float(posterior.lengthscales[index])
            best_index = int(np.argmax(posterior.y))
            incumbent = encoder.decode(posterior.X[best_index])
            best = float(posterior.y[best_index])
        return BOSnapshot(study=study, posterior=posterior, encoder=encoder, sign=sign,
                          next_params=dict(self._next) if self._next else None,
                          incumbent=incumbent, acquisition=self.sampler.acquisition,
                          exploration=self.sampler.exploration, best_standardized=best,
                          lengthscales=lengthscales)

    # ----- steering -------------------------------------------------------

    @steering
    def set_acquisition(self, acquisition: str, exploration: float | None = None) -> None:
        """Switch to ``"log_ei"``, ``"ucb"`` or ``"pi"`` with an exploration parameter."""
        self.sampler.set_acquisition(acquisition, exploration)
        self._prepare_next()

    @steering
    def fix_lengthscales(self, lengthscales: Mapping[str, float] | None) -> None:
        """Fix the GP lengthscales (unit-cube units) per parameter; ``None`` fits them again.

        Every float or integer parameter needs a value; a categorical's one-hot
        dimensions get the value given under its name.
        """
        if lengthscales is None:
            self.sampler.fixed_lengthscales = None
            self._prepare_next()
            return
        encoder = SpaceEncoder(self.space)
        missing = sorted(set(self.space) - set(lengthscales))
        unknown = sorted(set(lengthscales) - set(self.space))
        if missing or unknown:
            raise ValueError(f"lengthscales must give a value for every parameter and no other; "
                             f"missing {missing}, unknown {unknown}.")
        values = np.zeros(encoder.n_dims)
        for name, position in encoder.slices.items():
            values[position] = check_float(f"lengthscales[{name!r}]", lengthscales[name],
                                           minimum=0.0, exclusive_minimum=True)
        self.sampler.fixed_lengthscales = values
        self._prepare_next()

    @steering
    def refit(self) -> None:
        """Refit the GP hyperparameters from scratch (forget the warm start and fixed values)."""
        self.sampler.fixed_lengthscales = None
        self.sampler.forget_fit()
        self._prepare_next()
