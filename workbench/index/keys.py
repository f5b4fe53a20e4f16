"""Checks and exact conversions for index keys and queries.

Keys are a sorted 1-D array of uint64, int64 or float64. Integer keys are
never compared through float64, which cannot tell 2^64 - 1 from 2^64 - 2.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

KEY_DTYPES = (np.dtype(np.uint64), np.dtype(np.int64), np.dtype(np.float64))
FLOAT_EXACT_LIMIT = 2**53   # integers of larger magnitude are not all representable in float64
# Upper limits of the structures' integer parameters. They keep the integer
# arithmetic of the compiled loops in int64 and the model arrays allocatable.
MAX_EPSILON = 2**40
MAX_BRANCHING = 2**24        # RMI leaves: 5 arrays of 2^24 x 8 bytes, 640 MiB
MAX_NODE_KEYS = 2**30


def _exact_integer_list(values: Any) -> np.ndarray | None:
    """Return a list or tuple of Python integers as int64 or uint64 exactly, else None.

    numpy reads a list that mixes values below and above 2^63 as float64,
    which merges neighbouring keys. Values that fit neither dtype raise.
    """
    if not isinstance(values, (list, tuple)) or not values:
        return None
    if not all(_is_integer(value) for value in values):
        return None
    integers = [int(value) for value in values]
    low, high = min(integers), max(integers)
    if low >= -2**63 and high < 2**63:
        return np.array(integers, dtype=np.int64)
    if low >= 0 and high < 2**64:
        return np.array(integers, dtype=np.uint64)
    if low < -2**63 or high >= 2**64:
        bad = low if low < -2**63 else high
        raise ValueError(f"key {bad} fits neither int64 nor uint64; pass keys in "
                         f"[-2**63, 2**64 - 1].")
    raise ValueError(f"keys mix a negative value ({low}) with a value above 2**63 - 1 "
                     f"({high}), so they fit neither int64 nor uint64; pass keys within one "
                     f"of the two ranges.")


def check_keys(keys: Any, *, sort: bool = False) -> np.ndarray:
    """Return ``keys`` as a contiguous sorted array of a supported dtype.

    Raises ``ValueError`` naming the first position that breaks the order, or
    the first NaN; with ``sort=True`` unsorted keys are sorted instead.

    NOTE: a sorted contiguous array of a supported dtype is returned as is,
    without a copy, so an index built on it reflects later changes to the
    caller's array. Pass ``keys.copy()`` to keep an index independent of it.
    """
    array = _exact_integer_list(keys)
    if array is None:
        array = np.asarray(keys)
    if array.ndim != 1:
        raise ValueError(f"keys must be a 1-D array, got shape {array.shape}; pass a flat array.")
    if array.dtype not in KEY_DTYPES:
        if array.size == 0:
            array = array.astype(np.uint64)
        elif array.dtype.kind in "iu" and np.can_cast(array.dtype, np.int64):
            array = array.astype(np.int64)
        elif array.dtype.kind == "u":
            array = array.astype(np.uint64)
        elif array.dtype.kind == "f":
            array = array.astype(np.float64)
        else:
            raise TypeError(f"keys must be uint64, int64 or float64, got dtype {array.dtype}; "
                            f"convert them with keys.astype(...).")
    if array.dtype.kind == "f":
        nan = np.flatnonzero(np.isnan(array))
        if nan.size:
            raise ValueError(f"keys contain NaN at position {int(nan[0])}; remove NaN keys.")
    if array.size > 1:
        broken = np.flatnonzero(array[1:] < array[:-1])
        if broken.size:
            if not sort:
                position = int(broken[0]) + 1
                raise ValueError(f"keys must be sorted, but keys[{position}] = "
                                 f"{array[position].item()!r} < keys[{position - 1}] = "
                                 f"{array[position - 1].item()!r}; sort them or pass sort=True.")
            array = np.sort(array, kind="stable")
    return np.ascontiguousarray(array)


def convert_queries(queries: Any, key_dtype: np.dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Convert ``queries`` to the keys' dtype without losing exactness.

    Returns ``(converted, below, above)``: the queries in ``key_dtype`` and two
    boolean masks for queries below every representable key (their lower
    bound is 0) and above every representable key (their lower bound is n).
    Raises ``TypeError`` for a conversion that could change a value.
    """
    if isinstance(queries, (list, tuple)) and not queries:
        empty = np.zeros(0, dtype=key_dtype)
        return empty, np.zeros(0, bool), np.zeros(0, bool)
    if isinstance(queries, (list, tuple)) and all(_is_integer(q) for q in queries):
        # numpy would read [0, 2**63] as float64; keep Python integers exact.
        raw = np.array([int(q) for q in queries], dtype=object)
    else:
        raw = np.asarray(queries)
    if raw.ndim == 0:
        raw = raw.reshape(1)
    if raw.ndim != 1:
        raise ValueError(f"queries must be a scalar or a 1-D array, got shape {raw.shape}.")
    if raw.dtype == object:
        if not all(isinstance(q, (int, np.integer)) for q in raw):
            raise TypeError("queries of dtype object must be Python integers.")
        if key_dtype.kind == "f":
            if any(abs(int(q)) > FLOAT_EXACT_LIMIT for q in raw):
                raise TypeError("integer queries beyond 2**53 cannot be compared exactly with "
                                "float64 keys; pass float queries.")
            return raw.astype(np.float64), np.zeros(raw.size, bool), np.zeros(raw.size, bool)
        info = np.iinfo(key_dtype)
        values = [int(q) for q in raw]
        below = np.array([q < info.min for q in values])
        above = np.array([q > info.max for q in values])
        clipped = [min(max(q, info.min), info.max) for q in values]
        return np.array(clipped, dtype=key_dtype), below, above
    none = np.zeros(raw.size, bool)
    if key_dtype.kind == "f" and raw.dtype.kind == "f":
        # numpy sorts NaN after every number, so a NaN query's lower bound is n.
        return np.ascontiguousarray(raw, dtype=np.float64), none, np.isnan(raw)
    if raw.dtype == key_dtype:
        return np.ascontiguousarray(raw), none, none.copy()
    if key_dtype.kind == "f":
        if raw.dtype.kind in "iu":
            if raw.size and (np.abs(raw.astype(object)).max() > FLOAT_EXACT_LIMIT):
                raise TypeError("integer queries beyond 2**53 cannot be compared exactly with "
                                "float64 keys; pass float queries.")
            return raw.astype(np.float64), none, none.copy()
        if raw.dtype.kind == "f":
            return raw.astype(np.float64), none, none.copy()
    if key_dtype.kind in "iu" and raw.dtype.kind in "iu":
        if np.can_cast(raw.dtype, key_dtype):
            return raw.astype(key_dtype), none, none.copy()
        # Signed queries for uint64 keys or uint64 queries for int64 keys: only
        # negative values and values above 2^63 - 1 fall outside, checked
        # without any float conversion.
        if raw.dtype.kind == "i":
            below, above = raw < 0, none.copy()
        else:
            below, above = none.copy(), raw > np.uint64(np.iinfo(np.int64).max)
        info = np.iinfo(key_dtype)
        clipped = np.where(below, info.min, np.where(above, info.max, raw))
        return clipped.astype(key_dtype), below, above
    raise TypeError(f"queries of dtype {raw.dtype} cannot be compared exactly with {key_dtype} "
                    f"keys; pass queries of the keys' dtype (integers for integer keys).")


def model_space(values: np.ndarray) -> np.ndarray:
    """Map int64 values to uint64 preserving order and exact differences (add 2^63)."""
    if values.dtype == np.int64:
        return values.view(np.uint64) ^ np.uint64(2**63)
    return values


def key_space(values: np.ndarray, key_dtype: np.dtype) -> np.ndarray:
    """Invert :func:`model_space` for keys of ``key_dtype``."""
    if key_dtype == np.int64:
        return (values ^ np.uint64(2**63)).view(np.int64)
    return values


def _is_integer(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def convert_inserts(values: Any, key_dtype: np.dtype) -> np.ndarray:
    """Convert keys to insert to ``key_dtype`` exactly, or raise naming the first bad value."""
    array = None
    if isinstance(values, (list, tuple)) and not any(isinstance(v, (list, tuple, np.ndarray))
                                                     for v in values):
        bad = [v for v in values if not _is_real(v)]
        if bad:
            raise TypeError(f"keys to insert must be integers or floats, got {bad[0]!r} of type "
                            f"{type(bad[0]).__name__}; pass a numeric array.")
        if values and all(_is_integer(v) for v in values):
            # numpy would turn [-1, 2**64 - 1] into float64; keep Python integers exact.
            array = np.array([int(v) for v in values], dtype=object)
    if array is None:
        array = np.asarray(values)
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim != 1:
        raise ValueError(f"keys to insert must be a scalar or a 1-D array, got shape "
                         f"{array.shape}; pass a flat array.")
    if array.dtype == object:
        bad = [v for v in array.tolist() if not _is_integer(v)]
        if bad:
            raise TypeError(f"keys to insert of dtype object must be Python integers, got "
                            f"{bad[0]!r} of type {type(bad[0]).__name__}; pass a numeric array.")
    if array.size == 0:
        return np.zeros(0, dtype=key_dtype)
    if array.dtype.kind not in "iufO":
        raise TypeError(f"keys to insert must be integers or floats, got {array[0].item()!r} of "
                        f"dtype {array.dtype}; pass values of the index's dtype {key_dtype}.")

    if key_dtype.kind == "f":
        if array.dtype.kind == "f":
            converted = array.astype(np.float64)
            nan = np.flatnonzero(np.isnan(converted))
            if nan.size:
                raise ValueError(f"keys to insert contain NaN at position {int(nan[0])}; "
                                 f"remove NaN values.")
            return converted
        # Integers: only those within 2^53 are certain to be exact in float64.
        for position, value in enumerate(array.tolist()):
            if abs(int(value)) > FLOAT_EXACT_LIMIT:
                raise ValueError(f"key to insert {value} at position {position} is beyond 2**53 "
                                 f"and may not be exact in float64 keys; pass float values.")
        return array.astype(np.float64)

    if array.dtype.kind == "f":
        position = 0
        fractional = np.flatnonzero(~np.isfinite(array) | (array != np.floor(array)))
        if fractional.size:
            position = int(fractional[0])
        raise TypeError(f"keys to insert into {key_dtype} keys must be integers, got "
                        f"{array[position].item()!r} at position {position} (dtype "
                        f"{array.dtype}); pass an integer array.")
    info = np.iinfo(key_dtype)
    if array.dtype == object:
        outside = [i for i, v in enumerate(array.tolist()) if not info.min <= v <= info.max]
    else:
        low = np.zeros(array.size, bool)
        if info.min == 0 and array.dtype.kind == "i":
            low = array < 0
        high = (array > np.uint64(info.max) if array.dtype == np.uint64 and info.max < 2**64 - 1
                else np.zeros(array.size, bool))
        outside = np.flatnonzero(low | high).tolist()
    if outside:
        position = outside[0]
        value = array.tolist()[position]
        raise ValueError(f"key to insert {value} at position {position} does not fit "
                         f"{key_dtype}; pass values in [{info.min}, {info.max}].")
    return array.astype(key_dtype)
