"""Checks and exact conversions for index keys and queries.

Keys are a sorted 1-D array of uint64, int64 or float64. Integer keys are
never compared through float64, which cannot tell 2^64 - 1 from 2^64 - 2.
"""

from __future__ import annotations

from typing import Any

import numpy as np

KEY_DTYPES = (np.dtype(np.uint64), np.dtype(np.int64), np.dtype(np.float64))
FLOAT_EXACT_LIMIT = 2**53   # integers of larger magnitude are not all representable in float64


def check_keys(keys: Any, *, sort: bool = False) -> np.ndarray:
    """Return ``keys`` as a contiguous sorted array of a supported dtype.

    Raises ``ValueError`` naming the first position that breaks the order, or
    the first NaN; with ``sort=True`` unsorted keys are sorted instead.
    """
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
        clipped = np.where(below | above, 0, raw)
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
