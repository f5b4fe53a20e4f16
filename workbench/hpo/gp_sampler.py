"""GP-EI Bayesian optimization as an Optuna sampler.

Each ``ask`` fits a Gaussian process (Matern 5/2 ARD, :mod:`workbench.hpo.gp`)
to the complete trials, then maximizes the acquisition (log-EI by default,
:mod:`workbench.hpo.acquisition`): score scrambled-Sobol candidates plus
perturbations of the incumbent, then refine the best few with L-BFGS-B on
the float and integer dimensions. The sampler works in any plain Optuna
study; :class:`~workbench.hpo.BayesianOptimization` wraps it as a steerable
search.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler, RandomSampler
from optuna.search_space import IntersectionSearchSpace
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState
from scipy.optimize import minimize

from workbench.core.validation import check_choice, check_float, check_int, check_seed
from workbench.hpo.acquisition import (ACQUISITIONS, DEFAULT_EXPLORATION, acquisition_gradients,
                                       acquisition_value)
from workbench.hpo.encoding import SpaceEncoder
from workbench.hpo.gp import GPPosterior, fit_gp, single_threaded_blas
from workbench.hpo.space import check_space

logger = logging.getLogger(__name__)

# Standard deviations, in unit-cube units, of the candidates drawn around the incumbent:
# a coarse scale to move between nearby basins, a fine one to polish the optimum.
INCUMBENT_PERTURBATIONS = (0.05, 0.005)


@dataclasses.dataclass(frozen=True)
class Proposal:
    """Record of one GP-based proposal, for panels and tests.

    Attributes
    ----------
    trial_number : int
    params : dict
    x : ndarray, shape (n_dims,)
        The proposal in the unit cube.
    acquisition : str
    exploration : float
    acquisition_value : float
    posterior : GPPosterior
        The GP fitted for this ask (standardized, maximization units).
    encoder : SpaceEncoder
    sign : float
        +1 when the study maximizes, -1 when it minimizes: the GP models
        ``sign * objective``.
    """

    trial_number: int
    params: dict[str, Any]
    x: np.ndarray
    acquisition: str
    exploration: float
    acquisition_value: float
    posterior: GPPosterior
    encoder: SpaceEncoder
    sign: float


class GPEISampler(BaseSampler):
    """Gaussian-process Bayesian optimization with expected improvement.

    Parameters
    ----------
    acquisition : {"log_ei", "ucb", "pi"}, default "log_ei"
    exploration : float, optional
        EI's and PI's improvement margin xi, or UCB's beta, in standardized
        units. Defaults to 0 (log-EI), 2 (UCB) or 0.01 (PI).
    n_startup_trials : int, default 10
        Complete trials sampled at random before the GP takes over.
    n_candidates : int, default 1024
        Quasi-random candidates scored per ask.
    n_local_starts : int, default 5
        Best candidates refined with L-BFGS-B.
    search_space : dict of str to distribution, optional
        The space to optimize over. By default it is inferred as the
        intersection of the complete trials' spaces.
    constant_liar : bool, default True
        Treat trials that other workers are still running as observed at the
        worst value so far (Ginsbourger et al. 2010), so parallel workers do
        not all propose the same point.
    seed : int, optional

    Attributes
    ----------
    last_proposal : Proposal or None
        The latest GP-based proposal.
    fixed_lengthscales : ndarray or None
        When set, fits keep these lengthscales (unit-cube units).

    Example
    -------
    >>> study = optuna.create_study(sampler=GPEISampler(seed=0))   # doctest: +SKIP
    >>> study.optimize(objective, n_trials=50)                     # doctest: +SKIP
    """

    def __init__(self, *, acquisition: str = "log_ei", exploration: float | None = None,
                 n_startup_trials: int = 10, n_candidates: int = 1024, n_local_starts: int = 5,
                 search_space: Mapping[str, BaseDistribution] | None = None,
                 constant_liar: bool = True, seed: int | None = None) -> None:
        self.set_acquisition(acquisition, exploration)
        self.n_startup_trials = check_int("n_startup_trials", n_startup_trials, minimum=1)
        self.n_candidates = check_int("n_candidates", n_candidates, minimum=16)
        self.n_local_starts = check_int("n_local_starts", n_local_starts, minimum=0)
        self.search_space = check_space(search_space) if search_space is not None else None
        self.constant_liar = bool(constant_liar)
        self.seed = check_seed("seed", seed)
        self._rng = np.random.default_rng(self.seed)
        self._random = RandomSampler(seed=self.seed)
        self._intersection = IntersectionSearchSpace()
        self._theta: np.ndarray | None = None
        self.fixed_lengthscales: np.ndarray | None = None
        self.last_proposal: Proposal | None = None

    def set_acquisition(self, acquisition: str, exploration: float | None = None) -> None:
        """Switch the acquisition function and its exploration parameter."""
        self.acquisition = check_choice("acquisition", acquisition, ACQUISITIONS)
        if exploration is None:
            exploration = DEFAULT_EXPLORATION[acquisition]
        self.exploration = check_float("exploration", exploration, minimum=0.0)

    def forget_fit(self) -> None:
        """Drop the warm start, so the next fit starts from the default hyperparameters."""
        self._theta = None

    def reseed_rng(self) -> None:
        self._rng = np.random.default_rng()
        self._random.reseed_rng()

    # ----- Optuna sampler interface --------------------------------------

    def infer_relative_search_space(self, study: optuna.Study,
                                    trial: FrozenTrial) -> dict[str, BaseDistribution]:
        if self.search_space is not None:
            return dict(self.search_space)
        space = self._intersection.calculate(study)
        return {name: distribution for name, distribution in space.items()
                if not distribution.single()}

    def sample_relative(self, study: optuna.Study, trial: FrozenTrial,
                        search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        if study._is_multi_objective():
            raise ValueError("GPEISampler supports single-objective studies only; create the "
                             "study with one direction.")
        if not search_space:
            return {}
        observations = complete_observations(study, search_space)
        if len(observations) < self.n_startup_trials:
            return {}
        return self._propose(study, trial, search_space, observations)

    def sample_independent(self, study: optuna.Study, trial: FrozenTrial, param_name: str,
                           param_distribution: BaseDistribution) -> Any:
        return self._random.sample_independent(study, trial, param_name, param_distribution)

    # ----- the GP-EI step -------------------------------------------------

    def fit(self, study: optuna.Study,
            search_space: Mapping[str, BaseDistribution]) -> tuple[GPPosterior, SpaceEncoder, float]:
        """Fit the GP to the study's complete trials; return it, its encoder and the sign."""
        observations = complete_observations(study, search_space)
        if not observations:
            raise ValueError("the study has no complete trial with finite value in this "
                             "search space; run some trials first.")
        encoder = SpaceEncoder(search_space)
        sign = 1.0 if study.direction == StudyDirection.MAXIMIZE else -1.0
        X = np.array([encoder.encode(trial.params) for trial in observations])
        y = sign * np.array([trial.value for trial in observations])
        pending = running_with_params(study, search_space) if self.constant_liar else []
        if pending:
            # Constant liar: pretend the running trials returned the worst value so far.
            X = np.vstack([X, [encoder.encode(trial.params) for trial in pending]])
            y = np.r_[y, np.full(len(pending), y.min())]
        with single_threaded_blas():
            posterior = fit_gp(X, y, initial_theta=self._theta,
                               fixed_lengthscales=self.fixed_lengthscales)
        self._theta = np.r_[np.log(posterior.lengthscales), math.log(posterior.signal_variance),
                            math.log(posterior.noise_variance)]
        return posterior, encoder, sign

    def _propose(self, study: optuna.Study, trial: FrozenTrial,
                 search_space: dict[str, BaseDistribution],
                 observations: Sequence[FrozenTrial]) -> dict[str, Any]:
        posterior, encoder, sign = self.fit(study, search_space)
        best = float(posterior.y.max())
        x, value = self.maximize_acquisition(posterior, encoder, best)
        params = encoder.decode(x)
        self.last_proposal = Proposal(
            trial_number=trial.number, params=params, x=x, acquisition=self.acquisition,
            exploration=self.exploration, acquisition_value=value, posterior=posterior,
            encoder=encoder, sign=sign)
        return params

    def score(self, posterior: GPPosterior, X: np.ndarray, best: float) -> np.ndarray:
        """Return the acquisition at unit-cube points ``X`` (m, n_dims)."""
        mean, variance = posterior.predict(X)
        return acquisition_value(self.acquisition, mean, np.sqrt(variance), best, self.exploration)

    def maximize_acquisition(self, posterior: GPPosterior, encoder: SpaceEncoder,
                             best: float) -> tuple[np.ndarray, float]:
        """Return the best point found and its acquisition value."""
        with single_threaded_blas():
            return self._maximize_acquisition(posterior, encoder, best)

    def _maximize_acquisition(self, posterior: GPPosterior, encoder: SpaceEncoder,
                              best: float) -> tuple[np.ndarray, float]:
        candidates = encoder.quasi_random(self.n_candidates, self._rng)
        incumbent = posterior.X[int(np.argmax(posterior.y))]
        local = []
        for scale in INCUMBENT_PERTURBATIONS:
            around = np.repeat(incumbent[None, :], max(8, self.n_candidates // 32), axis=0)
            around[:, encoder.continuous] += self._rng.normal(
                0.0, scale, size=(len(around), int(encoder.continuous.sum())))
            local.append(around)
        candidates = np.clip(np.vstack([candidates, *local]), 0.0, 1.0)
        scores = self.score(posterior, candidates, best)

        order = np.argsort(scores)[::-1]
        best_x, best_value = candidates[order[0]], float(scores[order[0]])
        if encoder.continuous.any() and self.n_local_starts > 0:
            starts = candidates[order[: self.n_local_starts]]
            refined, values = self._refine(posterior, encoder, starts, best)
            top = int(np.argmax(values))
            if values[top] > best_value:
                best_x, best_value = refined[top], float(values[top])
        # Score the configuration that will really be evaluated (integers rounded).
        projected = encoder.project(best_x)
        return projected[0], float(self.score(posterior, projected, best)[0])

    def _refine(self, posterior: GPPosterior, encoder: SpaceEncoder, starts: np.ndarray,
                best: float) -> tuple[np.ndarray, np.ndarray]:
        """Refine several starts (k, n_dims) at once with one L-BFGS-B run.

        The starts are independent, so maximizing the sum of their acquisition
        values maximizes each; one vectorized run costs far less than k runs.
        Categorical (one-hot) dimensions stay as they are.
        """
        mask = encoder.continuous
        k, n_free = len(starts), int(mask.sum())

        def points(free: np.ndarray) -> np.ndarray:
            X = starts.copy()
            X[:, mask] = free.reshape(k, n_free)
            return X

        def negative(free: np.ndarray) -> tuple[float, np.ndarray]:
            mean, variance, dmean, dvariance = posterior.predict_with_gradient_batch(points(free))
            sigma = np.sqrt(variance)
            values = acquisition_value(self.acquisition, mean, sigma, best, self.exploration)
            d_mean, d_sigma = acquisition_gradients(self.acquisition, mean, sigma, best,
                                                    self.exploration)
            gradient = d_mean[:, None] * dmean + (d_sigma / (2.0 * sigma))[:, None] * dvariance
            return -float(values.sum()), -gradient[:, mask].ravel()

        result = minimize(negative, starts[:, mask].ravel(), jac=True, method="L-BFGS-B",
                          bounds=[(0.0, 1.0)] * (k * n_free), options={"maxiter": 100})
        refined = points(result.x)
        return refined, self.score(posterior, refined, best)


def running_with_params(study: optuna.Study,
                        search_space: Mapping[str, BaseDistribution]) -> list[FrozenTrial]:
    """Return running trials that already have a value for every parameter of the space."""
    trials = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    return [trial for trial in trials if all(name in trial.params for name in search_space)]


def complete_observations(study: optuna.Study,
                          search_space: Mapping[str, BaseDistribution]) -> list[FrozenTrial]:
    """Return complete trials with a finite value and a value for every parameter of the space.

    NOTE: failed trials are left out, so the GP may propose a region where
    trials failed again.
    """
    trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    return [trial for trial in trials
            if trial.value is not None and math.isfinite(trial.value)
            and all(name in trial.params for name in search_space)]
