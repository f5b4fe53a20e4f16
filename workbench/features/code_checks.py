"""Input checks shared by the searches that take integer category codes (FIVES, AutoFIS).

A search accepts either a :class:`~workbench.features.categorical_table.CategoricalTable`
or a bare array of codes of shape (n_rows, n_fields), where code 0 is the
rare, unseen or missing value of each field. These helpers unpack the table
form and check the array form, so every search rejects the same bad input
with the same message.

Example
-------
>>> import numpy as np
>>> check_codes("codes", np.array([[1.0, 2.0], [0.0, 3.0]])).dtype
dtype('int64')
>>> check_field_names(None, 3, default_prefix="x")
('x0', 'x1', 'x2')
"""

from __future__ import annotations

import reprlib
from typing import Any

import numpy as np


def unpack_table(value: Any) -> tuple[Any, Any, Any]:
    """Return ``(codes, cardinalities, field_names)`` of a table, or ``(value, None, None)``.

    A table is any object with ``codes``, ``cardinalities`` and
    ``field_names`` attributes, such as a ``CategoricalTable``.
    """
    if all(hasattr(value, name) for name in ("codes", "cardinalities", "field_names")):
        return value.codes, value.cardinalities, value.field_names
    return value, None, None


def check_codes(name: str, codes: Any, cardinalities: np.ndarray | None = None) -> np.ndarray:
    """Return ``codes`` as int64 of shape (n_rows, n_fields), n_rows >= 1 and n_fields >= 1.

    Float arrays (and torch tensors) are accepted when every value is a whole
    number. NaN, infinite and negative values are rejected, because a missing
    value must already be code 0. With ``cardinalities`` (int64, shape (n_fields,)), the
    number of columns must match it and every code of field ``j`` must lie
    in ``[0, cardinalities[j])``.
    """
    if hasattr(codes, "detach"):                      # a torch tensor
        codes = codes.detach().cpu().numpy()
    try:
        array = np.asarray(codes)
    except ValueError as error:
        raise ValueError(f"{name} must be a rectangular array of shape (n_rows, n_fields), "
                         f"got rows of different lengths ({error}); pad or drop the short "
                         f"rows.") from error
    if array.dtype == bool or not (np.issubdtype(array.dtype, np.integer)
                                   or np.issubdtype(array.dtype, np.floating)):
        raise TypeError(f"{name} must contain integer category codes, got dtype {array.dtype}; "
                        f"encode the values first, for example with TableEncoder.")
    if cardinalities is not None and (array.ndim != 2 or array.shape[1] != len(cardinalities)):
        raise ValueError(f"{name} must have shape (n_rows, {len(cardinalities)}), one column "
                         f"per entry of cardinalities, got shape {array.shape}.")
    if array.ndim != 2:
        raise ValueError(f"{name} must have shape (n_rows, n_fields), got shape {array.shape}; "
                         f"pass one row per sample and one column per field.")
    if array.shape[1] == 0:
        raise ValueError(f"{name} has no fields (shape {array.shape}); pass at least one "
                         f"categorical field.")
    if array.shape[0] == 0:
        raise ValueError(f"{name} has no rows; pass at least one row.")
    if np.issubdtype(array.dtype, np.floating):
        bad = ~np.isfinite(array)
        if bad.any():
            row, field = (int(v) for v in np.argwhere(bad)[0])
            raise ValueError(f"{name} contains {array[row, field]} at row {row}, field {field}; "
                             f"encode missing values as code 0 (the rare/unseen index).")
        fractional = array != np.round(array)
        if fractional.any():
            row, field = (int(v) for v in np.argwhere(fractional)[0])
            raise ValueError(f"{name} contains the non-integer code {array[row, field]} at row "
                             f"{row}, field {field}; pass whole-number category codes.")
    if array.dtype.kind in "uf":                      # unsigned or float: may exceed int64
        too_large = array > np.iinfo(np.int64).max
        if too_large.any():
            row, field = (int(v) for v in np.argwhere(too_large)[0])
            raise ValueError(f"{name} contains {array[row, field]} at row {row}, field "
                             f"{field}, beyond the int64 range of category codes; re-encode "
                             f"the field with TableEncoder.")
    array = array.astype(np.int64)
    negative = array < 0
    if negative.any():
        row, field = (int(v) for v in np.argwhere(negative)[0])
        raise ValueError(f"{name} contains the negative code {array[row, field]} at row {row}, "
                         f"field {field}; codes must be >= 0, with 0 for rare, unseen or "
                         f"missing values.")
    if cardinalities is not None:
        outside = (array < 0) | (array >= cardinalities)
        if outside.any():
            row, field = (int(v) for v in np.argwhere(outside)[0])
            raise ValueError(f"{name} contains code {array[row, field]} at row {row}, field "
                             f"{field}, outside [0, {cardinalities[field] - 1}] for its "
                             f"cardinality {cardinalities[field]}; map unseen values to 0 or "
                             f"raise the cardinality.")
    return array


def check_field_names(field_names: Any, n_fields: int, *,
                      default_prefix: str | None = None) -> tuple[str, ...]:
    """Return ``field_names`` as a tuple of ``n_fields`` distinct strings.

    None gives ``default_prefix`` followed by the field index (``x0, x1, ...``)
    when ``default_prefix`` is set, and is an error otherwise.
    """
    if field_names is None and default_prefix is not None:
        return tuple(f"{default_prefix}{field}" for field in range(n_fields))
    if isinstance(field_names, str) or not isinstance(field_names, (list, tuple, np.ndarray)):
        raise TypeError(f"field_names must be a sequence of str, got "
                        f"{reprlib.repr(field_names)}; pass one name per field, such as "
                        f"['age', 'city'].")
    names = tuple(field_names)
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"field_names must contain str, got {name!r} of type "
                            f"{type(name).__name__}; convert the names with str().")
    if len(names) != n_fields:
        raise ValueError(f"field_names has {len(names)} names for {n_fields} fields; pass one "
                         f"name per field.")
    if len(set(names)) != len(names):
        repeated = sorted({name for name in names if names.count(name) > 1})
        raise ValueError(f"field_names must be distinct, but {repeated} occur more than "
                         f"once; rename the repeated fields.")
    return names


def check_same_field_order(train_names: Any, valid_names: Any) -> None:
    """Raise ValueError when both splits name their fields and the names differ.

    Bare code arrays carry no names, so a missing side (None) passes.
    """
    if train_names is None or valid_names is None:
        return
    if tuple(valid_names) != tuple(train_names):
        raise ValueError(f"valid_codes has fields {reprlib.repr(tuple(valid_names))} but the "
                         f"training fields are {reprlib.repr(tuple(train_names))}; pass the same "
                         f"fields in the same order.")
