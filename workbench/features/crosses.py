"""Cross features: a cross of k categorical fields becomes one categorical field.

The cross of fields ``(f_1, ..., f_k)`` takes one value per distinct
combination of their codes, as in the feature crossing of Luo et al.,
"AutoCross: Automatic Feature Crossing for Tabular Data in Real-World
Applications", KDD 2019. A row with index 0 (rare, unseen or missing) in
any component field gets index 0 in the cross.

Each combination is first turned into a 64-bit key by :func:`cross_keys`.
:class:`CrossEncoder` then gives each key either its own index from an
exact vocabulary of the training keys, or a hashed bucket.

Example
-------
>>> import numpy as np
>>> table = CategoricalTable(np.array([[1, 1], [1, 2], [2, 1], [1, 1]]), ("a", "b"),
...                          np.array([3, 3]))
>>> crossed = CrossEncoder([("a", "b")]).fit_transform(table)
>>> crossed.field_names, crossed.column("a x b").tolist()
(('a', 'b', 'a x b'), [1, 2, 3, 1])
"""

from __future__ import annotations

import reprlib
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import NotFittedError

from workbench.core.validation import check_int
from workbench.features.categorical_table import CategoricalTable

# Separator of the component names in a cross's field name.
CROSS_SEPARATOR = " x "

# Largest product of component cardinalities that cross_keys encodes exactly (mixed radix).
MAX_EXACT_KEY = 2**62

# splitmix64 constants (Steele, Lea and Flood, "Fast splittable pseudorandom number
# generators", OOPSLA 2014), used as a hash that is stable across processes.
_GOLDEN_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)


def cross_name(fields: Iterable[str]) -> str:
    """Return the field name of the cross of ``fields``, such as ``"education x sex"``."""
    return CROSS_SEPARATOR.join(fields)


def splitmix64(values: np.ndarray) -> np.ndarray:
    """Return the splitmix64 finalizer of each uint64 in ``values`` (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z = values.astype(np.uint64) + _GOLDEN_GAMMA
        z = (z ^ (z >> np.uint64(30))) * _MIX_1
        z = (z ^ (z >> np.uint64(27))) * _MIX_2
        return z ^ (z >> np.uint64(31))


def check_cross(table: CategoricalTable, fields: object,
                argument: str = "cross") -> tuple[str, ...]:
    """Return ``fields`` as a tuple of at least two distinct field names of ``table``."""
    if isinstance(fields, str) or not isinstance(fields, Iterable):
        raise TypeError(f"{argument} must be a tuple of field names, got {fields!r}; pass "
                        f"for example ('education', 'sex').")
    fields = tuple(fields)
    if len(fields) < 2:
        raise ValueError(f"{argument} {fields!r} has {len(fields)} field(s); a cross needs at "
                         f"least two distinct fields.")
    if len(set(fields)) != len(fields):
        raise ValueError(f"{argument} {fields!r} repeats a field; list each field once.")
    for name in fields:
        table.field_index(name)
    return fields


def cross_keys(table: CategoricalTable, fields: Sequence[str]) -> np.ndarray:
    """Return one int64 key per row for the combination of codes in ``fields``.

    The key is -1 where any component code is 0. Otherwise it is the
    mixed-radix number of the codes, exact and unique per combination, when
    the product of the component cardinalities is at most 2**62. Above that
    it is a 63-bit splitmix64 hash chain of the codes.

    NOTE: in the hashed case two combinations share a key with probability
    about n**2 / 2**64 for n distinct combinations, which is negligible below
    a billion rows but not zero.
    """
    fields = check_cross(table, fields, "fields")
    positions = [table.field_index(name) for name in fields]
    codes = table.codes[:, positions]
    cardinalities = [int(table.cardinalities[j]) for j in positions]
    missing = (codes == 0).any(axis=1)

    if np.prod([float(c) for c in cardinalities]) <= MAX_EXACT_KEY:
        keys = np.zeros(len(table), dtype=np.int64)
        for j, cardinality in enumerate(cardinalities):
            keys = keys * cardinality + codes[:, j]
    else:
        hashed = np.zeros(len(table), dtype=np.uint64)
        for j in range(len(fields)):
            hashed = splitmix64(hashed ^ codes[:, j].astype(np.uint64))
        keys = (hashed >> np.uint64(1)).astype(np.int64)
    keys[missing] = -1
    return keys


def build_cross_vocabulary(keys: np.ndarray, min_count: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Return (vocabulary, codes) of training ``keys`` from :func:`cross_keys`.

    The vocabulary contains the keys other than -1 seen at least
    ``min_count`` times, most frequent first, ties in order of first
    occurrence. ``codes`` is the int64 code of each row (vocabulary position
    + 1, or 0), so the training rows need no second lookup.
    """
    row_codes, uniques = pd.factorize(keys)
    counts = np.bincount(row_codes, minlength=len(uniques))
    counts[uniques == -1] = 0

    order = np.argsort(-counts, kind="stable")
    order = order[counts[order] >= min_count]
    remap = np.zeros(len(uniques), dtype=np.int64)
    remap[order] = np.arange(1, len(order) + 1)
    return uniques[order].astype(np.int64), remap[row_codes]


def lookup_cross_keys(vocabulary: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Return the code of each key: its position in ``vocabulary`` + 1, or 0 if absent."""
    if len(vocabulary) == 0:
        return np.zeros(len(keys), dtype=np.int64)
    return pd.Index(vocabulary).get_indexer(keys).astype(np.int64) + 1


def hash_cross_keys(keys: np.ndarray, n_buckets: int) -> np.ndarray:
    """Return the hashed bucket of each key in 1..n_buckets-1, and 0 for key -1."""
    buckets = splitmix64(keys.astype(np.uint64)) % np.uint64(n_buckets - 1) + np.uint64(1)
    buckets = buckets.astype(np.int64)
    buckets[keys == -1] = 0
    return buckets


def cross_codes(table: CategoricalTable, fields: Sequence[str], *, min_count: int = 1,
                n_buckets: int | None = None) -> tuple[np.ndarray, np.ndarray | None, int]:
    """Encode the cross of ``fields`` on a training table.

    Returns
    -------
    codes : ndarray of int64, shape (n_rows,)
    vocabulary : ndarray of int64 or None
        Kept keys of :func:`build_cross_vocabulary`; None when hashed.
    cardinality : int
        ``len(vocabulary) + 1``, or ``n_buckets`` when hashed.

    Other tables are encoded the same way with :func:`lookup_cross_keys` or
    :func:`hash_cross_keys` on their :func:`cross_keys`.
    """
    keys = cross_keys(table, fields)
    if n_buckets is not None:
        return hash_cross_keys(keys, n_buckets), None, n_buckets
    vocabulary, codes = build_cross_vocabulary(keys, min_count)
    return codes, vocabulary, len(vocabulary) + 1


class CrossEncoder(TransformerMixin, BaseEstimator):
    """Add one categorical field per cross of existing fields.

    Parameters
    ----------
    crosses : sequence of tuples of str, default ()
        Each cross lists at least two distinct field names of the training
        table, which the cross combines into one feature (a k-field cross
        is a single feature of order k).
    min_count : int, default 1
        With an exact vocabulary, a combination gets its own index only if
        it occurs at least ``min_count`` times in the training table. Rarer
        combinations share index 0 with unseen ones. Ignored when hashing.
    n_buckets : int or None, default None
        None gives each training combination its own index. An int hashes
        each combination (splitmix64, the same in every process) into
        1..n_buckets-1, so unseen combinations also get a bucket and
        different combinations may share one.

    Attributes
    ----------
    crosses_ : tuple of tuple of str
    cross_names_ : tuple of str
        Field name of each cross, from :func:`cross_name`.
    vocabularies_ : tuple of ndarray of int64 or None
        Kept keys of each cross; None when hashing.
    cardinalities_ : ndarray of int64, shape (n_crosses,)
    input_fields_ : dict
        Name -> cardinality of every component field at ``fit``. The
        table passed to ``transform`` must match, because the keys depend on it.

    Notes
    -----
    ``transform`` returns the input fields followed by one field per cross.
    A row with index 0 in any component gets index 0 in the cross, in both
    modes.
    """

    def __init__(self, crosses: Sequence[Sequence[str]] = (), *, min_count: int = 1,
                 n_buckets: int | None = None) -> None:
        self.crosses = crosses
        self.min_count = min_count
        self.n_buckets = n_buckets

    def fit(self, table: CategoricalTable, y: object = None) -> CrossEncoder:
        """Learn the vocabulary of each cross from the training ``table``. Returns self."""
        _check_table(table)
        min_count = check_int("min_count", self.min_count, minimum=1)
        n_buckets = None
        if self.n_buckets is not None:
            n_buckets = check_int("n_buckets", self.n_buckets, minimum=2)
        if isinstance(self.crosses, str) or not isinstance(self.crosses, Iterable):
            raise TypeError(f"crosses must be a sequence of tuples of field names, got "
                            f"{reprlib.repr(self.crosses)}.")

        crosses = tuple(check_cross(table, cross, f"crosses[{i}]")
                        for i, cross in enumerate(self.crosses))
        seen: dict[frozenset, tuple] = {}
        for cross in crosses:
            if frozenset(cross) in seen:
                raise ValueError(f"crosses lists {cross!r} and {seen[frozenset(cross)]!r}, which "
                                 f"combine the same fields; list each cross once.")
            seen[frozenset(cross)] = cross
        names = tuple(cross_name(cross) for cross in crosses)
        taken = [name for name in names if name in table.field_names]
        if taken:
            raise ValueError(f"the table already has fields named {taken}; pass the table "
                             f"without its cross fields.")

        vocabularies, cardinalities = [], []
        for cross in crosses:
            _, vocabulary, cardinality = cross_codes(table, cross, min_count=min_count,
                                                     n_buckets=n_buckets)
            vocabularies.append(vocabulary)
            cardinalities.append(cardinality)

        used = sorted({name for cross in crosses for name in cross}, key=table.field_index)
        self.crosses_ = crosses
        self.cross_names_ = names
        self.vocabularies_ = tuple(vocabularies)
        self.cardinalities_ = np.array(cardinalities, dtype=np.int64)
        self.input_fields_ = {name: int(table.cardinalities[table.field_index(name)])
                              for name in used}
        self.n_buckets_ = n_buckets
        return self

    def transform(self, table: CategoricalTable) -> CategoricalTable:
        """Return ``table`` with one field per cross appended, named ``cross_name(cross)``."""
        if not hasattr(self, "crosses_"):
            raise NotFittedError("this CrossEncoder is not fitted yet; call fit(table) first.")
        _check_table(table)
        for name, cardinality in self.input_fields_.items():
            found = int(table.cardinalities[table.field_index(name)])
            if found != cardinality:
                raise ValueError(f"field {name!r} has cardinality {found} but {cardinality} at "
                                 f"fit; encode every split with the same TableEncoder.")
        taken = [name for name in self.cross_names_ if name in table.field_names]
        if taken:
            raise ValueError(f"the table already has fields named {taken}; pass the table "
                             f"without its cross fields.")

        codes = np.zeros((len(table), len(self.crosses_)), dtype=np.int64)
        for j, cross in enumerate(self.crosses_):
            keys = cross_keys(table, cross)
            if self.n_buckets_ is None:
                codes[:, j] = lookup_cross_keys(self.vocabularies_[j], keys)
            else:
                codes[:, j] = hash_cross_keys(keys, self.n_buckets_)
        return table.append(self.cross_names_, codes, self.cardinalities_)


def _check_table(table: object) -> None:
    if not isinstance(table, CategoricalTable):
        raise TypeError(f"table must be a CategoricalTable, got {type(table).__name__}; "
                        f"encode a DataFrame with TableEncoder first.")
