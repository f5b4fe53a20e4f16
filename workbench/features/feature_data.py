"""Tabular data sets prepared for the feature-crossing searches.

:func:`load_feature_data` loads Adult, Amazon Employee Access or Give Me
Some Credit through :mod:`workbench.data`, splits it into train, validation
and test rows, discretizes the numeric columns at several granularities
(fitted on the training rows only) and encodes every field as a
:class:`~workbench.features.categorical_table.CategoricalTable`.
:func:`prepare_feature_data` does the same for a user's DataFrame.

Example
-------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> frame = pd.DataFrame({"color": rng.choice(["red", "blue"], 500),
...                       "size": rng.normal(size=500)})
>>> data = prepare_feature_data(frame, (frame["size"] > 0).astype(int), max_power=2)
>>> data.train.field_names
('color', 'size@100')
>>> len(data.train), len(data.valid), len(data.test)
(300, 100, 100)
"""

from __future__ import annotations

import dataclasses
import logging
import reprlib
from collections.abc import Hashable, Iterable

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from workbench.core.validation import check_choice, check_float, check_int, check_seed
from workbench.features.categorical_table import CategoricalTable, TableEncoder
from workbench.features.discretize import KEEP_RULES, STRATEGIES, MultiGranularityDiscretizer
from workbench.features.sparse_lr import check_binary_labels

logger = logging.getLogger(__name__)

FEATURE_DATA_SETS = ("adult", "employee", "credit")

# Share of the training rows of Adult's fixed split that becomes the validation split.
ADULT_VALID_FRACTION = 0.2

# Rows of each class needed so that all three stratified splits get at least one.
MIN_ROWS_PER_CLASS = 5

# Rows of each class needed in every split: the searches score AUC on the
# validation rows, and AutoCross's out-of-fold scoring splits the training rows
# into 3 stratified folds.
MIN_SPLIT_ROWS_PER_CLASS = 3


@dataclasses.dataclass(frozen=True, eq=False)
class FeatureData:
    """Train, validation and test splits of one data set as categorical tables.

    Attributes
    ----------
    name : str
    train, valid, test : CategoricalTable
        The same fields in each: the categorical columns, then the kept
        discretized columns (named like ``"age@10"``).
    y_train, y_valid, y_test : ndarray of int64 (0/1), shape (n_rows,)
    categorical, numeric : list of str
        The source columns of each kind.
    discretizer : MultiGranularityDiscretizer or None
        Fitted on the training rows; None without numeric columns.
    encoder : TableEncoder
        Fitted on the training rows.
    frames : dict of str to pandas.DataFrame
        The source columns of the "train", "valid" and "test" rows before
        discretization and encoding, for baselines that use the raw numbers.
    """

    name: str
    train: CategoricalTable
    valid: CategoricalTable
    test: CategoricalTable
    y_train: np.ndarray
    y_valid: np.ndarray
    y_test: np.ndarray
    categorical: list[str]
    numeric: list[str]
    discretizer: MultiGranularityDiscretizer | None
    encoder: TableEncoder
    frames: dict[str, pd.DataFrame] = dataclasses.field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        return (f"FeatureData(name={self.name!r}, rows=({len(self.train)}, {len(self.valid)}, "
                f"{len(self.test)}), fields={reprlib.repr(self.train.field_names)})")


def load_feature_data(name: str, *, seed: int = 0, max_power: int = 3, min_count: int = 1,
                      max_rows: int | None = None, strategy: str = "quantile",
                      keep: str = "best_half") -> FeatureData:
    """Load a tabular benchmark data set and encode it for the crossing searches.

    Parameters
    ----------
    name : {"adult", "employee", "credit"}
        UCI Adult (48,842 rows, 8 categorical and 6 numeric columns), Kaggle's
        Amazon Employee Access (32,769 rows, 9 categorical ID columns) or
        Kaggle's Give Me Some Credit (150,000 rows, 10 numeric columns).
    seed : int, default 0
        Seed of the row subsample, the splits and the discretizer's holdout.
    max_power : int, default 3
        Numeric columns are discretized into ``10**p`` buckets, ``p = 1..max_power``.
    min_count : int, default 1
        Values seen fewer times in the training split share index 0.
    max_rows : int or None, default None
        Keep a stratified random subsample of this many rows, for quick runs.
    strategy, keep
        Passed to :class:`MultiGranularityDiscretizer`.

    Returns
    -------
    FeatureData
        Adult keeps its fixed train/test split and carves a stratified 20 %
        validation split from its training rows. The other two are split
        60/20/20, stratified by the label.
    """
    from workbench.data.tabular import (load_adult, load_amazon_employee_access,
                                        load_give_me_some_credit)

    check_choice("name", name, FEATURE_DATA_SETS)
    seed = check_seed("seed", seed)
    if max_rows is not None:
        max_rows = check_int("max_rows", max_rows, minimum=10 * MIN_ROWS_PER_CLASS)
    options = {"seed": seed, "max_power": max_power, "min_count": min_count,
               "strategy": strategy, "keep": keep}

    if name == "adult":
        dataset = load_adult()
        frame, y = dataset.frame, dataset.target.to_numpy()
        is_train = (dataset.split == "train").to_numpy()
        if max_rows is not None and max_rows < len(frame):
            rows = _stratified_subsample(y, max_rows, seed)
            frame, y, is_train = frame.iloc[rows], y[rows], is_train[rows]
        train_frame, y_train = frame[is_train], y[is_train]
        test_frame, y_test = frame[~is_train], y[~is_train]
        train_rows, valid_rows = _split(y_train, ADULT_VALID_FRACTION, seed)
        return _prepare_splits(
            name, (train_frame.iloc[train_rows], y_train[train_rows]),
            (train_frame.iloc[valid_rows], y_train[valid_rows]), (test_frame, y_test),
            dataset.categorical, dataset.numeric, **options)

    dataset = load_amazon_employee_access() if name == "employee" else load_give_me_some_credit()
    return prepare_feature_data(dataset.frame, dataset.target.to_numpy(), dataset.categorical,
                                dataset.numeric, name=name, max_rows=max_rows, **options)


def prepare_feature_data(frame: pd.DataFrame, y: object,
                         categorical: Iterable[Hashable] | None = None,
                         numeric: Iterable[Hashable] | None = None, *, name: str = "custom",
                         seed: int = 0, valid_fraction: float = 0.2, test_fraction: float = 0.2,
                         max_power: int = 3, min_count: int = 1, max_rows: int | None = None,
                         strategy: str = "quantile", keep: str = "best_half") -> FeatureData:
    """Split a user's frame, discretize its numeric columns and encode every field.

    Parameters
    ----------
    frame : pandas.DataFrame
    y : array of 0/1, shape (n_rows,)
    categorical, numeric : lists of column names or None
        With both None, int and float columns are numeric and bool, object,
        string and category columns categorical. With one list given, a None
        list means no column of that kind.
    name : str
    seed : int
    valid_fraction, test_fraction : float
        Shares of the rows in the validation and test splits, stratified by ``y``.
    max_power, min_count, max_rows, strategy, keep
        As in :func:`load_feature_data`.

    Returns
    -------
    FeatureData

    Notes
    -----
    Missing categorical values get index 0, and missing numeric values the
    missing bucket, which is index 0 too. A field that is constant on the
    training rows is kept, because it does no harm to a linear model, and
    logged as a warning. A single field is accepted, but a crossing search
    needs at least two.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame, got {type(frame).__name__}.")
    y = _check_labels(y, len(frame))
    seed = check_seed("seed", seed)
    valid_fraction = check_float("valid_fraction", valid_fraction, minimum=0.0, maximum=0.5,
                                 exclusive_minimum=True)
    test_fraction = check_float("test_fraction", test_fraction, minimum=0.0, maximum=0.5,
                                exclusive_minimum=True)
    categorical, numeric = _resolve_kinds(frame, categorical, numeric)
    if max_rows is not None:
        max_rows = check_int("max_rows", max_rows, minimum=10 * MIN_ROWS_PER_CLASS)
        if max_rows < len(frame):
            rows = _stratified_subsample(y, max_rows, seed)
            frame, y = frame.iloc[rows], y[rows]

    rest_rows, test_rows = _split(y, test_fraction, seed)
    train_rows, valid_rows = _split(y[rest_rows], valid_fraction / (1 - test_fraction), seed)
    train_rows, valid_rows = rest_rows[train_rows], rest_rows[valid_rows]
    return _prepare_splits(name, (frame.iloc[train_rows], y[train_rows]),
                           (frame.iloc[valid_rows], y[valid_rows]),
                           (frame.iloc[test_rows], y[test_rows]), categorical, numeric,
                           seed=seed, max_power=max_power, min_count=min_count,
                           strategy=strategy, keep=keep)


def _prepare_splits(name: str, train: tuple, valid: tuple, test: tuple, categorical: list,
                    numeric: list, *, seed: int | None, max_power: int, min_count: int,
                    strategy: str, keep: str) -> FeatureData:
    """Fit the discretizer and the encoder on ``train`` and encode all three splits."""
    check_choice("strategy", strategy, STRATEGIES)
    check_choice("keep", keep, KEEP_RULES)
    min_count = check_int("min_count", min_count, minimum=1)
    for split, (_, labels) in zip(("train", "valid", "test"), (train, valid, test)):
        counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=2)
        if counts.min() < MIN_SPLIT_ROWS_PER_CLASS:
            raise ValueError(f"the {split} split has {counts.tolist()} rows of classes 0 and 1; "
                             f"every split needs at least {MIN_SPLIT_ROWS_PER_CLASS} of each, "
                             f"so pass a larger max_rows or more rows of the rarer class.")
    train_frame, y_train = train
    _warn_constant_fields(train_frame, [*categorical, *numeric])

    discretizer = None
    if numeric:
        discretizer = MultiGranularityDiscretizer(numeric, max_power=max_power,
                                                  strategy=strategy, keep=keep, seed=seed)
        discretizer.fit(train_frame, y_train)

    def features(frame: pd.DataFrame) -> pd.DataFrame:
        parts = [frame[categorical].reset_index(drop=True)]
        if discretizer is not None:
            parts.append(discretizer.transform(frame).reset_index(drop=True))
        return pd.concat(parts, axis=1)

    encoder = TableEncoder(min_count=min_count).fit(features(train_frame))
    tables = [encoder.transform(features(frame)) for frame, _ in (train, valid, test)]
    labels = [np.asarray(y, dtype=np.int64) for _, y in (train, valid, test)]
    frames = {split: frame[[*categorical, *numeric]].reset_index(drop=True)
              for split, (frame, _) in zip(("train", "valid", "test"), (train, valid, test))}
    return FeatureData(name, *tables, *labels, [str(c) for c in categorical],
                       [str(c) for c in numeric], discretizer, encoder, frames)


def _check_labels(y: object, n_rows: int) -> np.ndarray:
    if isinstance(y, pd.Series):
        if y.isna().any():
            raise ValueError(f"y has {int(y.isna().sum())} missing labels; drop those rows or "
                             f"fill their labels.")
        y = y.to_numpy()
    y = check_binary_labels("y", y, n_rows)
    smallest = int(np.bincount(y, minlength=2).min())
    if smallest < MIN_ROWS_PER_CLASS:
        raise ValueError(f"y has only {smallest} rows of its rarer class; the stratified "
                         f"train, validation and test splits need at least "
                         f"{MIN_ROWS_PER_CLASS} of each class.")
    return y


def _resolve_kinds(frame: pd.DataFrame, categorical: object, numeric: object) -> tuple[list, list]:
    """Return the (categorical, numeric) column lists, checked or inferred from the dtypes."""
    if categorical is None and numeric is None:
        categorical, numeric, unsupported = [], [], []
        for column in frame.columns:
            dtype = frame[column].dtype
            if pd.api.types.is_bool_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype) \
                    or pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
                categorical.append(column)
            elif pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype):
                numeric.append(column)
            else:
                unsupported.append(f"{column!r} ({dtype})")
        if unsupported:
            raise ValueError(f"cannot infer a field kind for columns {', '.join(unsupported)}; "
                             f"convert them, or pass categorical= and numeric= explicitly.")
    else:
        categorical = _column_list("categorical", categorical)
        numeric = _column_list("numeric", numeric)

    both = sorted(str(c) for c in set(categorical) & set(numeric))
    if both:
        raise ValueError(f"columns {both} are listed as both categorical and numeric; list "
                         f"each column under one kind.")
    if not categorical and not numeric:
        raise ValueError("no fields: the frame has no usable columns, or categorical and "
                         "numeric are both empty; list at least one column.")
    missing = [c for c in [*categorical, *numeric] if c not in frame.columns]
    if missing:
        raise ValueError(f"columns {missing} are missing from the frame, which has columns "
                         f"{reprlib.repr(list(frame.columns))}.")
    return categorical, numeric


def _column_list(argument: str, columns: object) -> list:
    if columns is None:
        return []
    if isinstance(columns, (str, bytes)) or not isinstance(columns, Iterable):
        raise TypeError(f"{argument} must be a list of column names, got {columns!r}; pass "
                        f"[{columns!r}] for one column.")
    names = list(columns)
    repeated = sorted({str(name) for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"{argument} lists {repeated} more than once; list each column once.")
    return names


def _warn_constant_fields(frame: pd.DataFrame, columns: list) -> None:
    for column in columns:
        if frame[column].nunique(dropna=False) <= 1:
            logger.warning("column %r is constant in the training split; it is kept but "
                           "carries no information", column)


def _split(y: np.ndarray, fraction: float, seed: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Return (kept rows, held-out rows) with ``fraction`` held out, stratified by ``y``."""
    return train_test_split(np.arange(len(y)), test_size=fraction, random_state=seed, stratify=y)


def _stratified_subsample(y: np.ndarray, n_rows: int, seed: int | None) -> np.ndarray:
    """Return ``n_rows`` row indices drawn without replacement, stratified by ``y``, sorted."""
    rows, _ = train_test_split(np.arange(len(y)), train_size=n_rows, random_state=seed,
                               stratify=y)
    return np.sort(rows)
