"""Render-ready views of an Optuna study, for panels and scripts."""

from __future__ import annotations

import dataclasses

import numpy as np
import optuna
import pandas as pd
from optuna.trial import TrialState


@dataclasses.dataclass(frozen=True)
class StudySnapshot:
    """Immutable view of a study.

    Attributes
    ----------
    study_name : str
    direction : str
        ``"maximize"`` or ``"minimize"``.
    trials : pandas.DataFrame
        One row per trial: ``number``, ``state``, ``value`` (NaN unless
        complete), ``best_so_far`` (best complete value up to that trial, NaN
        before the first), ``source``, ``fail_reason`` (empty unless the
        trial failed) and one ``params_<name>`` column per parameter.
    n_trials_target : int or None
        The search's trial budget, when a search owns the study.
    """

    study_name: str
    direction: str
    trials: pd.DataFrame
    n_trials_target: int | None = None

    @property
    def n_complete(self) -> int:
        return int((self.trials["state"] == "COMPLETE").sum())

    @property
    def best_value(self) -> float | None:
        values = self.trials["best_so_far"].dropna()
        return None if values.empty else float(values.iloc[-1])

    def top_trials(self, k: int = 5) -> pd.DataFrame:
        """Return the ``k`` best complete trials, best first."""
        complete = self.trials[self.trials["state"] == "COMPLETE"]
        ascending = self.direction == "minimize"
        columns = ["number", "value"] + [c for c in self.trials.columns if c.startswith("params_")]
        return complete.sort_values("value", ascending=ascending).head(k)[columns]


def snapshot_study(study: optuna.Study, *, n_trials_target: int | None = None) -> StudySnapshot:
    """Read ``study``'s trials from its storage into a :class:`StudySnapshot`."""
    trials = study.get_trials(deepcopy=False)
    maximize = study.direction == optuna.study.StudyDirection.MAXIMIZE
    rows = []
    best = np.nan
    for trial in trials:
        value = trial.value if trial.state == TrialState.COMPLETE else np.nan
        if not np.isnan(value):
            best = value if np.isnan(best) else (max(best, value) if maximize else min(best, value))
        row = {"number": trial.number, "state": trial.state.name, "value": value,
               "best_so_far": best, "source": trial.user_attrs.get("workbench_source", ""),
               "fail_reason": trial.user_attrs.get("fail_reason", "")}
        row.update({f"params_{name}": param for name, param in trial.params.items()})
        rows.append(row)
    frame = pd.DataFrame(rows, columns=None if rows else
                         ["number", "state", "value", "best_so_far", "source", "fail_reason"])
    return StudySnapshot(study_name=study.study_name,
                         direction="maximize" if maximize else "minimize",
                         trials=frame, n_trials_target=n_trials_target)
