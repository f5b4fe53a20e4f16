"""Objectives on real data for the hyperparameter searches."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from optuna.distributions import FloatDistribution, IntDistribution
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import StratifiedKFold, cross_val_score
from threadpoolctl import threadpool_limits

from workbench.core.validation import check_int, check_seed


class CrossValidatedTask:
    """Score a scikit-learn estimator's configuration by k-fold cross-validation.

    Calling the task with ``params`` clones ``estimator``, sets ``params`` on
    it and returns the mean validation score over ``cv`` stratified folds.

    Parameters
    ----------
    estimator : scikit-learn estimator
        Template; it is cloned, never fitted itself.
    X : pandas.DataFrame or array of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    scoring : str, default "roc_auc"
        A scikit-learn scorer name; larger is better.
    cv : int, default 3
        Number of folds.
    max_rows : int, optional
        Stratified random subsample of at most this many rows (fast, noisier scores).
    seed : int, default 0
        Seed of the subsample and of the fold split.
    n_threads : int, optional
        Maximum native threads (OpenMP, BLAS) per fit. One thread keeps a
        notebook responsive while a search runs in the background; ``None``
        leaves the libraries' default of one thread per core.
    """

    def __init__(self, estimator: BaseEstimator, X: Any, y: Any, *, scoring: str = "roc_auc",
                 cv: int = 3, max_rows: int | None = None, seed: int = 0,
                 n_threads: int | None = None) -> None:
        if not hasattr(estimator, "fit") or not hasattr(estimator, "get_params"):
            raise TypeError(f"estimator must be a scikit-learn estimator, got "
                            f"{type(estimator).__name__}.")
        if len(X) != len(y):
            raise ValueError(f"X has {len(X)} rows but y has {len(y)}; pass matching rows.")
        self.estimator = estimator
        self.scoring = scoring
        self.cv = check_int("cv", cv, minimum=2)
        self.seed = check_seed("seed", seed) or 0
        self.n_threads = None if n_threads is None else check_int("n_threads", n_threads, minimum=1)
        if max_rows is not None:
            check_int("max_rows", max_rows, minimum=self.cv * 2)
        X, y = _subsample(X, np.asarray(y), max_rows, self.seed)
        self.X, self.y = X, y

    def __call__(self, params: dict[str, Any]) -> float:
        model = clone(self.estimator).set_params(**params)
        folds = StratifiedKFold(n_splits=self.cv, shuffle=True, random_state=self.seed)
        with threadpool_limits(limits=self.n_threads):
            scores = cross_val_score(model, self.X, self.y, scoring=self.scoring, cv=folds,
                                     error_score="raise")
        return float(np.mean(scores))


def _subsample(X: Any, y: np.ndarray, max_rows: int | None, seed: int) -> tuple[Any, np.ndarray]:
    if max_rows is None or len(y) <= max_rows:
        return X, y
    from sklearn.model_selection import train_test_split

    keep, _ = train_test_split(np.arange(len(y)), train_size=max_rows, stratify=y,
                               random_state=seed)
    keep = np.sort(keep)
    X = X.iloc[keep] if isinstance(X, pd.DataFrame) else np.asarray(X)[keep]
    return X, y[keep]


def gradient_boosting_space() -> dict[str, Any]:
    """Return the search space of ``HistGradientBoostingClassifier`` used in the tour."""
    return {
        "learning_rate": FloatDistribution(0.01, 0.5, log=True),
        "max_leaf_nodes": IntDistribution(4, 128, log=True),
        "min_samples_leaf": IntDistribution(2, 200, log=True),
        "l2_regularization": FloatDistribution(1e-6, 10.0, log=True),
    }


def gradient_boosting_task(X: Any, y: Any, *, max_iter: int = 100, cv: int = 3,
                           max_rows: int | None = None, seed: int = 0,
                           n_threads: int | None = None) -> CrossValidatedTask:
    """Cross-validated ROC AUC of ``HistGradientBoostingClassifier`` on ``(X, y)``.

    Categorical columns of a DataFrame (dtype ``category``) are handled natively
    by the model, and missing values need no imputation.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(max_iter=check_int("max_iter", max_iter, minimum=1),
                                           categorical_features="from_dtype",
                                           early_stopping=False, random_state=seed)
    return CrossValidatedTask(model, X, y, scoring="roc_auc", cv=cv, max_rows=max_rows, seed=seed,
                              n_threads=n_threads)


class SubsampleTask:
    """Score a configuration trained on a fraction of the training rows (budget = fraction).

    Calling ``task(params, budget, config_id)`` fits a clone of ``estimator``
    with ``params`` on the first ``ceil(budget * n_train)`` rows of a seeded
    permutation of the training split and returns the validation score. The
    permutation is fixed, so a larger budget always sees a superset of rows.
    This is the budget of successive halving and Hyperband when training
    cannot be resumed.

    Parameters
    ----------
    estimator : scikit-learn estimator
    X, y : training data (DataFrame or array, and labels)
    scoring : str, default "roc_auc"
    validation_fraction : float, default 0.25
        Stratified share of rows held out for validation.
    seed : int, default 0
    n_threads : int, optional
        Maximum native threads per fit (see :class:`CrossValidatedTask`).
    """

    def __init__(self, estimator: BaseEstimator, X: Any, y: Any, *, scoring: str = "roc_auc",
                 validation_fraction: float = 0.25, seed: int = 0,
                 n_threads: int | None = None) -> None:
        from sklearn.metrics import get_scorer
        from sklearn.model_selection import train_test_split

        from workbench.core.validation import check_float

        if len(X) != len(y):
            raise ValueError(f"X has {len(X)} rows but y has {len(y)}; pass matching rows.")
        fraction = check_float("validation_fraction", validation_fraction, minimum=0.05,
                               maximum=0.9)
        self.estimator = estimator
        self.scorer = get_scorer(scoring)
        self.seed = check_seed("seed", seed) or 0
        self.n_threads = None if n_threads is None else check_int("n_threads", n_threads, minimum=1)
        y = np.asarray(y)
        train, validation = train_test_split(np.arange(len(y)), test_size=fraction, stratify=y,
                                             random_state=self.seed)
        train = np.random.default_rng(self.seed).permutation(train)
        take = (lambda rows: X.iloc[rows]) if isinstance(X, pd.DataFrame) else (
            lambda rows: np.asarray(X)[rows])
        self.X_train, self.y_train = take(train), y[train]
        self.X_validation, self.y_validation = take(validation), y[validation]

    def __call__(self, params: dict[str, Any], budget: float, config_id: int = 0) -> float:
        from workbench.core.validation import check_float

        budget = check_float("budget", budget, minimum=0.0, exclusive_minimum=True, maximum=1.0)
        n_rows = max(10, int(np.ceil(budget * len(self.y_train))))
        model = clone(self.estimator).set_params(**params)
        with threadpool_limits(limits=self.n_threads):
            model.fit(self.X_train[:n_rows] if not isinstance(self.X_train, pd.DataFrame)
                      else self.X_train.iloc[:n_rows], self.y_train[:n_rows])
            return float(self.scorer(model, self.X_validation, self.y_validation))
