"""Logistic regression on one-hot categorical fields, the crossing searches' model.

:func:`one_hot` turns a :class:`CategoricalTable` into a sparse design
matrix, :func:`fit_logistic_regression` fits scikit-learn's
``LogisticRegression`` on it, and :func:`logistic_regression_auc` scores a
set of crosses by the validation AUC of that model with the crosses added.

Example
-------
>>> import numpy as np
>>> table = CategoricalTable(np.array([[1, 2], [2, 1], [1, 1], [2, 2]] * 25), ("a", "b"),
...                          np.array([3, 3]))
>>> y = np.array([1, 1, 0, 0] * 25)               # y = XOR of a and b
>>> round(logistic_regression_auc(table, y, table, y), 2)
0.5
>>> round(logistic_regression_auc(table, y, table, y, crosses=[("a", "b")]), 2)
1.0
"""

from __future__ import annotations

import numpy as np
import scipy.sparse
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from workbench.core.validation import check_float, check_seed
from workbench.features.categorical_table import (CategoricalTable, check_same_encoding,
                                                   check_table)
from workbench.features.crosses import CrossEncoder

# Inverse L2 strengths tried by tune_logistic_regression, on a log grid.
C_GRID = (0.03, 0.1, 0.3, 1.0, 3.0)

# lbfgs iterations; the one-hot problems here converge well before this.
MAX_ITERATIONS = 1000


def one_hot(table: CategoricalTable) -> scipy.sparse.csr_matrix:
    """Return the one-hot design matrix of ``table``.

    The matrix is float64 CSR of shape (n_rows, sum(cardinalities)).

    Field ``j`` owns columns ``offsets[j] .. offsets[j] + cardinalities[j] - 1``
    with ``offsets`` the cumulative sum of the cardinalities before it. Its
    index 0 (rare, unseen or missing) has its own column, so a model can
    learn a weight for "value not in the vocabulary". Every row has exactly
    ``n_fields`` ones.
    """
    check_table(table, "table")
    offsets = np.concatenate([[0], np.cumsum(table.cardinalities)[:-1]]).astype(np.int64)
    n_rows, n_fields = table.codes.shape
    columns = (table.codes + offsets).ravel()
    indptr = np.arange(0, n_rows * n_fields + 1, n_fields, dtype=np.int64)
    data = np.ones(n_rows * n_fields)
    return scipy.sparse.csr_matrix((data, columns, indptr),
                                   shape=(n_rows, int(table.cardinalities.sum())))


def fit_logistic_regression(train: CategoricalTable, y_train: np.ndarray, *, C: float = 1.0,
                            seed: int = 0) -> LogisticRegression:
    """Fit an L2-regularized logistic regression on the one-hot of ``train``.

    Parameters
    ----------
    train : CategoricalTable
    y_train : array of 0/1, shape (n_rows,)
    C : float, default 1.0
        Inverse L2 strength, as in scikit-learn (the loss is summed over rows).
    seed : int, default 0
        ``random_state`` of the solver. lbfgs is deterministic, so it only
        matters if the solver changes.

    Returns
    -------
    sklearn.linear_model.LogisticRegression
        Fitted with lbfgs on the sparse matrix of :func:`one_hot`.
    """
    check_table(train, "train")
    y_train = check_binary_labels("y_train", y_train, len(train))
    C = check_float("C", C, minimum=0.0, exclusive_minimum=True)
    seed = check_seed("seed", seed)
    model = LogisticRegression(C=C, solver="lbfgs", max_iter=MAX_ITERATIONS, random_state=seed)
    return model.fit(one_hot(train), y_train)


def logistic_regression_auc(train: CategoricalTable, y_train: np.ndarray,
                            valid: CategoricalTable, y_valid: np.ndarray,
                            crosses=(), *, C: float = 1.0, min_count: int = 1,
                            n_buckets: int | None = None, seed: int = 0) -> float:
    """Return the validation AUC of logistic regression on the fields plus ``crosses``.

    The crosses are added by a :class:`CrossEncoder` fitted on ``train``
    (with ``min_count`` and ``n_buckets``), and the model by
    :func:`fit_logistic_regression` with ``C`` and ``seed``.
    """
    check_table(train, "train")
    check_table(valid, "valid")
    y_valid = check_binary_labels("y_valid", y_valid, len(valid))
    check_same_encoding(train, valid, name="valid", train_name="train")
    encoder = CrossEncoder(crosses, min_count=min_count, n_buckets=n_buckets).fit(train)
    model = fit_logistic_regression(encoder.transform(train), y_train, C=C, seed=seed)
    scores = model.decision_function(one_hot(encoder.transform(valid)))
    return float(roc_auc_score(y_valid, scores))


def tune_logistic_regression(train: CategoricalTable, y_train: np.ndarray,
                             valid: CategoricalTable, y_valid: np.ndarray, crosses=(), *,
                             Cs=C_GRID, min_count: int = 1, n_buckets: int | None = None,
                             seed: int = 0) -> tuple[float, float]:
    """Return (best C, its validation AUC) of :func:`logistic_regression_auc` over ``Cs``."""
    Cs = tuple(Cs)
    if not Cs:
        raise ValueError("Cs is empty; pass at least one inverse regularization strength.")
    results = [(logistic_regression_auc(train, y_train, valid, y_valid, crosses, C=C,
                                        min_count=min_count, n_buckets=n_buckets, seed=seed), C)
               for C in Cs]
    auc, C = max(results)
    return C, auc


def check_binary_labels(name: str, y: object, n_rows: int | None = None) -> np.ndarray:
    """Return ``y`` as int64 of 0/1, shape (n_rows,), with both classes present.

    ``y`` may be any array-like of numbers or booleans, a pandas Series or a
    torch tensor.
    """
    if hasattr(y, "detach"):                          # a torch tensor
        y = y.detach().cpu().numpy()
    array = np.asarray(y)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {array.shape}; pass one label per row.")
    if n_rows is not None and len(array) != n_rows:
        raise ValueError(f"{name} has {len(array)} labels but the table has {n_rows} rows; "
                         f"pass one label per row.")
    if array.dtype == bool:
        array = array.astype(np.int64)
    if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise TypeError(f"{name} must contain numbers 0 and 1, got dtype {array.dtype}.")
    if np.issubdtype(array.dtype, np.floating) and np.isnan(array).any():
        row = int(np.flatnonzero(np.isnan(array))[0])
        raise ValueError(f"{name} contains NaN at row {row}; drop the rows without a label.")
    bad = array[(array != 0) & (array != 1)]
    if bad.size:
        raise ValueError(f"{name} must contain only 0 and 1, got {bad[0].item()!r}; encode the "
                         f"positive class as 1 and drop rows without a label.")
    array = array.astype(np.int64)
    if len(np.unique(array)) < 2:
        raise ValueError(f"{name} contains only the label {array[0] if array.size else None}; "
                         f"both classes are needed to fit and score a classifier.")
    return array
