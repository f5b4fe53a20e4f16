"""Multi-granularity discretization of numeric features.

Luo et al., "AutoCross: Automatic Feature Crossing for Tabular Data in
Real-World Applications", KDD 2019, discretize each numeric feature at
several granularities instead of one, so the crossing search can pick the
resolution that suits each interaction. By default a feature gets
``10**p`` buckets for ``p = 1 .. max_power``. Each discretized column is
then scored by a field-wise logistic regression, and only the better half
of each feature's granularities is kept.

Example
-------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> frame = pd.DataFrame({"age": rng.normal(40, 10, 2000)})
>>> y = (frame["age"] > 45).astype(int)
>>> discretizer = MultiGranularityDiscretizer(max_power=3).fit(frame, y)
>>> discretizer.granularities_
(10, 100, 1000)
>>> len(discretizer.kept_columns_)
2
"""

from __future__ import annotations

import logging
import math
import reprlib
from collections.abc import Hashable, Iterable

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import train_test_split

from workbench.core.validation import check_choice, check_float, check_int, check_seed
from workbench.features.fieldwise_lr import (FieldWeights, auc_score, prior_logit,
                                             train_field_weights)
from workbench.features.sparse_lr import check_binary_labels

logger = logging.getLogger(__name__)

STRATEGIES = ("quantile", "uniform")
KEEP_RULES = ("best_half", "all")

# Separator between a column name and its granularity in an output name, as in "age@10".
GRANULARITY_SEPARATOR = "@"

# Largest granularity is 10**MAX_GRANULARITY_POWER buckets. Finer bucketing only
# splits rows that a million quantiles already separate, and its edge arrays
# would grow with the bucket count.
MAX_GRANULARITY_POWER = 6

# Training passes of the field-wise logistic regression that scores one discretized column.
SCORING_EPOCHS = 2


def discretized_name(column: Hashable, granularity: int) -> str:
    """Return the output column name of ``column`` at ``granularity``, such as ``"age@10"``."""
    return f"{column}{GRANULARITY_SEPARATOR}{granularity}"


def source_column(name: str) -> str:
    """Return the column a field was discretized from: ``"age"`` for ``"age@10"``, else ``name``.

    The crossing searches never cross two granularities of one column, since
    such a cross only refines the finer bucketing.
    """
    base, separator, suffix = str(name).rpartition(GRANULARITY_SEPARATOR)
    return base if separator and base and suffix.isdigit() else str(name)


def shares_source(fields) -> bool:
    """Return True when two of ``fields`` are granularities of the same column."""
    sources = [source_column(name) for name in fields]
    return len(set(sources)) < len(sources)


class MultiGranularityDiscretizer(TransformerMixin, BaseEstimator):
    """Discretize each numeric column at several granularities.

    Parameters
    ----------
    columns : list of column names or None, default None
        Numeric columns to discretize. None takes every int and float
        column of the training frame (bool columns are not numeric here).
    max_power : int, default 3
        With ``granularities=None``, use ``10**p`` buckets for ``p = 1 .. max_power``.
    granularities : list of int or None, default None
        Bucket counts to use instead of the powers of ten, each at least 2.
    strategy : {"quantile", "uniform"}, default "quantile"
        "quantile" puts the bucket edges at training quantiles, so buckets
        hold about equal numbers of rows. "uniform" splits [min, max] into
        equal widths, the equal-width buckets described by Luo et al. The
        default is "quantile" because real numeric features are often
        heavy-tailed (income, capital gain, debt ratio): equal widths then
        put nearly all rows into the first bucket at every granularity.
    keep : {"best_half", "all"}, default "best_half"
        "best_half" keeps the better half of each column's granularities
        (``ceil(n / 2)`` of its ``n`` distinct ones, so at least one), ranked by
        the holdout AUC of a field-wise logistic regression. ``fit`` then
        needs ``y``. "all" keeps every distinct granularity.
    holdout_fraction : float, default 0.2
        Share of the training rows, stratified by ``y``, that scores the
        granularities under "best_half".
    seed : int, default 0
        Seed of the holdout split.

    Attributes
    ----------
    columns_ : list
        The discretized input columns.
    granularities_ : tuple of int
        The bucket counts tried, ascending.
    edges_ : dict
        ``(column, granularity)`` -> interior bucket edges, float64 ascending.
        A value ``x`` falls into bucket ``searchsorted(edges, x, "right") + 1``,
        so there are at most ``granularity`` buckets, numbered from 1.
    scores_ : pandas.DataFrame
        One row per column and granularity: ``column``, ``granularity``,
        ``name``, ``n_buckets``, ``duplicate_of`` (the smaller granularity with
        the same edges, or NA), ``score`` (holdout AUC, NaN under "all" and
        for duplicates) and ``kept``.
    kept_columns_ : list of str
        Output column names, in input column order and ascending granularity.

    Notes
    -----
    Missing values (NaN, None, pandas NA) map to pandas NA, which a
    :class:`~workbench.features.categorical_table.TableEncoder` turns into
    index 0. Quantile edges that coincide are merged, so a column with few
    distinct values gets fewer buckets than requested, and a granularity
    whose edges equal those of a smaller one is dropped as a duplicate. A
    constant column gets one bucket at every granularity, so only its
    smallest granularity is kept. An all-missing column is kept as one
    all-missing output column. Both cases log a warning. Infinite values
    raise ``ValueError``.
    """

    def __init__(self, columns: Iterable[Hashable] | None = None, *, max_power: int = 3,
                 granularities: Iterable[int] | None = None, strategy: str = "quantile",
                 keep: str = "best_half", holdout_fraction: float = 0.2, seed: int = 0) -> None:
        self.columns = columns
        self.max_power = max_power
        self.granularities = granularities
        self.strategy = strategy
        self.keep = keep
        self.holdout_fraction = holdout_fraction
        self.seed = seed

    def fit(self, frame: pd.DataFrame, y: object = None) -> MultiGranularityDiscretizer:
        """Learn the bucket edges and, under "best_half", score and select the granularities."""
        _check_frame(frame)
        granularities = self._resolve_granularities()
        strategy = check_choice("strategy", self.strategy, STRATEGIES)
        keep = check_choice("keep", self.keep, KEEP_RULES)
        holdout_fraction = check_float("holdout_fraction", self.holdout_fraction,
                                       minimum=0.0, maximum=0.9, exclusive_minimum=True)
        seed = check_seed("seed", self.seed)
        columns = _resolve_columns(self.columns, frame)
        if len(frame) == 0:
            raise ValueError("frame has no rows; fit needs at least one training row.")
        if keep == "best_half":
            if y is None:
                raise ValueError("keep='best_half' scores granularities against the labels, "
                                 "so fit needs y; pass y or use keep='all'.")
            y = check_binary_labels("y", y, len(frame))

        edges, rows = {}, []
        for column in columns:
            values = _numeric_values(frame[column], column)
            observed = values[~np.isnan(values)]
            if observed.size == 0:
                logger.warning("numeric column %r has no non-missing training value; every row "
                               "maps to the missing bucket", column)
            elif observed.min() == observed.max():
                logger.warning("numeric column %r is constant (%r) in training, so it gets one "
                               "bucket", column, float(observed[0]))
            first_with_edges: dict[tuple, int] = {}
            for granularity in granularities:
                column_edges = _bucket_edges(observed, granularity, strategy)
                edges[column, granularity] = column_edges
                duplicate_of = first_with_edges.setdefault(tuple(column_edges), granularity)
                rows.append({"column": column, "granularity": granularity,
                             "name": discretized_name(column, granularity),
                             "n_buckets": len(column_edges) + 1,
                             "duplicate_of": None if duplicate_of == granularity else duplicate_of,
                             "score": np.nan, "kept": False})
        scores = pd.DataFrame(rows, columns=["column", "granularity", "name", "n_buckets",
                                             "duplicate_of", "score", "kept"])
        scores["duplicate_of"] = scores["duplicate_of"].astype("Int64")

        self.columns_ = columns
        self.granularities_ = granularities
        self.edges_ = edges
        distinct = scores["duplicate_of"].isna().to_numpy()
        if keep == "all":
            scores["kept"] = distinct
        else:
            scores.loc[distinct, "score"] = self._holdout_scores(
                frame, y, scores[distinct], holdout_fraction, seed)
            scores["kept"] = _best_half(scores)
        self.scores_ = scores
        self.kept_columns_ = scores.loc[scores["kept"], "name"].tolist()
        return self

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Return the kept discretized columns of ``frame``, dtype Int64 with NA where missing.

        Values outside the training range fall into the first or last bucket.
        """
        if not hasattr(self, "scores_"):
            raise NotFittedError("this MultiGranularityDiscretizer is not fitted yet; call "
                                 "fit(frame, y) first.")
        _check_frame(frame)
        missing = [column for column in self.columns_ if column not in frame.columns]
        if missing:
            raise ValueError(f"columns {missing} are missing from the frame, which has columns "
                             f"{reprlib.repr(list(frame.columns))}; pass the training columns.")

        output = {}
        kept = self.scores_[self.scores_["kept"]]
        for column, granularity, name in kept[["column", "granularity", "name"]].itertuples(
                index=False):
            values = _numeric_values(frame[column], column)
            output[name] = _bucketize(values, self.edges_[column, granularity])
        return pd.DataFrame(output, index=frame.index, columns=self.kept_columns_)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        """Return the output column names (``kept_columns_``) as an object array."""
        if not hasattr(self, "kept_columns_"):
            raise NotFittedError("this MultiGranularityDiscretizer is not fitted yet.")
        return np.asarray(self.kept_columns_, dtype=object)

    def _resolve_granularities(self) -> tuple[int, ...]:
        if self.granularities is None:
            max_power = check_int("max_power", self.max_power, minimum=1,
                                  maximum=MAX_GRANULARITY_POWER)
            return tuple(10**p for p in range(1, max_power + 1))
        if isinstance(self.granularities, (str, bytes)) or not isinstance(self.granularities,
                                                                           Iterable):
            raise TypeError(f"granularities must be a list of bucket counts or None, got "
                            f"{self.granularities!r}; pass for example [10, 100].")
        values = [check_int(f"granularities[{position}]", g, minimum=2,
                            maximum=10**MAX_GRANULARITY_POWER)
                  for position, g in enumerate(self.granularities)]
        if not values:
            raise ValueError("granularities is empty; pass at least one bucket count, or None "
                             "for 10**p with p = 1..max_power.")
        if len(set(values)) != len(values):
            raise ValueError(f"granularities {values} repeat a value; list each once.")
        return tuple(sorted(values))

    def _holdout_scores(self, frame: pd.DataFrame, y: np.ndarray, candidates: pd.DataFrame,
                        holdout_fraction: float, seed: int | None) -> np.ndarray:
        """Return the holdout AUC of a field-wise LR on each candidate discretized column.

        The inherited model is the intercept-only model (the prior log-odds),
        so each column is scored on its own, as in the field-wise evaluation
        of Luo et al.
        """
        rows = np.arange(len(frame))
        n_holdout = math.ceil(holdout_fraction * len(rows))
        # sklearn's stratified split needs two rows per class and one row per class on each side.
        can_stratify = np.bincount(y).min() >= 2 and 2 <= n_holdout <= len(rows) - 2
        stratify = y if can_stratify else None
        fit_rows, holdout_rows = train_test_split(rows, test_size=holdout_fraction,
                                                  random_state=seed, stratify=stratify)
        base = prior_logit(y[fit_rows])
        base_fit = np.full(len(fit_rows), base)
        scores = []
        for column, granularity in candidates[["column", "granularity"]].itertuples(index=False):
            values = _numeric_values(frame[column], column)
            codes = _bucket_codes(values, self.edges_[column, granularity])
            state = FieldWeights.zeros(len(self.edges_[column, granularity]) + 2)
            for _ in range(SCORING_EPOCHS):
                train_field_weights(state, codes[fit_rows], base_fit, y[fit_rows])
            scores.append(auc_score(y[holdout_rows], state.weights[codes[holdout_rows]]))
        return np.asarray(scores)


def _best_half(scores: pd.DataFrame) -> np.ndarray:
    """Return the kept mask: the better half of each column's distinct granularities.

    Ties go to the smaller granularity.
    """
    kept = np.zeros(len(scores), dtype=bool)
    distinct = scores[scores["duplicate_of"].isna()]
    for _, group in distinct.groupby("column", sort=False):
        ranked = group.sort_values(["score", "granularity"], ascending=[False, True],
                                   kind="stable")
        kept[ranked.index[:math.ceil(len(group) / 2)]] = True
    return kept


def _bucket_edges(observed: np.ndarray, granularity: int, strategy: str) -> np.ndarray:
    """Return the interior edges that split ``observed`` into at most ``granularity`` buckets."""
    if observed.size == 0 or observed.min() == observed.max():
        return np.empty(0)
    if strategy == "quantile":
        # Edges at observed values make equal partitions of the data give equal edges.
        edges = np.quantile(observed, np.arange(1, granularity) / granularity,
                            method="inverted_cdf")
    else:
        edges = np.linspace(observed.min(), observed.max(), granularity + 1)[1:-1]
    # An edge at the minimum would leave bucket 1 empty, and equal quantiles give equal edges.
    return np.unique(edges[edges > observed.min()])


def _bucket_codes(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Return the bucket of each value (1 .. len(edges) + 1) as int64, 0 where missing."""
    buckets = np.searchsorted(edges, values, side="right") + 1
    return np.where(np.isnan(values), 0, buckets).astype(np.int64)


def _bucketize(values: np.ndarray, edges: np.ndarray) -> pd.arrays.IntegerArray:
    """Return the bucket of each value (1 .. len(edges) + 1) as Int64, NA where missing."""
    return pd.arrays.IntegerArray(_bucket_codes(values, edges), mask=np.isnan(values))


def _check_frame(frame: object) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame, got {type(frame).__name__}; wrap "
                        f"arrays with pandas.DataFrame(data, columns=[...]).")


def _is_numeric(series: pd.Series) -> bool:
    dtype = series.dtype
    return (pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
            and not pd.api.types.is_complex_dtype(dtype))


def _resolve_columns(columns: object, frame: pd.DataFrame) -> list:
    if columns is None:
        names = [column for column in frame.columns if _is_numeric(frame[column])]
        if not names:
            raise ValueError(f"the frame has no int or float columns to discretize (dtypes "
                             f"{reprlib.repr(frame.dtypes.astype(str).tolist())}); list "
                             f"numeric columns or convert them with pandas.to_numeric.")
        return names
    if isinstance(columns, (str, bytes)) or not isinstance(columns, Iterable):
        raise TypeError(f"columns must be a list of column names or None, got {columns!r}; "
                        f"pass [{columns!r}] for one column.")
    names = list(columns)
    if not names:
        raise ValueError("columns is empty; list at least one numeric column, or pass None "
                         "to take every numeric column.")
    repeated = sorted({str(name) for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"columns lists {repeated} more than once; list each column once.")
    missing = [name for name in names if name not in frame.columns]
    if missing:
        raise ValueError(f"columns {missing} are missing from the frame, which has columns "
                         f"{reprlib.repr(list(frame.columns))}.")
    for name in names:
        if not _is_numeric(frame[name]):
            raise ValueError(f"column {name!r} has dtype {frame[name].dtype}, which is not an "
                             f"int or float type; convert it with pandas.to_numeric or encode "
                             f"it as a categorical column instead.")
    return names


def _numeric_values(series: pd.Series, column: Hashable) -> np.ndarray:
    """Return ``series`` as float64 with NaN where missing; raise on infinite values."""
    if not _is_numeric(series):
        raise ValueError(f"column {column!r} has dtype {series.dtype}, which is not an int or "
                         f"float type; pass the same numeric columns as in training.")
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isinf(values).any():
        raise ValueError(f"numeric column {column!r} contains infinite values, for example "
                         f"{values[np.isinf(values)][0]}; replace them with NaN (the missing "
                         f"bucket) or with finite numbers.")
    return values
