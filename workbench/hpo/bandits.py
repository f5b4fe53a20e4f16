"""Successive halving and Hyperband as steerable searches on an Optuna study.

Each configuration is one Optuna trial. Its value at each rung is reported as
an intermediate value (step = rung index) and its budgets are kept in the
``budgets`` user attribute. A configuration discarded at a rung is told
PRUNED, one that finishes the last rung COMPLETE, and one whose objective
raises or returns NaN/inf FAIL. One step evaluates one configuration at one
rung's budget.

Unlike the one-trial-per-step searches, a bandit search rebuilt on an
existing study does not resume its brackets: it starts new ones, while the
trials already finished stay in the study and trials of killed processes are
marked failed.

The objective is ``objective(params, budget, config_id) -> float``. A budget
is whatever the task says it is (epochs, a data fraction); ``config_id`` is
the trial number, which lets a task keep a checkpoint per configuration so a
promoted configuration continues training instead of restarting.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import optuna
import pandas as pd
from optuna.distributions import BaseDistribution
from optuna.trial import TrialState

from workbench.core import Search, resolve_seed, steering
from workbench.core.validation import check_choice, check_float, check_int
from workbench.hpo.schedule import Rung, hyperband_brackets, successive_halving_rungs
from workbench.hpo.space import check_space, sample_params
from workbench.hpo.study_search import OWNER_ATTR, open_study, owner_id, recover_interrupted

logger = logging.getLogger(__name__)

BudgetObjective = Callable[[dict[str, Any], float, int], float]


@dataclasses.dataclass
class Configuration:
    """One configuration's progress through a bracket (mutable search state)."""

    config_id: int
    bracket: int
    params: dict[str, Any]
    values: dict[float, float] = dataclasses.field(default_factory=dict)
    rung: int = 0
    state: str = "alive"          # alive, promoted-by-hand, pruned, stopped, complete, failed
    fail_reason: str = ""
    trial: optuna.Trial | None = None


@dataclasses.dataclass
class Bracket:
    """A successive-halving run: its rungs and the configurations still racing."""

    index: int
    rungs: list[Rung]
    configs: list[Configuration] = dataclasses.field(default_factory=list)
    rung: int = 0
    queue: list[int] = dataclasses.field(default_factory=list)   # config ids left in this rung
    started: bool = False
    finished: bool = False
    manual_promotions: set[int] = dataclasses.field(default_factory=set)


@dataclasses.dataclass(frozen=True)
class BanditSnapshot:
    """Render-ready view of a successive-halving or Hyperband search.

    Attributes
    ----------
    schedule : pandas.DataFrame
        One row per (bracket, rung): ``bracket``, ``rung``, ``n_configs``,
        ``budget``, ``n_promoted``, ``n_evaluated`` and ``status``
        (``"waiting"``, ``"running"`` or ``"done"``).
    configurations : pandas.DataFrame
        One row per configuration: ``config_id``, ``bracket``, ``rung``,
        ``state``, ``last_budget``, ``last_value``, ``fail_reason`` and
        ``params_<name>`` columns.
    curves : dict of int to ndarray, shape (k, 2)
        Learning curve per configuration: rows of ``(budget, value)``.
    direction : str
    eta : int
    best_value : float or None
        Best value observed at the largest budget reached so far.
    budget_spent : float
        Sum of the budgets of all evaluations.
    """

    schedule: pd.DataFrame
    configurations: pd.DataFrame
    curves: dict[int, np.ndarray]
    direction: str
    eta: int
    best_value: float | None
    budget_spent: float


class BanditSearch(Search):
    """Base of :class:`SuccessiveHalving` and :class:`Hyperband`."""

    name_prefix = "bandit"

    def __init__(self, objective: BudgetObjective, space: Mapping[str, BaseDistribution], *,
                 eta: int, direction: str = "maximize", study_name: str | None = None,
                 storage: Any = None, seed: int = 0) -> None:
        super().__init__()
        if not callable(objective):
            raise TypeError(f"objective must be callable as objective(params, budget, "
                            f"config_id) -> float, got {type(objective).__name__}.")
        self.objective = objective
        self.space = check_space(space)
        self.eta = check_int("eta", eta, minimum=2)
        self.direction = check_choice("direction", direction, ("maximize", "minimize"))
        self.seed = resolve_seed(seed)
        self.study = open_study(self.name_prefix, study_name, storage=storage, direction=direction)
        recover_interrupted(self.study)
        if self.study.get_trials(deepcopy=False):
            # NOTE: brackets are not restored from a study's trials.
            logger.warning("study %s already has trials; successive halving and Hyperband do not "
                           "resume brackets, so this search starts new ones (finished trials "
                           "stay in the study)", self.study.study_name)
        self.brackets: list[Bracket] = []
        self.budget_spent = 0.0
        self._n_sampled = 0

    # ----- protocol -------------------------------------------------------

    @property
    def done(self) -> bool:
        return all(bracket.finished for bracket in self.brackets)

    def _current(self) -> Bracket:
        return next(bracket for bracket in self.brackets if not bracket.finished)

    def _step(self) -> dict[str, Any]:
        bracket = self._current()
        if not bracket.started:
            self._start(bracket)
        config = self._config(bracket, bracket.queue[0])
        budget = bracket.rungs[bracket.rung].budget
        event = self._evaluate(config, budget, bracket.rung)
        bracket.queue.pop(0)
        self.budget_spent += budget
        if not bracket.queue:
            self._finish_rung(bracket)
        return event

    def _start(self, bracket: Bracket) -> None:
        for _ in range(bracket.rungs[0].n_configs):
            rng = np.random.default_rng([self.seed, self._n_sampled])
            self._n_sampled += 1
            params = sample_params(self.space, rng)
            self.study.enqueue_trial(params, user_attrs={"workbench_source": "random",
                                                         "bracket": bracket.index,
                                                         OWNER_ATTR: owner_id()})
            trial = self.study.ask(self.space)
            bracket.configs.append(Configuration(config_id=trial.number, bracket=bracket.index,
                                                 params=dict(trial.params), trial=trial))
        bracket.queue = [config.config_id for config in bracket.configs]
        bracket.started = True

    def _config(self, bracket: Bracket, config_id: int) -> Configuration:
        return next(config for config in bracket.configs if config.config_id == config_id)

    def _evaluate(self, config: Configuration, budget: float, rung: int) -> dict[str, Any]:
        event = {"config_id": config.config_id, "bracket": config.bracket, "rung": rung,
                 "budget": budget, "params": dict(config.params)}
        try:
            value = float(self.objective(dict(config.params), budget, config.config_id))
            if not math.isfinite(value):
                raise ValueError(f"objective returned {value}")
        except Exception as error:  # the configuration fails, the search goes on
            reason = f"{type(error).__name__}: {error}"
            logger.warning("configuration %d at budget %g failed: %s", config.config_id,
                           budget, reason)
            config.state, config.fail_reason = "failed", reason
            config.trial.set_user_attr("fail_reason", reason)
            self.study.tell(config.trial, state=TrialState.FAIL)
            return {**event, "value": None, "state": "FAIL", "fail_reason": reason}
        config.values[budget] = value
        config.rung = rung
        config.trial.report(value, step=rung)
        config.trial.set_user_attr("budgets", sorted(config.values))
        return {**event, "value": value, "state": "RUNNING"}

    def _finish_rung(self, bracket: Bracket) -> None:
        """Promote the best configurations of the finished rung, prune the rest."""
        rung = bracket.rungs[bracket.rung]
        racing = [config for config in bracket.configs
                  if config.state in ("alive", "promoted-by-hand") and rung.budget in config.values]
        last = bracket.rung == len(bracket.rungs) - 1
        if last:
            for config in racing:
                config.state = "complete"
                self.study.tell(config.trial, config.values[rung.budget])
            bracket.finished = True
            return

        sign = -1.0 if self.direction == "maximize" else 1.0
        ranked = sorted(racing, key=lambda config: sign * config.values[rung.budget])
        chosen = {config.config_id for config in ranked[: rung.n_promoted]}
        chosen |= {config_id for config_id in bracket.manual_promotions
                   if any(config.config_id == config_id for config in racing)}
        for config in racing:
            if config.config_id in chosen:
                config.state = "alive"
            else:
                config.state = "pruned"
                self.study.tell(config.trial, state=TrialState.PRUNED)
        bracket.manual_promotions.clear()
        bracket.rung += 1
        bracket.queue = [config.config_id for config in ranked if config.config_id in chosen]
        if not bracket.queue:
            bracket.finished = True

    # ----- snapshot -------------------------------------------------------

    def snapshot(self) -> BanditSnapshot:
        schedule_rows, config_rows, curves = [], [], {}
        for bracket in self.brackets:
            for rung in bracket.rungs:
                evaluated = sum(rung.budget in config.values or
                                (config.state == "failed" and config.rung == rung.index)
                                for config in bracket.configs)
                if bracket.finished or rung.index < bracket.rung:
                    status = "done"
                elif bracket.started and rung.index == bracket.rung:
                    status = "running"
                else:
                    status = "waiting"
                schedule_rows.append({"bracket": bracket.index, "rung": rung.index,
                                      "n_configs": rung.n_configs, "budget": rung.budget,
                                      "n_promoted": rung.n_promoted, "n_evaluated": evaluated,
                                      "status": status})
            for config in bracket.configs:
                budgets = sorted(config.values)
                row = {"config_id": config.config_id, "bracket": bracket.index,
                       "rung": config.rung, "state": config.state,
                       "last_budget": budgets[-1] if budgets else np.nan,
                       "last_value": config.values[budgets[-1]] if budgets else np.nan,
                       "fail_reason": config.fail_reason}
                row.update({f"params_{name}": value for name, value in config.params.items()})
                config_rows.append(row)
                curves[config.config_id] = np.array([[b, config.values[b]] for b in budgets])
        configurations = pd.DataFrame(config_rows)
        return BanditSnapshot(schedule=pd.DataFrame(schedule_rows), configurations=configurations,
                              curves=curves, direction=self.direction, eta=self.eta,
                              best_value=_best_at_largest_budget(configurations, self.direction),
                              budget_spent=self.budget_spent)

    # ----- steering -------------------------------------------------------

    def _find(self, config_id: int) -> tuple[Bracket, Configuration]:
        for bracket in self.brackets:
            for config in bracket.configs:
                if config.config_id == config_id:
                    return bracket, config
        known = [c.config_id for b in self.brackets for c in b.configs]
        raise ValueError(f"config_id {config_id!r} is not a configuration of this search; "
                         f"known ids: {known}.")

    def _find_racing(self, config_id: int, action: str) -> tuple[Bracket, Configuration]:
        bracket, config = self._find(check_int("config_id", config_id, minimum=0))
        if config.state not in ("alive", "promoted-by-hand"):
            raise ValueError(f"configuration {config_id} is {config.state}; only a racing "
                             f"configuration can be {action}.")
        return bracket, config

    @steering
    def stop_config(self, config_id: int) -> None:
        """Discard configuration ``config_id`` now: it is not evaluated again."""
        bracket, config = self._find_racing(config_id, "stopped")
        config.state = "stopped"
        config.trial.set_user_attr("stopped_by_user", True)
        self.study.tell(config.trial, state=TrialState.PRUNED)
        bracket.queue = [c for c in bracket.queue if c != config_id]
        bracket.manual_promotions.discard(config_id)
        if bracket.started and not bracket.queue and not bracket.finished:
            self._finish_rung(bracket)

    @steering
    def promote(self, config_id: int) -> None:
        """Promote configuration ``config_id`` to the next rung when its current rung ends."""
        bracket, config = self._find_racing(config_id, "promoted")
        if bracket.rung == len(bracket.rungs) - 1:
            raise ValueError(f"configuration {config_id} is in its bracket's last rung; there "
                             f"is no rung to promote it to.")
        config.state = "promoted-by-hand"
        bracket.manual_promotions.add(config_id)


def _best_at_largest_budget(configurations: pd.DataFrame, direction: str) -> float | None:
    if configurations.empty or configurations["last_value"].isna().all():
        return None
    top = configurations.dropna(subset=["last_value"])
    top = top[top["last_budget"] == top["last_budget"].max()]
    values = top["last_value"]
    return float(values.max() if direction == "maximize" else values.min())


class SuccessiveHalving(BanditSearch):
    """Successive halving (Jamieson & Talwalkar 2016; Li et al. 2018, Algorithm 1).

    Evaluate ``n_configs`` random configurations at ``min_budget``, keep the
    best ``floor(n_i / eta)``, multiply the budget by ``eta``, and repeat until
    one configuration remains or ``max_budget`` would be exceeded.

    Parameters
    ----------
    objective : callable
        ``objective(params, budget, config_id) -> float``.
    space : dict of str to optuna distribution
    n_configs : int
    min_budget : float
    eta : int, default 2
    max_budget : float, optional
    direction, study_name, storage, seed
        As for :class:`~workbench.hpo.study_search.StudySearch`.
    """

    name_prefix = "successive-halving"

    def __init__(self, objective: BudgetObjective, space: Mapping[str, BaseDistribution], *,
                 n_configs: int, min_budget: float, eta: int = 2,
                 max_budget: float | None = None, **kwargs: Any) -> None:
        rungs = successive_halving_rungs(n_configs, min_budget, eta, max_budget)
        super().__init__(objective, space, eta=eta, **kwargs)
        self.n_configs, self.min_budget, self.max_budget = n_configs, min_budget, max_budget
        self.brackets = [Bracket(index=0, rungs=rungs)]


class Hyperband(BanditSearch):
    """Hyperband (Li et al., JMLR 2018): successive halving over brackets s = s_max .. 0.

    Parameters
    ----------
    objective : callable
        ``objective(params, budget, config_id) -> float``.
    space : dict of str to optuna distribution
    max_budget : float
        R, the largest budget a configuration receives.
    eta : int, default 3
    min_budget : float, default 1.0
        The budget unit: Hyperband runs with ``R = max_budget / min_budget``.
    direction, study_name, storage, seed
        As for :class:`~workbench.hpo.study_search.StudySearch`.

    Example
    -------
    >>> search = Hyperband(task, space, max_budget=81, eta=3)    # doctest: +SKIP
    >>> search.snapshot().schedule                              # doctest: +SKIP
    """

    name_prefix = "hyperband"

    def __init__(self, objective: BudgetObjective, space: Mapping[str, BaseDistribution], *,
                 max_budget: float, eta: int = 3, min_budget: float = 1.0,
                 **kwargs: Any) -> None:
        brackets = hyperband_brackets(max_budget, eta, min_budget)
        super().__init__(objective, space, eta=eta, **kwargs)
        self.max_budget = check_float("max_budget", max_budget, minimum=0.0,
                                      exclusive_minimum=True)
        self.min_budget = min_budget
        self.brackets = [Bracket(index=s, rungs=rungs) for s, rungs in brackets]

    @steering
    def set_eta(self, eta: int) -> None:
        """Use ``eta`` for the brackets that have not started yet."""
        eta = check_int("eta", eta, minimum=2)
        started = [bracket for bracket in self.brackets if bracket.started]
        remaining = {s: rungs for s, rungs in hyperband_brackets(self.max_budget, eta,
                                                                 self.min_budget)}
        started_ids = {bracket.index for bracket in started}
        self.brackets = started + [Bracket(index=s, rungs=rungs) for s, rungs in remaining.items()
                                   if s not in started_ids and
                                   (not started or s < min(started_ids))]
        self.eta = eta
