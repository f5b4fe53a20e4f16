"""Base class of the searches whose step is one trial of an Optuna study."""

from __future__ import annotations

import logging
import math
import os
import socket
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import optuna
from optuna.distributions import BaseDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState

from workbench.core import Search, create_study, resolve_seed, steering
from workbench.core.validation import check_choice, check_int
from workbench.hpo.space import check_params, check_space
from workbench.hpo.study_view import StudySnapshot, snapshot_study

logger = logging.getLogger(__name__)

FINISHED_STATES = (TrialState.COMPLETE, TrialState.FAIL, TrialState.PRUNED)
SOURCE_ATTR = "workbench_source"
FAIL_REASON_ATTR = "fail_reason"
OWNER_ATTR = "workbench_owner"          # "host:pid" of the process evaluating the trial
INTERRUPTED_ATTR = "workbench_interrupted"


class StudySearch(Search):
    """A steerable search that runs one trial of an Optuna study per step.

    Subclasses choose each configuration in :meth:`next_params`. An objective
    that raises or returns NaN or infinity fails its trial (the message is
    stored in the trial's ``fail_reason`` user attribute) and the search goes
    on. A study of the same name in the same storage is continued, so a search
    rebuilt after a crash or kernel restart keeps every finished trial. A
    trial left RUNNING by a process of this host that no longer exists is
    marked failed and interrupted. It does not count toward ``n_trials``, and
    the search evaluates its configuration again.

    Parameters
    ----------
    objective : callable
        ``objective(params) -> float``, ``params`` a dict of parameter values.
    space : dict of str to optuna distribution
    n_trials : int
        Finished trials (complete, failed or pruned) after which the search is done.
    direction : {"maximize", "minimize"}
    study_name : str, optional
        Defaults to a new unique name.
    storage : None, str or optuna storage
        See :func:`workbench.core.resolve_storage`.
    seed : int
    sampler : optuna sampler, optional
        The study's sampler, used by other workers that share the study.
    """

    name_prefix = "search"

    def __init__(self, objective: Callable[[dict[str, Any]], float],
                 space: Mapping[str, BaseDistribution], *, n_trials: int,
                 direction: str = "maximize", study_name: str | None = None,
                 storage: Any = None, seed: int = 0,
                 sampler: optuna.samplers.BaseSampler | None = None) -> None:
        super().__init__()
        if not callable(objective):
            raise TypeError(f"objective must be callable as objective(params) -> float, "
                            f"got {type(objective).__name__}.")
        self.objective = objective
        self.space = check_space(space)
        self.n_trials = check_int("n_trials", n_trials, minimum=1)
        self.direction = check_choice("direction", direction, ("maximize", "minimize"))
        self.seed = resolve_seed(seed)
        self.study = open_study(self.name_prefix, study_name, storage=storage,
                                direction=direction, sampler=sampler)
        self._proposals: list[dict[str, Any]] = []
        self._recover_interrupted()

    def _recover_interrupted(self) -> None:
        for trial in recover_interrupted(self.study):
            if trial.user_attrs.get(SOURCE_ATTR) == "proposed":
                self._proposals.append(dict(trial.params))

    def completed_trials(self, states: tuple[TrialState, ...] | None = None) -> list[Any]:
        """Return the study's trials, leaving out interrupted ones."""
        return [trial for trial in self.study.get_trials(deepcopy=False, states=states)
                if not trial.user_attrs.get(INTERRUPTED_ATTR)]

    # ----- for subclasses -------------------------------------------------

    def next_params(self, trial_index: int) -> tuple[dict[str, Any], str]:
        """Return the configuration of trial ``trial_index`` and a short source label."""
        raise NotImplementedError

    def after_trial(self, event: dict[str, Any]) -> None:
        """Hook called after each trial is told to the study."""

    # ----- protocol -------------------------------------------------------

    @property
    def n_finished(self) -> int:
        return len(self.completed_trials(FINISHED_STATES))

    @property
    def done(self) -> bool:
        return not self._proposals and self.n_finished >= self.n_trials

    def _step(self) -> dict[str, Any]:
        trial_index = len(self.completed_trials())
        if self._proposals:
            params, source = self._proposals[0], "proposed"
        else:
            params, source = self.next_params(trial_index)
        self.study.enqueue_trial(params, user_attrs={SOURCE_ATTR: source, OWNER_ATTR: owner_id()})
        trial = self.study.ask(self.space)
        if source == "proposed":
            self._proposals.pop(0)
        event = self._evaluate(trial, source)
        self.after_trial(event)
        return event

    def _evaluate(self, trial: optuna.Trial, source: str) -> dict[str, Any]:
        event: dict[str, Any] = {"trial": trial.number, "params": dict(trial.params),
                                 "source": source, "value": None}
        try:
            value = float(self.objective(dict(trial.params)))
        except Exception as error:  # the trial fails, the search goes on
            reason = f"{type(error).__name__}: {error}"
            logger.warning("trial %d of study %s failed: %s", trial.number,
                           self.study.study_name, reason)
            return self._fail(trial, event, reason)
        if not math.isfinite(value):
            logger.warning("trial %d of study %s returned %s; marked failed", trial.number,
                           self.study.study_name, value)
            return self._fail(trial, event, f"objective returned {value}")
        self.study.tell(trial, value)
        return {**event, "value": value, "state": "COMPLETE"}

    def _fail(self, trial: optuna.Trial, event: dict[str, Any], reason: str) -> dict[str, Any]:
        trial.set_user_attr(FAIL_REASON_ATTR, reason)
        self.study.tell(trial, state=TrialState.FAIL)
        return {**event, "state": "FAIL", "fail_reason": reason}

    def snapshot(self) -> StudySnapshot:
        return snapshot_study(self.study, n_trials_target=self.n_trials)

    # ----- steering -------------------------------------------------------

    @steering
    def propose(self, params: dict[str, Any]) -> None:
        """Evaluate ``params`` next, before the search's own choices."""
        self._proposals.append(check_params(self.space, params))

    @steering
    def set_n_trials(self, n_trials: int) -> None:
        """Change the number of finished trials after which the search is done."""
        self.n_trials = check_int("n_trials", n_trials, minimum=1)

    @steering
    def narrow(self, name: str, low: float, high: float) -> None:
        """Set new bounds ``[low, high]`` for float or integer parameter ``name``.

        The new range may be narrower or wider than the old one.
        """
        self.space[name] = narrowed_distribution(self.space, name, low, high)
        self.on_space_changed()

    def on_space_changed(self) -> None:
        """Hook called after :meth:`narrow` changed ``self.space``."""


def owner_id() -> str:
    """Return this process's owner tag, ``"host:pid"``, stored on the trials it runs."""
    return f"{socket.gethostname()}:{os.getpid()}"


def recover_interrupted(study: optuna.Study) -> list[Any]:
    """Fail the RUNNING trials whose evaluating process on this host has ended.

    Each such trial gets the user attributes ``workbench_interrupted = True``
    and a ``fail_reason``. Returns the recovered trials (as they were).

    NOTE: this uses the study's storage object directly, as Optuna's own
    ``fail_stale_trials`` does. Trials started on another host stay RUNNING
    because their process cannot be checked from here.
    """
    storage = study._storage
    recovered = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        owner = trial.user_attrs.get(OWNER_ATTR, "")
        if not _process_ended(owner):
            continue
        logger.warning("trial %d of study %s was interrupted (process %s ended)", trial.number,
                       study.study_name, owner)
        storage.set_trial_user_attr(trial._trial_id, INTERRUPTED_ATTR, True)
        storage.set_trial_user_attr(trial._trial_id, FAIL_REASON_ATTR,
                                    f"interrupted: process {owner} ended during the trial")
        storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
        recovered.append(trial)
    return recovered


def open_study(prefix: str, study_name: str | None, *, storage: Any, direction: str,
               sampler: optuna.samplers.BaseSampler | None = None) -> optuna.Study:
    """Create or load a search's study; ``None`` gives a new name ``<prefix>-<random hex>``."""
    if study_name is not None and not isinstance(study_name, str):
        raise TypeError(f"study_name must be a string or None, got {type(study_name).__name__}.")
    name = f"{prefix}-{uuid.uuid4().hex[:8]}" if study_name is None else study_name
    return create_study(name, storage=storage, direction=direction, sampler=sampler)


def _process_ended(owner: str) -> bool:
    """Return True if ``owner`` ("host:pid") names a process of this host that has ended."""
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:   # the process exists but belongs to another user
        return False
    return False


def narrowed_distribution(space: Mapping[str, BaseDistribution], name: str, low: float,
                          high: float) -> BaseDistribution:
    """Return ``space[name]`` with bounds ``[low, high]``, keeping its log scale and step."""
    if name not in space:
        raise ValueError(f"name must be a parameter of the space, got {name!r}; "
                         f"choose one of {sorted(space)}.")
    distribution = space[name]
    for label, value in (("low", low), ("high", high)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"{label} must be a number, got {value!r} of type "
                            f"{type(value).__name__}.")
    if not isinstance(distribution, (FloatDistribution, IntDistribution)):
        raise ValueError(f"parameter {name!r} is {type(distribution).__name__}; only float and "
                         f"integer parameters have bounds to narrow.")
    if not low < high:
        raise ValueError(f"low must be < high, got low={low}, high={high}.")
    if distribution.log and low <= 0:
        raise ValueError(f"parameter {name!r} is log-scaled, so low must be > 0, got {low}.")
    if isinstance(distribution, IntDistribution):
        if low != int(low) or high != int(high):
            raise ValueError(f"parameter {name!r} is an integer, so low and high must be whole "
                             f"numbers, got low={low}, high={high}.")
        return IntDistribution(int(low), int(high), log=distribution.log, step=distribution.step)
    return FloatDistribution(float(low), float(high), log=distribution.log,
                             step=distribution.step)
