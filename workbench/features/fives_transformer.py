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

from typing import Any

import numpy as np

from workbench.features.categorical_table import CategoricalTable
from workbench.features.cross_transformer import CrossSearchTransformer
from workbench.features.fives import Fives


class FivesTransformer(CrossSearchTransformer):
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
    min_count : int, default 2
        A cross value seen fewer times in ``fit`` shares index 0, as in
        :class:`~workbench.features.autocross.AutoCrossTransformer`.
    n_buckets : int or None, default None
        Passed to :class:`~workbench.features.crosses.CrossEncoder`.

    Attributes
    ----------
    crosses_, cross_names_, snapshot_, encoder_, field_names_, search_seconds_
        See :class:`~workbench.features.cross_transformer.CrossSearchTransformer`;
        ``crosses_`` are strongest first and ``snapshot_`` is a ``FivesSnapshot``.

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
                 validation_fraction: float = 0.2, min_count: int = 2,
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

    def _search(self, train: CategoricalTable, y_train: np.ndarray, valid: CategoricalTable,
                y_valid: np.ndarray) -> tuple[tuple[tuple[str, ...], ...], Any]:
        search = Fives(train, y_train, valid, y_valid, order=self.order,
                       embedding_dim=self.embedding_dim, thresholds=self.thresholds,
                       batches_per_step=self.batches_per_step, max_epochs=self.max_epochs,
                       batch_size=self.batch_size, lr=self.lr, arch_lr=self.arch_lr,
                       weight_decay=self.weight_decay, relaxation=self.relaxation,
                       max_crosses=self.max_crosses, seed=self.seed)
        while not search.done:
            search.step()
        snapshot = search.snapshot()
        return snapshot.crosses, snapshot
