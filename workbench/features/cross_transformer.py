"""The scikit-learn transformer base shared by the cross searches (AutoCross, FIVES).

A cross-search transformer runs its search in ``fit`` and appends one field
per chosen cross in ``transform``. :class:`CrossSearchTransformer` does the
parts that do not depend on the search: checking the tables, holding out a
validation split when none is given, fitting the
:class:`~workbench.features.crosses.CrossEncoder` and checking the fields
at ``transform``. A subclass implements only :meth:`_search`.

Both transformers take the same ``fit`` arguments::

    transformer.fit(train, y_train)                         # holds out validation_fraction
    transformer.fit(train, y_train, valid=(valid, y_valid))  # the search validates on valid
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import train_test_split

from workbench.core.validation import check_float, check_seed
from workbench.features.categorical_table import (CategoricalTable, check_same_encoding,
                                                   check_table)
from workbench.features.crosses import CrossEncoder
from workbench.features.sparse_lr import check_binary_labels


# Rows of each class needed to hold out a stratified validation split, with
# both classes on both sides.
MIN_ROWS_PER_CLASS = 2


class CrossSearchTransformer(TransformerMixin, BaseEstimator):
    """Base class: search crosses at ``fit``, append them as fields at ``transform``.

    Subclasses define ``__init__`` with their search's parameters plus
    ``validation_fraction``, ``min_count``, ``n_buckets`` and ``seed``, and
    implement :meth:`_search`.

    Attributes
    ----------
    crosses_ : tuple of tuple of str
        The chosen crosses, in the search's order.
    cross_names_ : tuple of str
        Field name of each appended cross, such as ``"education x occupation"``.
    snapshot_ : object
        The search's final snapshot.
    encoder_ : CrossEncoder
        Fitted on all rows passed to ``fit``.
    field_names_ : tuple of str
        Fields of the training table; ``transform`` expects the same.
    search_seconds_ : float
        Wall time of the search in ``fit``.
    """

    def _search(self, train: CategoricalTable, y_train: np.ndarray, valid: CategoricalTable,
                y_valid: np.ndarray) -> tuple[tuple[tuple[str, ...], ...], Any]:
        """Run the search to its end and return (crosses, final snapshot)."""
        raise NotImplementedError

    def fit(self, table: CategoricalTable, y: Any,
            valid: tuple[CategoricalTable, Any] | None = None) -> CrossSearchTransformer:
        """Run the search on ``table`` and fit the encoder of the chosen crosses.

        ``valid`` is ``(table, labels)`` of the split the search validates on.
        Without it, a stratified ``validation_fraction`` of ``table`` is held
        out for the search. The crosses are encoded from all of ``table``
        either way. Returns self.
        """
        check_table(table, "table")
        labels = check_binary_labels("y", y, len(table))
        seed = check_seed("seed", self.seed)
        if valid is None:
            fraction = check_float("validation_fraction", self.validation_fraction,
                                   minimum=0.0, maximum=0.5, exclusive_minimum=True)
            fewest = int(np.bincount(labels).min())
            if fewest < MIN_ROWS_PER_CLASS:
                raise ValueError(f"y has only {fewest} rows of its rarer class, too few to "
                                 f"hold out a stratified validation_fraction of "
                                 f"{fraction}; pass at least {MIN_ROWS_PER_CLASS} rows of "
                                 f"each class, or a split of your own with "
                                 f"valid=(valid_table, y_valid).")
            search_rows, valid_rows = train_test_split(
                np.arange(len(table)), test_size=fraction, stratify=labels,
                random_state=0 if seed is None else seed)
            train, y_train = table.take(search_rows), labels[search_rows]
            valid_table, y_valid = table.take(valid_rows), labels[valid_rows]
        else:
            if not isinstance(valid, tuple) or len(valid) != 2:
                length = f" of {len(valid)} items" if isinstance(valid, tuple) else ""
                raise TypeError(f"valid must be a tuple (table, labels), got "
                                f"{type(valid).__name__}{length}; pass "
                                f"valid=(valid_table, y_valid).")
            valid_table, y_valid = valid
            check_table(valid_table, "valid[0]")
            check_same_encoding(table, valid_table, name="valid[0]", train_name="table")
            y_valid = check_binary_labels("valid[1]", y_valid, len(valid_table))
            train, y_train = table, labels

        started = time.perf_counter()
        crosses, self.snapshot_ = self._search(train, y_train, valid_table, y_valid)
        self.search_seconds_ = time.perf_counter() - started
        self.crosses_ = tuple(tuple(cross) for cross in crosses)
        self.encoder_ = CrossEncoder(self.crosses_, min_count=self.min_count,
                                     n_buckets=self.n_buckets).fit(table)
        self.cross_names_ = self.encoder_.cross_names_
        self.field_names_ = table.field_names
        return self

    def transform(self, table: CategoricalTable) -> CategoricalTable:
        """Return ``table`` with one field per chosen cross appended, named by ``cross_name``."""
        if not hasattr(self, "encoder_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call "
                                 f"fit(table, y) first.")
        check_table(table, "table")
        if table.field_names != self.field_names_:
            raise ValueError(f"table has fields {table.field_names} but the transformer was "
                             f"fitted on {self.field_names_}; pass a table encoded like the "
                             f"training table.")
        return self.encoder_.transform(table)

    def fit_transform(self, table: CategoricalTable, y: Any = None,
                      valid: tuple[CategoricalTable, Any] | None = None) -> CategoricalTable:
        """Fit on ``table`` and return it with the crosses appended."""
        return self.fit(table, y, valid=valid).transform(table)
