"""Worker processes that run trials of a named study on a shared Optuna storage.

Start several workers on one storage (a journal file or an RDB URL) and
they share the study: each asks the study's sampler for a configuration,
evaluates it and tells the result, until the study holds ``n_trials``
finished trials. A notebook panel attached to the same study (for example
:class:`widgets.StudyPanel` with ``watch()``) updates live.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import optuna
from optuna.trial import TrialState

from workbench.core import create_study
from workbench.core.validation import check_choice, check_float, check_int, check_seed
from workbench.hpo.gp_sampler import GPEISampler
from workbench.hpo.study_search import OWNER_ATTR, owner_id, recover_interrupted
from workbench.hpo.tasks.test_functions import TEST_FUNCTIONS

logger = logging.getLogger(__name__)

SAMPLERS = ("gpei", "tpe", "random")


def task_names() -> list[str]:
    return sorted(TEST_FUNCTIONS) + ["adult", "mnist"]


def build_task(name: str, *, quick: bool = False) -> tuple[Callable[[dict[str, Any]], float],
                                                             dict[str, Any], str]:
    """Return ``(objective(params), space, direction)`` of a named task.

    ``branin``, ``hartmann6`` and the other test functions are minimized;
    ``adult`` (cross-validated ROC AUC of gradient boosting) and ``mnist``
    (validation accuracy of an MLP after a fixed number of epochs) are
    maximized. ``quick`` shrinks the data-set tasks to a few seconds a trial.
    """
    check_choice("task", name, task_names())
    if name in TEST_FUNCTIONS:
        function = TEST_FUNCTIONS[name]
        return function, dict(function.space), "minimize"
    if name == "adult":
        from workbench.data import load_adult
        from workbench.hpo.tasks import gradient_boosting_space, gradient_boosting_task

        adult = load_adult()
        task = gradient_boosting_task(adult.frame, adult.target, max_iter=30 if quick else 200,
                                      max_rows=3000 if quick else None, n_threads=1)
        return task, gradient_boosting_space(), "maximize"
    from workbench.hpo.tasks import MNISTTask, mnist_space

    mnist = MNISTTask(n_train=2000 if quick else None)
    epochs = 1 if quick else 9
    return (lambda params: mnist(params, epochs, config_id=hash(tuple(params.items())) % 2**31),
            mnist_space(), "maximize")


def _open_shared_study(study_name: str, storage: Any, direction: str,
                       sampler: optuna.samplers.BaseSampler) -> optuna.Study:
    """Create or load the study, retrying when workers race to create a new database.

    Several workers starting at once on a new SQLite file can collide while
    creating its tables; the loser retries after a short pause.
    """
    for attempt in range(5):
        try:
            return create_study(study_name, storage=storage, direction=direction, sampler=sampler)
        except ValueError as error:
            if attempt == 4:
                raise
            logger.info("opening the study failed (%s); retrying", error)
            time.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")


def make_sampler(name: str, seed: int | None) -> optuna.samplers.BaseSampler:
    check_choice("sampler", name, SAMPLERS)
    if name == "gpei":
        return GPEISampler(seed=seed)
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    return optuna.samplers.RandomSampler(seed=seed)


def run_worker(study_name: str, task: str, *, storage: Any = None, n_trials: int = 50,
               sampler: str = "gpei", seed: int | None = None, quick: bool = False,
               delay: float = 0.0) -> int:
    """Run trials of ``study_name`` until the study has ``n_trials`` finished trials.

    Returns the number of trials this worker finished. ``delay`` adds that
    many seconds to every evaluation (demonstrations and tests of concurrency).
    A trial whose objective raises or returns NaN/inf is marked failed with
    the reason in its ``fail_reason`` user attribute.

    At start the worker fails the trials left RUNNING by killed processes of
    this host (see :func:`~workbench.hpo.study_search.recover_interrupted`).

    NOTE: each worker checks the count before it requests a trial, so a study
    shared by k workers can end with up to k - 1 trials more than ``n_trials``.
    """
    n_trials = check_int("n_trials", n_trials, minimum=1)
    delay = check_float("delay", delay, minimum=0.0)
    seed = check_seed("seed", seed)
    objective, space, direction = build_task(task, quick=quick)
    study = _open_shared_study(study_name, storage, direction, make_sampler(sampler, seed))
    recover_interrupted(study)
    finished_states = (TrialState.COMPLETE, TrialState.FAIL, TrialState.PRUNED)
    done = 0
    while len(study.get_trials(deepcopy=False, states=finished_states)) < n_trials:
        trial = study.ask(space)
        trial.set_user_attr(OWNER_ATTR, owner_id())
        try:
            if delay:
                time.sleep(delay)
            value = float(objective(dict(trial.params)))
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError(f"objective returned {value}")
        except Exception as error:  # the trial fails, the worker goes on
            trial.set_user_attr("fail_reason", f"{type(error).__name__}: {error}")
            study.tell(trial, state=TrialState.FAIL)
            logger.warning("trial %d failed: %s", trial.number, error)
        else:
            study.tell(trial, value)
            logger.info("trial %d: %.6g", trial.number, value)
        done += 1
    return done
