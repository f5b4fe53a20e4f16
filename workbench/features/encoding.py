"""Encode a pandas DataFrame into the shared field layout (:class:`EncodedFields`).

:class:`FieldEncoder` learns everything from the training frame only: a
vocabulary per categorical and multi-valued field, and a mean and standard
deviation per numeric field. Validation and test frames are then encoded with
those statistics, so an unseen category becomes index 0
(``OUT_OF_VOCABULARY``) instead of an error.

Example
-------
>>> import pandas as pd
>>> train = pd.DataFrame({"city": ["a", "b", "a"], "price": [1.0, 2.0, 3.0],
...                       "tags": ["x|y", "y", ""]})
>>> encoder = FieldEncoder(["city"], ["price"], ["tags"]).fit(train)
>>> [(field.name, field.vocabulary_size) for field in encoder.fields_]
[('city', 3), ('price', 1), ('tags', 3)]
>>> encoder.transform(pd.DataFrame({"city": ["c"], "price": [2.0], "tags": ["y|z"]})).multi
array([[[1, 0]]])
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Hashable, Iterable

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

from workbench.core.validation import check_int
from workbench.features.fields import OUT_OF_VOCABULARY, EncodedFields, FieldSpec

logger = logging.getLogger(__name__)
UNSEEN_WARNING_ROWS = 10   # rows needed before an all-unseen column is reported

# Values of a multi-valued cell that are read as a list of items.
LIST_TYPES = (list, tuple, np.ndarray)

# How many column names an error message lists before it shortens the list.
MAX_NAMES_IN_MESSAGE = 20


class FieldEncoder(BaseEstimator):
    """Encode categorical, numeric and multi-valued columns as model fields.

    Parameters
    ----------
    categorical, numeric, multi : list of column names or None
        The columns of each field kind. Each field keeps its position in its
        list, and :attr:`fields_` orders the kinds categorical, numeric,
        multi. When all three are None, the kinds are inferred from the
        dtypes at ``fit``: bool, object, category and string columns become
        categorical, int and float columns numeric, and any other dtype
        raises ``ValueError``. Multi-valued columns are never inferred. When
        at least one list is given, a None list means no column of that kind.
    min_count : int, default 1
        A categorical value or multi-valued item gets its own index only if
        it occurs at least ``min_count`` times in the training frame. Rarer
        values share index 0 with unseen and missing ones.
    multi_separator : str, default "|"
        Separator of the items in a string cell of a multi-valued column,
        such as ``"Comedy|Drama"``. List, tuple and array cells are read
        item by item.
    max_multi_length : int or None, default None
        Length of the padded item axis of the multi-valued fields. None uses
        the largest number of in-vocabulary items in one training cell.

    Attributes
    ----------
    categorical_, numeric_, multi_ : list
        The column names of each kind, as listed or inferred.
    vocabularies_ : dict
        Column name -> list of vocabulary values for each categorical and
        multi-valued field. The value at list position ``i`` has index
        ``i + 1``. The values are ordered by training count, most frequent
        first, and ties keep their order of first occurrence.
    mean_, scale_ : ndarray of float64, shape (n_numeric,)
        Training mean and standard deviation (ddof=0) of each numeric field,
        over its non-missing values. A constant field gets scale 1, so all of
        its values encode as 0.
    multi_length_ : int
        Length of the item axis of ``EncodedFields.multi``: 0 without
        multi-valued fields, else at least 1.
    fields_ : tuple of FieldSpec
        The encoded fields in output order.

    Notes
    -----
    Missing values are NaN, None, pandas NA and strings that are empty after
    stripping whitespace. In categorical and multi-valued fields they map to
    index 0, and in numeric fields to 0 after standardizing (the training
    mean). Infinite numeric values raise ``ValueError``.
    """

    def __init__(
        self,
        categorical: Iterable[Hashable] | None = None,
        numeric: Iterable[Hashable] | None = None,
        multi: Iterable[Hashable] | None = None,
        *,
        min_count: int = 1,
        multi_separator: str = "|",
        max_multi_length: int | None = None,
    ) -> None:
        self.categorical = categorical
        self.numeric = numeric
        self.multi = multi
        self.min_count = min_count
        self.multi_separator = multi_separator
        self.max_multi_length = max_multi_length

    def fit(self, frame: pd.DataFrame, y: object = None) -> FieldEncoder:
        """Learn the vocabularies, means and scales from the training ``frame``.

        ``y`` is ignored; it exists for scikit-learn pipelines. Returns self.
        """
        _check_frame(frame)
        min_count = check_int("min_count", self.min_count, minimum=1)
        separator = _check_separator(self.multi_separator)
        max_length = None
        if self.max_multi_length is not None:
            max_length = check_int("max_multi_length", self.max_multi_length, minimum=1)

        categorical, numeric, multi = self._resolve_columns(frame)
        _check_columns_present(frame, [*categorical, *numeric, *multi], "fit")
        if len(frame) == 0:
            raise ValueError("frame has no rows; fit needs at least one training row.")

        vocabularies = {}
        for column in categorical:
            values = _categorical_values(frame[column])
            vocabularies[column] = _build_vocabulary(values, min_count, column)

        means = np.zeros(len(numeric))
        scales = np.ones(len(numeric))
        for j, column in enumerate(numeric):
            means[j], scales[j] = _standardization(_numeric_values(frame[column], column), column)

        longest = 0
        for column in multi:
            cells = _multi_cells(frame[column], column, separator)
            items = [item for cell in cells for item in cell]
            vocabularies[column] = _build_vocabulary(items, min_count, column)
            codes, rows = _lookup_cells(vocabularies[column], cells, column)
            in_vocabulary = codes != OUT_OF_VOCABULARY
            cell_lengths = np.bincount(rows[in_vocabulary], minlength=len(cells))
            longest = max(longest, int(cell_lengths.max()))

        self.categorical_ = categorical
        self.numeric_ = numeric
        self.multi_ = multi
        self.vocabularies_ = vocabularies
        self.mean_ = means
        self.scale_ = scales
        if not multi:
            self.multi_length_ = 0
        elif max_length is not None:
            self.multi_length_ = max_length
        else:
            self.multi_length_ = max(longest, 1)
        self.fields_ = (
            *(FieldSpec(str(c), "categorical", len(vocabularies[c]) + 1) for c in categorical),
            *(FieldSpec(str(c), "numeric") for c in numeric),
            *(FieldSpec(str(c), "multi", len(vocabularies[c]) + 1) for c in multi),
        )
        return self

    def transform(self, frame: pd.DataFrame) -> EncodedFields:
        """Encode ``frame`` with the fitted statistics.

        Columns not fitted are ignored. Unseen and rare categories map to
        index 0. A multi-valued cell keeps its in-vocabulary items in order,
        padded with 0 to ``multi_length_``.

        Returns
        -------
        EncodedFields
            ``categorical`` int64 (n, n_categorical), ``numeric`` float32
            (n, n_numeric), ``multi`` int64 (n, n_multi, multi_length_).
        """
        if not hasattr(self, "fields_"):
            raise NotFittedError("this FieldEncoder is not fitted yet; call fit(frame) first.")
        _check_frame(frame)
        fitted_columns = [*self.categorical_, *self.numeric_, *self.multi_]
        _check_columns_present(frame, fitted_columns, "transform")
        n_rows = len(frame)

        categorical = np.zeros((n_rows, len(self.categorical_)), dtype=np.int64)
        for j, column in enumerate(self.categorical_):
            values = _categorical_values(frame[column])
            categorical[:, j] = _lookup(self.vocabularies_[column], values, column)
            present = frame[column].notna().to_numpy()
            if present.sum() >= UNSEEN_WARNING_ROWS and not categorical[present, j].any():
                # Every value unseen usually means a changed dtype ("25" against 25).
                logger.warning("every value of column %r is unseen in training (first: %r), "
                               "so all map to the out-of-vocabulary index; check the "
                               "column's dtype against the training data",
                               column, frame[column][present].iloc[0])

        numeric = np.zeros((n_rows, len(self.numeric_)), dtype=np.float32)
        for j, column in enumerate(self.numeric_):
            standardized = (_numeric_values(frame[column], column) - self.mean_[j]) / self.scale_[j]
            numeric[:, j] = np.nan_to_num(standardized, nan=0.0)

        multi = np.zeros((n_rows, len(self.multi_), self.multi_length_), dtype=np.int64)
        for j, column in enumerate(self.multi_):
            cells = _multi_cells(frame[column], column, self.multi_separator)
            codes, rows = _lookup_cells(self.vocabularies_[column], cells, column)

            # Index 0 doubles as padding and the mean embedding skips it, so an
            # out-of-vocabulary item is dropped before the cell is truncated.
            in_vocabulary = codes != OUT_OF_VOCABULARY
            codes, rows = codes[in_vocabulary], rows[in_vocabulary]

            # Position of each remaining item inside its own cell.
            cell_lengths = np.bincount(rows, minlength=n_rows)
            starts = np.cumsum(cell_lengths) - cell_lengths
            positions = np.arange(len(codes)) - starts[rows]

            # NOTE: a cell with more than multi_length_ in-vocabulary items loses the
            # items past that length.
            fits = positions < self.multi_length_
            multi[rows[fits], j, positions[fits]] = codes[fits]

        return EncodedFields(self.fields_, categorical, numeric, multi)

    def fit_transform(self, frame: pd.DataFrame, y: object = None) -> EncodedFields:
        """Fit on ``frame`` and return its encoding."""
        return self.fit(frame, y).transform(frame)

    def _resolve_columns(self, frame: pd.DataFrame) -> tuple[list, list, list]:
        """Return the (categorical, numeric, multi) column lists, checked or inferred."""
        if self.categorical is None and self.numeric is None and self.multi is None:
            categorical, numeric = _infer_kinds(frame)
            multi = []
        else:
            categorical = _check_column_list("categorical", self.categorical)
            numeric = _check_column_list("numeric", self.numeric)
            multi = _check_column_list("multi", self.multi)

        kinds = {"categorical": categorical, "numeric": numeric, "multi": multi}
        seen: dict[Hashable, str] = {}
        for kind, columns in kinds.items():
            for column in columns:
                if column in seen:
                    raise ValueError(
                        f"column {column!r} is listed as both {seen[column]} and {kind}; "
                        "list each column under one kind only."
                    )
                seen[column] = kind
        if not seen:
            raise ValueError(
                "no fields to encode: categorical, numeric and multi are all empty"
                + (" and the frame has no columns" if len(frame.columns) == 0 else "")
                + "; list at least one column."
            )
        return categorical, numeric, multi


# --- argument checks -------------------------------------------------------


def _check_frame(frame: object) -> None:
    """Raise ``TypeError`` unless ``frame`` is a pandas DataFrame."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(
            f"frame must be a pandas DataFrame, got {type(frame).__name__}; wrap arrays "
            "with pandas.DataFrame(data, columns=[...])."
        )


def _check_separator(separator: object) -> str:
    """Return ``separator`` if it is a non-empty string."""
    if not isinstance(separator, str):
        raise TypeError(
            f"multi_separator must be a str, got {type(separator).__name__} {separator!r}."
        )
    if not separator:
        raise ValueError("multi_separator must be a non-empty string, got ''; pass '|' or ','.")
    return separator


def _check_column_list(argument: str, columns: object) -> list:
    """Return ``columns`` as a list of distinct column names (None gives [])."""
    if columns is None:
        return []
    if isinstance(columns, (str, bytes)):
        raise TypeError(
            f"{argument} must be a list of column names, got the string {columns!r}; "
            f"pass [{columns!r}]."
        )
    if not isinstance(columns, Iterable):
        raise TypeError(
            f"{argument} must be a list of column names, got {type(columns).__name__} "
            f"{columns!r}."
        )
    names = list(columns)
    for name in names:
        if not isinstance(name, Hashable):
            raise TypeError(
                f"{argument} contains {name!r} of type {type(name).__name__}, which cannot be "
                "a column name; pass column labels such as strings."
            )
    duplicates = sorted({str(name) for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"{argument} lists columns {duplicates} more than once; list each once.")
    return names


def _check_columns_present(frame: pd.DataFrame, columns: list, stage: str) -> None:
    """Raise ``ValueError`` naming the listed columns that ``frame`` lacks or repeats."""
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        available = [str(column) for column in frame.columns]
        listed = available[:MAX_NAMES_IN_MESSAGE]
        more = len(available) - len(listed)
        raise ValueError(
            f"columns {missing} are missing from the frame passed to {stage}; "
            f"the frame has columns {listed}" + (f" and {more} more" if more > 0 else "")
            + ". Pass a frame with the same feature columns as the training frame."
        )
    repeated = [column for column in columns if np.sum(frame.columns == column) > 1]
    if repeated:
        raise ValueError(
            f"columns {repeated} occur more than once in the frame passed to {stage}; "
            "rename or drop the duplicates."
        )


def _infer_kinds(frame: pd.DataFrame) -> tuple[list, list]:
    """Split the columns of ``frame`` into (categorical, numeric) lists by dtype."""
    categorical, numeric, unsupported = [], [], []
    for column in frame.columns:
        dtype = frame[column].dtype
        if (
            pd.api.types.is_bool_dtype(dtype)
            or isinstance(dtype, pd.CategoricalDtype)
            or pd.api.types.is_object_dtype(dtype)
            or pd.api.types.is_string_dtype(dtype)
        ):
            categorical.append(column)
        elif pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype):
            numeric.append(column)
        else:
            unsupported.append(f"{column!r} ({dtype})")
    if unsupported:
        raise ValueError(
            f"cannot infer a field kind for columns {', '.join(unsupported)}; convert them to "
            "numbers or strings, or pass categorical=, numeric= and multi= explicitly."
        )
    return categorical, numeric


# --- values ----------------------------------------------------------------


def _is_missing(value: object) -> bool:
    """Return whether a scalar cell value counts as missing (NaN, None, NA or blank string)."""
    if isinstance(value, str):
        return not value.strip()
    return pd.api.types.is_scalar(value) and bool(pd.isna(value))


def _categorical_values(series: pd.Series) -> np.ndarray:
    """Return the values of ``series`` as an object array with None where missing."""
    values = series.astype(object).to_numpy(copy=True)
    missing = pd.isna(values) | np.fromiter(
        (isinstance(value, str) and not value.strip() for value in values),
        dtype=bool, count=len(values),
    )
    values[missing] = None
    return values


def _numeric_values(series: pd.Series, column: Hashable) -> np.ndarray:
    """Return ``series`` as float64 with NaN where missing.

    Raises ``ValueError`` for a dtype that is not a real number type and for
    infinite values.
    """
    dtype = series.dtype
    if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_complex_dtype(dtype):
        raise ValueError(
            f"numeric column {column!r} has dtype {dtype}, which is not a real number type; "
            "convert it with pandas.to_numeric or list it under categorical."
        )
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isinf(values).any():
        raise ValueError(
            f"numeric column {column!r} contains infinite values; replace them with NaN "
            "(encoded as the training mean) or with finite numbers."
        )
    return values


def _standardization(values: np.ndarray, column: Hashable) -> tuple[float, float]:
    """Return the (mean, scale) that standardize the non-missing ``values``.

    The scale is the standard deviation (ddof=0), or 1 for a constant field.
    """
    observed = values[~np.isnan(values)]
    if observed.size == 0:
        # NOTE: an all-missing training column encodes later non-missing values as their raw value.
        logger.warning("numeric column %r has no non-missing training value; "
                       "using mean 0 and scale 1", column)
        return 0.0, 1.0
    if observed.min() == observed.max():
        # The exact value as mean makes every encoded value exactly 0.
        return float(observed[0]), 1.0
    return float(observed.mean()), float(observed.std())


def _multi_cells(series: pd.Series, column: Hashable, separator: str) -> list[list]:
    """Split each cell of a multi-valued column into its list of non-missing items.

    A string cell is split on ``separator``, and a list, tuple or 1-D array
    cell is read item by item. Another non-missing scalar is a one-item cell.
    String items are stripped of surrounding whitespace.
    """
    cells = []
    for value in series.astype(object).to_numpy():
        if isinstance(value, str):
            items = value.split(separator)
        elif isinstance(value, LIST_TYPES):
            items = list(np.ravel(value)) if isinstance(value, np.ndarray) else list(value)
        elif _is_missing(value):
            items = []
        else:
            items = [value]
        cells.append([
            item.strip() if isinstance(item, str) else item
            for item in items
            if not _is_missing(item)
        ])
    return cells


# --- vocabularies ----------------------------------------------------------


def _build_vocabulary(values: Iterable, min_count: int, column: Hashable) -> list:
    """Return the non-missing values seen at least ``min_count`` times, most frequent first.

    Ties keep their order of first occurrence, so the vocabulary depends only
    on the training data.
    """
    try:
        counts = Counter(value for value in values if value is not None)
    except TypeError as error:
        raise ValueError(
            f"column {column!r} contains unhashable values ({error}); list a categorical "
            "column of lists under multi, and convert nested lists and other unhashable "
            "values to strings."
        ) from error
    frequent = [(value, count) for value, count in counts.items() if count >= min_count]
    frequent.sort(key=lambda pair: -pair[1])    # list.sort is stable, so ties keep first occurrence
    return [value for value, _ in frequent]


def _lookup(vocabulary: list, values: np.ndarray, column: Hashable) -> np.ndarray:
    """Return the int64 index of each value in ``vocabulary``, 0 where it is absent or None."""
    try:
        positions = pd.Index(vocabulary, dtype=object).get_indexer(values)
    except TypeError as error:
        raise ValueError(
            f"column {column!r} contains unhashable values ({error}); list a categorical "
            "column of lists under multi, and convert nested lists and other unhashable "
            "values to strings."
        ) from error
    # get_indexer returns -1 for a value not in the vocabulary, which becomes index 0.
    return positions.astype(np.int64) + 1


def _lookup_cells(
    vocabulary: list, cells: list[list], column: Hashable
) -> tuple[np.ndarray, np.ndarray]:
    """Return (index of each item, row of each item) over all ``cells``, flattened in order."""
    lengths = np.fromiter((len(cell) for cell in cells), dtype=np.int64, count=len(cells))
    items = np.empty(int(lengths.sum()), dtype=object)
    position = 0
    for cell in cells:
        for item in cell:
            items[position] = item     # item by item, so numpy never unpacks a nested list
            position += 1
    codes = _lookup(vocabulary, items, column)
    rows = np.repeat(np.arange(len(cells)), lengths)
    return codes, rows
