"""A scikit-learn transformer that adds the crosses found by FIVES to a categorical table.

Xie et al., "FIVES: Feature Interaction Via Edge Search for Large-Scale
Tabular Data", KDD 2021, evaluate the derived interactive features by adding
them to a lightweight model such as logistic regression. :class:`FivesTransformer`
runs the :class:`~workbench.features.fives.Fives` search in ``fit`` and
appends one field per derived cross in ``transform``.

Example
-------
>>> transformer = FivesTransformer(order=2, max_crosses=10)  # doctest: +SKIP
>>> crossed = transformer.fit(train, y_train, valid=(valid, y_valid)).transform(test)
>>> crossed.field_names[train.n_fields:]                      # doctest: +SKIP
('RESOURCE x ROLE_DEPTNAME', ...)
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import train_test_split

from workbench.core.validation import check_float, check_int
from workbench.features.categorical_table import CategoricalTable
from workbench.features.crosses import CrossEncoder
from workbench.features.fives import Fives, FivesSnapshot, check_binary_labels


class FivesTransformer(TransformerMixin, BaseEstimator):
    """Search crosses with FIVES on a :class:`CategoricalTable` and append them as fields.

    Parameters
    ----------
    order, embedding_dim, thresholds, batches_per_step, max_epochs, batch_size, lr, arch_lr, \
weight_decay, relaxation, max_crosses, seed
        Passed to :class:`~workbench.features.fives.Fives`. ``max_crosses``
        caps the crosses kept, strongest first.
    validation_fraction : float, default 0.2
        Share of the training rows held out, stratified by label, to train
        the edges when ``fit`` gets no ``valid`` split.
    min_count, n_buckets
        Passed to :class:`~workbench.features.crosses.CrossEncoder`.

    Attributes
    ----------
    crosses_ : tuple of tuple of str
        The derived crosses, strongest first.
    cross_names_ : tuple of str
        Field name of each appended cross, such as ``"education x occupation x sex"``.
    snapshot_ : FivesSnapshot
        The search's final snapshot: adjacency, thresholds, curves.
    encoder_ : CrossEncoder
        Fitted on the training table.
    field_names_ : tuple of str
        Fields of the training table; ``transform`` expects the same.
    search_seconds_ : float
        Wall time of the search in ``fit``.

    Notes
    -----
    ``transform`` gives index 0 to a cross whenever a component field has
    code 0 (rare, unseen or missing). A combination that ``fit`` did not
    keep (unseen, or rarer than ``min_count``) also gets index 0, unless
    ``n_buckets`` is set, which hashes it into a bucket like any other.
    """

    def __init__(self, *, order: int = 3, embedding_dim: int = 8, thresholds: Any = None,
                 batches_per_step: int = 20, max_epochs: float = 5, batch_size: int = 512,
                 lr: float = 1e-2, arch_lr: float = 3e-2, weight_decay: float = 1e-4,
                 relaxation: str = "soft", max_crosses: int | None = None,
                 validation_fraction: float = 0.2, min_count: int = 1,
                 n_buckets: int | None = None, seed: int = 0) -> None:
        self.order = order
        self.embedding_dim = embedding_dim
        self.thresholds = thresholds
        self.batches_per_step = batches_per_step
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.arch_lr = arch_lr
        self.weight_decay = weight_decay
        self.relaxation = relaxation
        self.max_crosses = max_crosses
        self.validation_fraction = validation_fraction
        self.min_count = min_count
        self.n_buckets = n_buckets
        self.seed = seed

    def fit(self, table: CategoricalTable, y: Any,
            valid: tuple[CategoricalTable, Any] | None = None) -> FivesTransformer:
        """Run the FIVES search on ``table`` and fit the encoder of the derived crosses.

        ``valid`` is ``(table, labels)`` of the split on which the edges are
        trained. Without it, a stratified ``validation_fraction`` of
        ``table`` is held out for the edges, and the crosses are still
        encoded from all of ``table``. Returns self.
        """
        _check_table("table", table)
        labels = check_binary_labels("y", y, len(table))
        if valid is None:
            fraction = check_float("validation_fraction", self.validation_fraction,
                                   minimum=0.0, maximum=0.5, exclusive_minimum=True)
            search_rows, valid_rows = train_test_split(
                np.arange(len(table)), test_size=fraction, stratify=labels,
                random_state=check_int("seed", self.seed, minimum=0))
            search_table, search_labels = table.take(search_rows), labels[search_rows]
            valid_table, valid_labels = table.take(valid_rows), labels[valid_rows]
        else:
            if not isinstance(valid, tuple) or len(valid) != 2:
                raise TypeError(f"valid must be a tuple (table, labels), got "
                                f"{type(valid).__name__}; pass valid=(valid_table, y_valid).")
            valid_table, valid_labels = valid
            _check_table("valid[0]", valid_table)
            _check_same_fields(table, valid_table, "valid[0]")
            search_table, search_labels = table, labels

        search = Fives(search_table, search_labels, valid_table, valid_labels,
                       order=self.order, embedding_dim=self.embedding_dim,
                       thresholds=self.thresholds, batches_per_step=self.batches_per_step,
                       max_epochs=self.max_epochs, batch_size=self.batch_size, lr=self.lr,
                       arch_lr=self.arch_lr, weight_decay=self.weight_decay,
                       relaxation=self.relaxation, max_crosses=self.max_crosses,
                       seed=self.seed)
        started = time.perf_counter()
        while not search.done:
            search.step()
        self.search_seconds_ = time.perf_counter() - started

        self.snapshot_: FivesSnapshot = search.snapshot()
        self.crosses_ = self.snapshot_.crosses
        self.encoder_ = CrossEncoder(self.crosses_, min_count=self.min_count,
                                     n_buckets=self.n_buckets).fit(table)
        self.cross_names_ = self.encoder_.cross_names_
        self.field_names_ = table.field_names
        return self

    def transform(self, table: CategoricalTable) -> CategoricalTable:
        """Return ``table`` with one field per derived cross appended, named by ``cross_name``."""
        if not hasattr(self, "encoder_"):
            raise NotFittedError("this FivesTransformer is not fitted yet; call "
                                 "fit(table, y) first.")
        _check_table("table", table)
        if table.field_names != self.field_names_:
            raise ValueError(f"table has fields {table.field_names} but the transformer was "
                             f"fitted on {self.field_names_}; pass a table encoded like the "
                             f"training table.")
        return self.encoder_.transform(table)

    def fit_transform(self, table: CategoricalTable, y: Any = None,
                      valid: tuple[CategoricalTable, Any] | None = None) -> CategoricalTable:
        """Fit on ``table`` and return it with the crosses appended."""
        return self.fit(table, y, valid=valid).transform(table)


def _check_table(name: str, table: Any) -> None:
    if not isinstance(table, CategoricalTable):
        raise TypeError(f"{name} must be a CategoricalTable, got {type(table).__name__}; "
                        f"encode a DataFrame with TableEncoder first.")


def _check_same_fields(train: CategoricalTable, other: CategoricalTable, name: str) -> None:
    if other.field_names != train.field_names:
        raise ValueError(f"{name} has fields {other.field_names} but table has "
                         f"{train.field_names}; encode both with the same TableEncoder.")
    if not np.array_equal(other.cardinalities, train.cardinalities):
        raise ValueError(f"{name} has cardinalities {other.cardinalities.tolist()} but table "
                         f"has {train.cardinalities.tolist()}; encode both with the same "
                         f"TableEncoder.")
