"""Integer-coded categorical tables, the input of the feature-interaction searches.

A :class:`CategoricalTable` stores one int64 code per row and field. Index 0
of every field is shared by rare, unseen and missing values, so a model
never meets an index it did not see in training. :class:`TableEncoder`
builds such a table from a pandas DataFrame and treats every column as
categorical: numbers are values too, so numeric columns are discretized
first (see :mod:`workbench.features.discretize`).

Example
-------
>>> import pandas as pd
>>> frame = pd.DataFrame({"city": ["a", "b", "a", "c"], "size": [1, 2, 1, 1]})
>>> table = TableEncoder(min_count=2).fit_transform(frame)
>>> table.field_names, table.cardinalities.tolist()
(('city', 'size'), [2, 2])
>>> table.codes.tolist()
[[1, 1], [0, 0], [1, 1], [0, 1]]
"""

from __future__ import annotations

import dataclasses
import logging
import reprlib
from collections.abc import Hashable, Iterable, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

from workbench.core.validation import check_int

logger = logging.getLogger(__name__)

# Index shared by rare, unseen and missing values in every field.
RARE_INDEX = 0

# Rows with a value needed before a column whose values are all unseen is reported.
UNSEEN_WARNING_ROWS = 10


@dataclasses.dataclass(frozen=True, eq=False)
class CategoricalTable:
    """Categorical fields of a data set as integer codes.

    Attributes
    ----------
    codes : ndarray of int64, shape (n_rows, n_fields)
        Code of each row's value in each field. Index 0 stands for a rare,
        unseen or missing value, and every code of field ``j`` is below
        ``cardinalities[j]``. The array is stored read-only.
    field_names : tuple of str
        Distinct field names, one per column of ``codes``.
    cardinalities : ndarray of int64, shape (n_fields,)
        Number of indices of each field, index 0 included, so at least 1.

    Raises
    ------
    TypeError, ValueError
        From ``__post_init__`` when the shapes, types or code ranges disagree.
    """

    codes: np.ndarray
    field_names: tuple[str, ...]
    cardinalities: np.ndarray

    def __post_init__(self) -> None:
        codes = np.asarray(self.codes)
        if codes.ndim != 2:
            raise ValueError(f"codes must be a 2-D array (n_rows, n_fields), got shape "
                             f"{codes.shape}; reshape a single field with codes[:, None].")
        if codes.size and not np.issubdtype(codes.dtype, np.integer):
            raise TypeError(f"codes must have an integer dtype, got {codes.dtype}; encode "
                            f"values with TableEncoder first.")
        codes = codes.astype(np.int64, copy=False)

        if isinstance(self.field_names, str) or not isinstance(self.field_names, Iterable):
            raise TypeError(f"field_names must be a sequence of str, got "
                            f"{reprlib.repr(self.field_names)}.")
        names = tuple(self.field_names)
        for name in names:
            if not isinstance(name, str):
                raise TypeError(f"field_names must contain str, got {name!r} of type "
                                f"{type(name).__name__}; convert names with str().")
        if len(set(names)) != len(names):
            repeated = sorted({name for name in names if names.count(name) > 1})
            raise ValueError(f"field_names must be distinct, but {repeated} occur more than "
                             f"once; rename the repeated fields.")
        if len(names) != codes.shape[1]:
            raise ValueError(f"field_names has {len(names)} names but codes has "
                             f"{codes.shape[1]} columns; pass one name per column.")

        cardinalities = np.asarray(self.cardinalities)
        if cardinalities.shape != (len(names),):
            raise ValueError(f"cardinalities must have shape ({len(names)},), one per field, "
                             f"got shape {cardinalities.shape}.")
        if cardinalities.size and not np.issubdtype(cardinalities.dtype, np.integer):
            raise TypeError(f"cardinalities must be integers, got dtype {cardinalities.dtype}.")
        cardinalities = cardinalities.astype(np.int64, copy=False)
        if (cardinalities < 1).any():
            field = names[int(np.argmin(cardinalities))]
            raise ValueError(f"cardinality of field {field!r} is {int(cardinalities.min())}; "
                             f"every field needs at least 1 (index 0).")

        if codes.size:
            low = codes.min(axis=0)
            high = codes.max(axis=0)
            for j in np.flatnonzero((low < 0) | (high >= cardinalities)):
                raise ValueError(
                    f"field {names[j]!r} has codes in [{int(low[j])}, {int(high[j])}], outside "
                    f"[0, {int(cardinalities[j]) - 1}] for its cardinality "
                    f"{int(cardinalities[j])}; raise the cardinality or map the codes to 0.")

        codes = codes.view()
        codes.flags.writeable = False
        cardinalities = cardinalities.copy()
        cardinalities.flags.writeable = False
        object.__setattr__(self, "codes", codes)
        object.__setattr__(self, "field_names", names)
        object.__setattr__(self, "cardinalities", cardinalities)

    def __len__(self) -> int:
        return self.codes.shape[0]

    def __repr__(self) -> str:
        return (f"CategoricalTable(n_rows={len(self)}, "
                f"field_names={reprlib.repr(self.field_names)}, "
                f"cardinalities={reprlib.repr(self.cardinalities.tolist())})")

    @property
    def n_fields(self) -> int:
        """Number of fields (columns of ``codes``)."""
        return len(self.field_names)

    def field_index(self, name: str) -> int:
        """Return the column position of field ``name``; raise ``ValueError`` if it is absent."""
        try:
            return self.field_names.index(name)
        except ValueError:
            raise ValueError(f"field {name!r} is not in the table; its fields are "
                             f"{reprlib.repr(list(self.field_names))}.") from None

    def column(self, name: str) -> np.ndarray:
        """Return the codes of field ``name``, int64 of shape (n_rows,), read-only."""
        return self.codes[:, self.field_index(name)]

    def take(self, rows: np.ndarray | Sequence[int] | slice) -> CategoricalTable:
        """Return the rows selected by ``rows`` (indices, a boolean mask or a slice)."""
        if not isinstance(rows, slice):
            rows = np.asarray(rows)
            if rows.dtype == bool:
                if rows.shape != (len(self),):
                    raise ValueError(f"rows as a boolean mask must have shape ({len(self)},), "
                                     f"got {rows.shape}.")
            elif rows.size and not np.issubdtype(rows.dtype, np.integer):
                raise TypeError(f"rows must be integer indices, a boolean mask or a slice, "
                                f"got dtype {rows.dtype}.")
            elif rows.size == 0:
                rows = rows.astype(np.int64)
        return CategoricalTable(self.codes[rows], self.field_names, self.cardinalities)

    def select(self, names: Iterable[str]) -> CategoricalTable:
        """Return the table restricted to fields ``names``, in that order."""
        if isinstance(names, str):
            raise TypeError(f"names must be a list of field names, got the string {names!r}; "
                            f"pass [{names!r}].")
        positions = [self.field_index(name) for name in names]
        return CategoricalTable(self.codes[:, positions],
                                tuple(self.field_names[j] for j in positions),
                                self.cardinalities[positions])

    def append(self, names: Sequence[str], codes: np.ndarray,
               cardinalities: Sequence[int] | np.ndarray) -> CategoricalTable:
        """Return a table with new fields ``names`` added after the existing ones.

        ``codes`` has shape (n_rows, len(names)), or (n_rows,) for one field,
        and ``cardinalities`` one entry per new field.
        """
        if isinstance(names, str):
            names = [names]
        codes = np.asarray(codes)
        if codes.ndim == 1:
            codes = codes[:, None]
        if codes.ndim != 2 or codes.shape[0] != len(self):
            raise ValueError(f"codes must have shape ({len(self)}, {len(names)}) to match the "
                             f"table's {len(self)} rows, got {codes.shape}.")
        return CategoricalTable(np.hstack([self.codes, codes.astype(np.int64, copy=False)]),
                                (*self.field_names, *names),
                                np.concatenate([self.cardinalities,
                                                np.asarray(cardinalities, dtype=np.int64)]))


class TableEncoder(BaseEstimator):
    """Encode DataFrame columns as a :class:`CategoricalTable`.

    Every column is read as categorical, so numbers are values like any
    other. Values seen fewer than ``min_count`` times in the training frame
    merge into index 0 with unseen and missing ones (rare-category merging).

    Parameters
    ----------
    columns : list of column names or None, default None
        Columns to encode, in output order. None encodes every column of
        the training frame.
    min_count : int, default 1
        A value gets its own index only if it occurs at least ``min_count``
        times in the training frame.

    Attributes
    ----------
    columns_ : list
        The encoded columns.
    field_names_ : tuple of str
        ``str(column)`` for each encoded column.
    vocabularies_ : dict
        Column -> pandas Index of its kept values. The value at position
        ``i`` has code ``i + 1``. Values are ordered by training count, most
        frequent first, and ties keep their order of first occurrence.
    cardinalities_ : ndarray of int64, shape (n_fields,)
        ``len(vocabulary) + 1`` per column.

    Notes
    -----
    Missing values are NaN, None, pandas NA and strings that are empty after
    stripping whitespace. They, unseen values and rare values all get code 0
    at ``transform``, so an unknown value is not an error. A column whose
    present values are all unseen is logged as a warning, because it usually
    means a changed dtype (the string "25" against the number 25).
    """

    def __init__(self, columns: Iterable[Hashable] | None = None, *, min_count: int = 1) -> None:
        self.columns = columns
        self.min_count = min_count

    def fit(self, frame: pd.DataFrame, y: object = None) -> TableEncoder:
        """Learn each column's vocabulary from the training ``frame``.

        ``y`` is ignored; it exists for scikit-learn pipelines. Returns self.
        """
        _check_frame(frame)
        min_count = check_int("min_count", self.min_count, minimum=1)
        columns = _resolve_columns(self.columns, frame)
        if len(frame) == 0:
            raise ValueError("frame has no rows; fit needs at least one training row.")

        vocabularies = {}
        for column in columns:
            vocabularies[column] = _build_vocabulary(frame[column], min_count)

        self.columns_ = columns
        self.field_names_ = tuple(str(column) for column in columns)
        if len(set(self.field_names_)) != len(columns):
            raise ValueError(f"columns {columns} give repeated field names "
                             f"{list(self.field_names_)} after str(); rename them.")
        self.vocabularies_ = vocabularies
        self.cardinalities_ = np.array([len(vocabularies[c]) + 1 for c in columns],
                                       dtype=np.int64)
        return self

    def transform(self, frame: pd.DataFrame) -> CategoricalTable:
        """Encode ``frame`` with the fitted vocabularies; unknown values get code 0."""
        if not hasattr(self, "vocabularies_"):
            raise NotFittedError("this TableEncoder is not fitted yet; call fit(frame) first.")
        _check_frame(frame)
        _check_columns_present(frame, self.columns_)

        codes = np.zeros((len(frame), len(self.columns_)), dtype=np.int64)
        for j, column in enumerate(self.columns_):
            values = _values_with_missing(frame[column])
            codes[:, j] = _lookup(self.vocabularies_[column], values)

            present = pd.notna(values)
            if present.sum() >= UNSEEN_WARNING_ROWS and not codes[present, j].any():
                logger.warning("every value of column %r is unseen in training (first: %r), so "
                               "all map to index 0; check the column's dtype against the "
                               "training data", column, values[present][0])
        return CategoricalTable(codes, self.field_names_, self.cardinalities_)

    def fit_transform(self, frame: pd.DataFrame, y: object = None) -> CategoricalTable:
        """Fit on ``frame`` and return its encoding."""
        return self.fit(frame, y).transform(frame)


def check_table(table: object, name: str) -> None:
    """Raise unless ``table`` is a :class:`CategoricalTable` with at least one row and field."""
    if not isinstance(table, CategoricalTable):
        raise TypeError(f"{name} must be a CategoricalTable, got {type(table).__name__}; "
                        f"encode a DataFrame with TableEncoder first.")
    if len(table) == 0:
        raise ValueError(f"{name} has no rows; pass at least one row.")
    if table.n_fields == 0:
        raise ValueError(f"{name} has no fields; pass a table with at least one field.")


def check_same_encoding(train: CategoricalTable, other: CategoricalTable, *, name: str,
                        train_name: str) -> None:
    """Raise unless ``other`` has the fields and cardinalities of ``train``, in the same order."""
    if other.field_names != train.field_names:
        raise ValueError(f"{name} has fields {other.field_names} but {train_name} has "
                         f"{train.field_names}; encode both with the same TableEncoder.")
    if not np.array_equal(other.cardinalities, train.cardinalities):
        raise ValueError(f"{name} has cardinalities {other.cardinalities.tolist()} but "
                         f"{train_name} has {train.cardinalities.tolist()}; encode both with "
                         f"the same fitted TableEncoder.")


def _check_frame(frame: object) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame, got {type(frame).__name__}; wrap "
                        f"arrays with pandas.DataFrame(data, columns=[...]).")


def _resolve_columns(columns: object, frame: pd.DataFrame) -> list:
    """Return the listed columns, checked against ``frame``, or all of its columns."""
    if columns is None:
        names = list(frame.columns)
    elif isinstance(columns, (str, bytes)) or not isinstance(columns, Iterable):
        raise TypeError(f"columns must be a list of column names or None, got "
                        f"{reprlib.repr(columns)}; pass [{columns!r}] for one column.")
    else:
        names = list(columns)
    if not names:
        raise ValueError("no columns to encode: the frame has no columns or columns is empty; "
                         "pass a frame with at least one column.")
    repeated = sorted({str(name) for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"columns lists {repeated} more than once; list each column once.")
    _check_columns_present(frame, names)
    return names


def _check_columns_present(frame: pd.DataFrame, columns: list) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"columns {missing} are missing from the frame, which has columns "
                         f"{reprlib.repr([str(c) for c in frame.columns])}; pass a frame with "
                         f"the training columns.")
    repeated = [column for column in columns if np.sum(frame.columns == column) > 1]
    if repeated:
        raise ValueError(f"columns {repeated} occur more than once in the frame; rename or "
                         f"drop the duplicates.")


def _values_with_missing(series: pd.Series) -> np.ndarray:
    """Return the values of ``series`` as an object array with NaN where missing.

    Blank strings count as missing. Only the distinct values are checked for
    blankness, so the cost does not grow with a Python loop over rows.
    """
    values = series.to_numpy(dtype=object, na_value=np.nan)
    row_codes, uniques = _factorize(values, series.name)
    blank = np.array([isinstance(value, str) and not value.strip() for value in uniques],
                     dtype=bool)
    if blank.any():
        values = values.copy()
        values[blank[np.maximum(row_codes, 0)] & (row_codes >= 0)] = np.nan
    return values


def _factorize(values: np.ndarray, column: Hashable) -> tuple[np.ndarray, np.ndarray]:
    """Return ``pandas.factorize(values)``.

    An unhashable cell (a list, for example) raises ValueError naming ``column``.
    """
    try:
        return pd.factorize(values, use_na_sentinel=True)
    except TypeError as error:
        raise ValueError(f"column {column!r} contains unhashable values ({error}); convert "
                         f"lists and other unhashable values to strings, for example with "
                         f"frame[{column!r}].map(str).") from error


def _build_vocabulary(series: pd.Series, min_count: int) -> pd.Index:
    """Return the values of ``series`` seen at least ``min_count`` times, most frequent first."""
    values = _values_with_missing(series)
    row_codes, uniques = _factorize(values, series.name)
    counts = np.bincount(row_codes[row_codes >= 0], minlength=len(uniques))

    # factorize numbers values by first occurrence, so a stable sort keeps that order in ties.
    order = np.argsort(-counts, kind="stable")
    order = order[counts[order] >= min_count]
    return pd.Index(np.asarray(uniques, dtype=object)[order], dtype=object)


def _lookup(vocabulary: pd.Index, values: np.ndarray) -> np.ndarray:
    """Return the int64 code of each value: its vocabulary position + 1, or 0 if absent."""
    if len(vocabulary) == 0:
        return np.zeros(len(values), dtype=np.int64)
    # get_indexer returns -1 for a value not in the vocabulary (NaN included), which becomes 0.
    return vocabulary.get_indexer(values).astype(np.int64) + 1
