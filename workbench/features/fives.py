"""FIVES edge search as a steerable :class:`~workbench.core.Search`, and its cross derivation.

Xie et al., "FIVES: Feature Interaction Via Edge Search for Large-Scale
Tabular Data", KDD 2021 (arXiv:2007.14573). :class:`Fives` trains the graph
network of :class:`~workbench.features.fives_model.FivesModel` in a bilevel
loop like first-order DARTS. The model parameters w take an Adam step on a
training batch, then the edge parameters H take an Adam step on a validation
batch, each with the other set fixed. After the search, the edge probabilities
A^(k) = sigmoid(H^(k)) name the crosses that a lightweight model such as
logistic regression can use (:func:`derive_crosses`).

Orders are numbered k = 1, ..., K. The edges of order k extend crosses of k
fields to crosses of k + 1 fields, so order 1 selects pairs of fields.

Steering moves the threshold of an order, forces an edge on or off (or
returns it to the search), changes the learning rate of H, or stops.

Example
-------
>>> rng = np.random.default_rng(0)
>>> codes = rng.integers(1, 5, size=(2000, 4))
>>> y = (codes[:, 0] % 2) ^ (codes[:, 1] % 2)          # a XOR b
>>> search = Fives(codes[:1400], y[:1400], codes[1400:], y[1400:], [5] * 4,
...                ["a", "b", "c", "d"], order=1, embedding_dim=4, batch_size=128)
>>> while not search.done:
...     _ = search.step()
>>> search.snapshot().crosses[0]
('a', 'b')
>>> adjacency = np.zeros((2, 3, 3))
>>> adjacency[0, 1, 0] = 0.9       # order 1: occupation receives education
>>> adjacency[1, 2, 1] = 0.8       # order 2: sex receives occupation's crosses
>>> derive_crosses(adjacency, 0.5, ["education", "occupation", "sex"])
[('education', 'occupation'), ('education', 'occupation', 'sex')]
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import reprlib
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from torch import nn

from workbench.core import Search, steering
from workbench.core.validation import check_choice, check_float, check_int, check_seed
from workbench.features.code_checks import (check_codes, check_field_names,
                                            check_same_field_order, unpack_table)
from workbench.features.discretize import shares_source
from workbench.features.fives_model import (
    FORCED_OFF,
    FORCED_ON,
    LEARNED,
    RELAXATIONS,
    FivesModel,
)
from workbench.features.sparse_lr import check_binary_labels

logger = logging.getLogger(__name__)

DEFAULT_THRESHOLD = 0.5
ARCH_BETAS = (0.5, 0.999)
"""Adam's betas for H, as DARTS uses for its architecture parameters."""

EVAL_CHUNK = 8192
"""Validation rows per forward pass when the validation AUC is computed."""


# --- derivation -----------------------------------------------------------------------------


def _check_adjacency(adjacency: Any) -> np.ndarray:
    """Return ``adjacency`` as a float64 array of shape (K, m, m) after validation."""
    if isinstance(adjacency, np.ndarray) and adjacency.ndim == 3:
        stack = adjacency
    elif isinstance(adjacency, (list, tuple)):
        if not adjacency:
            raise ValueError("adjacency is empty; pass one (m, m) matrix per order.")
        shapes = {np.shape(matrix) for matrix in adjacency}
        if len(shapes) != 1:
            raise ValueError(f"adjacency matrices have different shapes {sorted(shapes)}; "
                             f"pass K matrices of the same shape (m, m).")
        stack = np.stack([np.asarray(matrix) for matrix in adjacency])
    else:
        raise TypeError(f"adjacency must be a sequence of (m, m) arrays or an array of shape "
                        f"(K, m, m), got {reprlib.repr(adjacency)}.")
    if stack.ndim != 3 or stack.shape[1] != stack.shape[2]:
        raise ValueError(f"adjacency has shape {stack.shape}; expected (K, m, m) with square "
                         f"matrices.")
    if not (np.issubdtype(stack.dtype, np.floating) or np.issubdtype(stack.dtype, np.integer)
            or stack.dtype == bool):
        raise TypeError(f"adjacency must contain numbers, got dtype {stack.dtype}.")
    stack = stack.astype(np.float64)
    if not np.isfinite(stack).all():
        raise ValueError("adjacency contains NaN or infinite values; pass probabilities in "
                         "[0, 1].")
    if stack.size and (stack.min() < 0.0 or stack.max() > 1.0):
        raise ValueError(f"adjacency values must be probabilities in [0, 1], got values in "
                         f"[{stack.min():g}, {stack.max():g}].")
    return stack


def check_thresholds(thresholds: Any, order: int) -> tuple[float, ...]:
    """Return one threshold per order, each in [0, 1].

    None gives 0.5 to every order, and a single number applies to every order.
    """
    if thresholds is None:
        return (DEFAULT_THRESHOLD,) * order
    if isinstance(thresholds, (int, float, np.integer, np.floating)) \
            and not isinstance(thresholds, bool):
        thresholds = [thresholds] * order
    if isinstance(thresholds, np.ndarray):
        thresholds = thresholds.tolist()
    if not isinstance(thresholds, (list, tuple)):
        raise TypeError(f"thresholds must be None, a number or a sequence of {order} numbers, "
                        f"got {reprlib.repr(thresholds)}.")
    if len(thresholds) != order:
        raise ValueError(f"thresholds has {len(thresholds)} values but there are {order} "
                         f"orders; pass one threshold per order.")
    return tuple(check_float(f"thresholds[{k}]", value, minimum=0.0, maximum=1.0)
                 for k, value in enumerate(thresholds))


def derive_crosses(adjacency: Any, thresholds: Any, field_names: Sequence[str],
                   max_crosses: int | None = None) -> list[tuple[str, ...]]:
    """Derive the crosses (interactive features) that the kept edges select.

    The rule is the inductive search of Xie et al., KDD 2021: a feature of
    order k extends a useful feature of order k - 1 by one field. The
    order-0 feature of node i is its field alone. The order-k features of
    node i are the crosses of field i with each order-(k-1) feature of every
    node j whose edge A^(k)[i, j] is kept, so an order-k feature has k + 1
    fields. For example, with columns education, occupation and sex in that
    order, kept edges A^(1)[sex, occupation] and A^(2)[education, sex] give
    ``("occupation", "sex")`` and then ``("education", "occupation", "sex")``.

    An edge is kept when its probability is at least the threshold of its
    order and above 0, so a threshold of 0 keeps every edge of positive
    probability and an edge of probability 0 (forced off) is never kept. A
    cross that would repeat a field is skipped. Each cross is returned once,
    with its fields in column order.

    Parameters
    ----------
    adjacency : sequence of K arrays of shape (m, m), or an array (K, m, m)
        Edge probabilities in [0, 1]. Row i is the target node and column j
        the source node. The diagonal is ignored.
    thresholds : float or sequence of K floats in [0, 1]
    field_names : sequence of m str
    max_crosses : int or None
        Keep only this many crosses, the strongest first.

    Returns
    -------
    list of tuple of str
        Crosses of at least two fields, strongest first. The strength of a
        cross is the product of the edge probabilities along its derivation,
        its highest over all derivations. Ties go to fewer fields, then to
        column order.

    NOTE: without ``max_crosses`` the number of crosses grows like m^(K+1)
    when the thresholds keep most edges. With it, each node keeps only its
    ``max_crosses`` strongest features per order, which loses no cross of
    the returned top ``max_crosses`` because a cross is never stronger than
    the feature it extends.
    """
    stack = _check_adjacency(adjacency)
    order, n_fields = stack.shape[0], stack.shape[1]
    levels = check_thresholds(thresholds, order)
    names = check_field_names(field_names, n_fields)
    if max_crosses is not None:
        max_crosses = check_int("max_crosses", max_crosses, minimum=1)

    strengths: dict[tuple[int, ...], float] = {}
    # features[j] maps each order-(k-1) feature of node j (sorted field indices) to its strength.
    features: list[dict[tuple[int, ...], float]] = [{(j,): 1.0} for j in range(n_fields)]
    for k in range(order):
        kept = (stack[k] >= levels[k]) & (stack[k] > 0.0)
        np.fill_diagonal(kept, False)
        extended: list[dict[tuple[int, ...], float]] = [{} for _ in range(n_fields)]
        for i, j in zip(*np.nonzero(kept)):
            i, j = int(i), int(j)
            for feature, strength in features[j].items():
                if i in feature:
                    continue
                cross = tuple(sorted((*feature, i)))
                value = strength * float(stack[k, i, j])
                if value > extended[i].get(cross, -1.0):
                    extended[i][cross] = value
        if max_crosses is not None:
            extended = [dict(sorted(node.items(), key=_strongest_first)[:max_crosses])
                        for node in extended]
        for node in extended:
            for cross, value in node.items():
                if value > strengths.get(cross, -1.0):
                    strengths[cross] = value
        features = extended

    ranked = sorted(strengths.items(), key=_strongest_first)
    if max_crosses is not None:
        ranked = ranked[:max_crosses]
    return [tuple(names[index] for index in cross) for cross, _ in ranked]


def _strongest_first(item: tuple[tuple[int, ...], float]) -> tuple[float, int, tuple[int, ...]]:
    cross, strength = item
    return (-strength, len(cross), cross)


# --- input checks ---------------------------------------------------------------------------


def _check_cardinalities(cardinalities: Any, n_fields: int, splits: dict[str, np.ndarray],
                         names: tuple[str, ...]) -> np.ndarray:
    """Return int64 cardinalities, inferred as max code + 1 when None, after range checks."""
    if cardinalities is None:
        cardinalities = np.maximum.reduce([codes.max(axis=0) for codes in splits.values()]) + 1
        cardinalities = np.maximum(cardinalities, 1)
    array = np.asarray(cardinalities)
    if array.shape != (n_fields,):
        raise ValueError(f"cardinalities must have shape ({n_fields},), one per field, got "
                         f"{array.shape}.")
    if not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"cardinalities must be integers, got dtype {array.dtype}.")
    if (array < 1).any():
        field = int(np.argmin(array))
        raise ValueError(f"cardinality of field {names[field]!r} is {int(array[field])}; every "
                         f"field needs at least 1 (index 0).")
    for split, codes in splits.items():
        low, high = codes.min(axis=0), codes.max(axis=0)
        for j in np.flatnonzero((low < 0) | (high >= array)):
            value = int(low[j]) if low[j] < 0 else int(high[j])
            raise ValueError(f"{split} has code {value} in field {names[j]!r}, outside "
                             f"[0, {int(array[j]) - 1}] for its cardinality {int(array[j])}; "
                             f"map unseen values to 0 or raise the cardinality.")
    return array.astype(np.int64)


# --- the search -----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class FivesSnapshot:
    """Render-ready view of a :class:`Fives` search.

    Attributes
    ----------
    step : int
        Steps completed.
    epoch : float
        Passes over the training split so far (training rows seen / rows).
    field_names : tuple of str
        Node labels, the row and column labels of every adjacency matrix.
    adjacency : tuple of K ndarray of float64, shape (m, m)
        Edge probabilities of orders 1, ..., K, with forced edges applied
        (1 or 0) and a zero diagonal. Row i is the target node, column j the
        source node. Read-only.
    forced : tuple of K ndarray of int8, shape (m, m)
        -1 forced off, 0 learned, 1 forced on. Read-only.
    thresholds : tuple of K float
        Edge threshold of each order.
    crosses : tuple of tuple of str
        Crosses derived at the current thresholds, strongest first (see
        :func:`derive_crosses`).
    train_loss, validation_auc : tuple of float
        Per step: the mean training cross-entropy of the step's batches,
        and the AUC on the validation rows after the step.
    arch_lr : float
        Learning rate of H.
    nan : dict or None
        ``{"step", "batch", "split"}`` where a loss or gradient became NaN
        or infinite; ``split`` is "train" (step on w) or "validation" (step
        on H).
    done : bool
    reason : str or None
        "max_epochs", "stopped" or "nan" once done.
    """

    step: int
    epoch: float
    field_names: tuple[str, ...]
    adjacency: tuple[np.ndarray, ...]
    forced: tuple[np.ndarray, ...]
    thresholds: tuple[float, ...]
    crosses: tuple[tuple[str, ...], ...]
    train_loss: tuple[float, ...]
    validation_auc: tuple[float, ...]
    arch_lr: float
    nan: dict[str, Any] | None
    done: bool
    reason: str | None


class _BatchFailed(Exception):
    """A loss or gradient of one batch was NaN or infinite."""

    def __init__(self, split: str) -> None:
        super().__init__(split)
        self.split = split


class _BatchCycle:
    """Mini-batches of one split in a fresh random order each pass, with its own generator."""

    def __init__(self, codes: torch.Tensor, labels: torch.Tensor, batch_size: int,
                 seed: int) -> None:
        self.codes, self.labels, self.batch_size = codes, labels, batch_size
        self.generator = torch.Generator().manual_seed(seed)
        self.order = torch.randperm(len(labels), generator=self.generator)
        self.position = 0
        self.rows_seen = 0

    def next(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the next batch (codes (batch, m), labels (batch,))."""
        if self.position >= len(self.labels):
            self.order = torch.randperm(len(self.labels), generator=self.generator)
            self.position = 0
        rows = self.order[self.position:self.position + self.batch_size]
        self.position += self.batch_size
        self.rows_seen += len(rows)
        return self.codes[rows], self.labels[rows]


def _read_only(array: np.ndarray) -> np.ndarray:
    array = np.array(array, copy=True)
    array.flags.writeable = False
    return array


class Fives(Search):
    """Search the edges of the FIVES feature graph step by step.

    Parameters
    ----------
    train_codes, valid_codes : int array of shape (n_rows, m), or a table
        Category codes, 0 for rare, unseen or missing values. A table is any
        object with ``codes``, ``cardinalities`` and ``field_names`` (for
        example a ``CategoricalTable``), and then ``cardinalities`` and
        ``field_names`` default to its own.
    y_train, y_valid : array of shape (n_rows,)
        Binary labels 0 and 1, both classes present in each split.
    cardinalities : int array of shape (m,) or None
        Codes per field, index 0 included. None infers max code + 1.
    field_names : sequence of m str or None
        None names the fields "field_0", "field_1", ...
    order : int, default 3
        Number K of adjacency orders; the crosses have up to K + 1 fields.
    embedding_dim : int, default 8
    thresholds : float, sequence of K floats in [0, 1], or None
        Edge threshold per order for the derivation; None gives 0.5 each.
        NOTE: every edge starts at probability sigmoid(0) = 0.5, so at the
        default threshold an untrained or barely trained search keeps every
        edge. Judge the threshold by the Evaluate button or a validation score.
    batches_per_step : int, default 20
        Bilevel iterations per step. An iteration is one Adam step on w with
        a training batch, then one on H with a validation batch.
    max_epochs : float, default 5
        Passes over the training split before the search finishes.
    batch_size : int, default 512
    lr : float, default 1e-2
        Adam's learning rate for the model parameters w.
    arch_lr : float, default 3e-2
        Adam's learning rate for the edge parameters H.
    weight_decay : float, default 1e-4
        Adam's weight decay on w.
    relaxation : {"soft", "straight_through"}, default "soft"
        How edges enter the training forward pass (see
        :data:`~workbench.features.fives_model.RELAXATIONS`).
    eval_rows : int, default 20000
        Validation rows, drawn once with the seed, on which the AUC of each
        step is computed.
    max_crosses : int or None, default None
        Passed to :func:`derive_crosses` for the snapshot.
    seed : int, default 0

    A field with a single code in the training split gets every edge forced
    off, because crossing with a constant adds nothing. So do the edges
    between two granularities of one discretized column (``age@10`` and
    ``age@100``, see :func:`~workbench.features.discretize.source_column`). ``set_edge`` with
    ``state=None`` returns such an edge to the search.
    """

    def __init__(self, train_codes: Any, y_train: Any, valid_codes: Any, y_valid: Any,
                 cardinalities: Any = None, field_names: Sequence[str] | None = None, *,
                 order: int = 3, embedding_dim: int = 8, thresholds: Any = None,
                 batches_per_step: int = 20, max_epochs: float = 5, batch_size: int = 512,
                 lr: float = 1e-2, arch_lr: float = 3e-2, weight_decay: float = 1e-4,
                 relaxation: str = "soft", eval_rows: int = 20000,
                 max_crosses: int | None = None, seed: int = 0) -> None:
        super().__init__()
        train_codes, table_cardinalities, table_names = unpack_table(train_codes)
        valid_codes, _, valid_names = unpack_table(valid_codes)
        cardinalities = table_cardinalities if cardinalities is None else cardinalities
        field_names = table_names if field_names is None else field_names

        train = check_codes("train_codes", train_codes)
        valid = check_codes("valid_codes", valid_codes)
        if train.shape[1] == 1:
            raise ValueError(f"train_codes has a single field (shape {train.shape}); FIVES "
                             f"searches edges between fields, so pass at least 2.")
        if valid.shape[1] != train.shape[1]:
            raise ValueError(f"valid_codes has {valid.shape[1]} fields but train_codes has "
                             f"{train.shape[1]}; pass the same fields in the same order.")
        n_fields = train.shape[1]
        if field_names is None:
            field_names = tuple(f"field_{j}" for j in range(n_fields))
        self.field_names = check_field_names(field_names, n_fields)
        check_same_field_order(self.field_names, valid_names)
        self.cardinalities = _check_cardinalities(
            cardinalities, n_fields, {"train_codes": train, "valid_codes": valid},
            self.field_names)
        y_train = check_binary_labels("y_train", y_train, len(train)).astype(np.float32)
        y_valid = check_binary_labels("y_valid", y_valid, len(valid)).astype(np.float32)

        # A cross of order K joins K + 1 distinct fields, so K < n_fields.
        self.order = check_int("order", order, minimum=1)
        if self.order > n_fields - 1:
            raise ValueError(f"order must be <= {n_fields - 1}, got {self.order}: an order-K "
                             f"cross joins K + 1 distinct fields and the table has {n_fields}; "
                             f"lower order or add fields.")
        self.embedding_dim = check_int("embedding_dim", embedding_dim, minimum=1)
        self.thresholds = check_thresholds(thresholds, self.order)
        self.batches_per_step = check_int("batches_per_step", batches_per_step, minimum=1)
        self.max_epochs = check_float("max_epochs", max_epochs, minimum=0.0,
                                      exclusive_minimum=True)
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        lr = check_float("lr", lr, minimum=0.0, exclusive_minimum=True)
        self.arch_lr = check_float("arch_lr", arch_lr, minimum=0.0)
        weight_decay = check_float("weight_decay", weight_decay, minimum=0.0)
        self.relaxation = check_choice("relaxation", relaxation, RELAXATIONS)
        eval_rows = check_int("eval_rows", eval_rows, minimum=1)
        self.max_crosses = None if max_crosses is None else check_int(
            "max_crosses", max_crosses, minimum=1)
        seed = check_seed("seed", seed)
        self.seed = 0 if seed is None else seed

        self.n_train, self.n_valid = len(train), len(valid)
        self._train_codes = torch.from_numpy(train)
        self._train_labels = torch.from_numpy(y_train)
        self._valid_codes = torch.from_numpy(valid)
        self._valid_labels = torch.from_numpy(y_valid)
        eval_generator = np.random.default_rng(self.seed)
        self._eval_rows = torch.from_numpy(np.sort(eval_generator.permutation(
            self.n_valid)[:eval_rows]))

        # Seed the initial weights without changing the caller's global torch generator.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            self.model = FivesModel(self.cardinalities, self.order, self.embedding_dim)
        self.weight_optimizer = torch.optim.Adam(self.model.weights(), lr=lr,
                                                 weight_decay=weight_decay)
        self.arch_optimizer = torch.optim.Adam(self.model.arch_parameters(), lr=self.arch_lr,
                                               betas=ARCH_BETAS)
        self._train_batches = _BatchCycle(self._train_codes, self._train_labels,
                                          self.batch_size, self.seed)
        self._valid_batches = _BatchCycle(self._valid_codes, self._valid_labels,
                                          self.batch_size, self.seed + 1)
        self._edge_generator = torch.Generator().manual_seed(self.seed + 2)

        self.iterations = 0
        self.train_loss: list[float] = []
        self.validation_auc: list[float] = []
        self.nan: dict[str, Any] | None = None
        self.reason: str | None = None
        self._revision = 0
        self._crosses_cache: tuple[Any, tuple[tuple[str, ...], ...]] | None = None
        self._force_constant_fields(train)
        self._force_same_source_edges()

    def _force_same_source_edges(self) -> None:
        """Force off every edge between two granularities of one column (age@10, age@100)."""
        with torch.no_grad():
            for i, first in enumerate(self.field_names):
                for j, second in enumerate(self.field_names):
                    if i != j and shares_source((first, second)):
                        self.model.forced[:, i, j] = FORCED_OFF

    def _force_constant_fields(self, train: np.ndarray) -> None:
        constant = [j for j in range(train.shape[1]) if (train[:, j] == train[0, j]).all()]
        if not constant:
            return
        logger.warning("fields %s have a single code in the training split; their edges are "
                       "forced off", [self.field_names[j] for j in constant])
        with torch.no_grad():
            for j in constant:
                self.model.forced[:, j, :] = FORCED_OFF
                self.model.forced[:, :, j] = FORCED_OFF

    # ----- search ---------------------------------------------------------

    def continue_hint(self) -> str:
        return ("a finished FIVES search does not continue; read its snapshot or move "
                "the thresholds with set_threshold, or build a new Fives search with "
                "more max_epochs.")

    @property
    def done(self) -> bool:
        return self.reason is not None

    @property
    def epoch(self) -> float:
        """Training rows seen divided by the number of training rows."""
        return self._train_batches.rows_seen / self.n_train

    @property
    def _epochs_done(self) -> bool:
        return self._train_batches.rows_seen >= self.max_epochs * self.n_train

    def _step(self) -> dict[str, Any]:
        started = time.perf_counter()
        saved = self._save_state()
        train_losses, valid_losses = [], []
        for batch in range(1, self.batches_per_step + 1):
            try:
                train_losses.append(self._weight_update(self._train_batches.next()))
                valid_losses.append(self._arch_update(self._valid_batches.next()))
            except _BatchFailed as failure:
                self._restore_state(saved)
                self.nan = {"step": self.n_steps + 1, "batch": batch, "split": failure.split}
                logger.warning("FIVES loss or gradient became NaN or infinite at step %d, "
                               "batch %d (%s split); keeping H of step %d", self.n_steps + 1,
                               batch, failure.split, self.n_steps)
                self._finish("nan")
                return {"step": self.n_steps + 1, "nan": dict(self.nan)}
            self.iterations += 1
            if self._epochs_done:
                break

        auc = self._validation_auc()
        self.train_loss.append(float(np.mean(train_losses)))
        self.validation_auc.append(auc)
        self._revision += 1
        if self._epochs_done:
            self._finish("max_epochs")
        return {"step": self.n_steps + 1, "epoch": self.epoch, "iterations": self.iterations,
                "train_loss": self.train_loss[-1],
                "search_validation_loss": float(np.mean(valid_losses)),
                "validation_auc": auc, "seconds": time.perf_counter() - started}

    def _loss(self, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        codes, labels = batch
        logits = self.model(codes, self.relaxation, self._edge_generator)
        return nn.functional.binary_cross_entropy_with_logits(logits, labels)

    def _weight_update(self, batch: tuple[torch.Tensor, torch.Tensor]) -> float:
        """Take one Adam step on w with H fixed and return the training loss."""
        self.model.train()
        loss = self._loss(batch)
        if not bool(torch.isfinite(loss)):
            raise _BatchFailed("train")
        weights = self.model.weights()
        for weight, gradient in zip(weights, torch.autograd.grad(loss, weights)):
            if not bool(torch.isfinite(gradient).all()):
                raise _BatchFailed("train")
            weight.grad = gradient
        self.weight_optimizer.step()
        self.weight_optimizer.zero_grad(set_to_none=True)
        return float(loss.detach())

    def _arch_update(self, batch: tuple[torch.Tensor, torch.Tensor]) -> float:
        """Take one Adam step on H with w fixed and return the validation loss."""
        self.model.train()
        loss = self._loss(batch)
        if not bool(torch.isfinite(loss)):
            raise _BatchFailed("validation")
        (gradient,) = torch.autograd.grad(loss, self.model.arch_parameters())
        if not bool(torch.isfinite(gradient).all()):
            raise _BatchFailed("validation")
        self.model.edge_logits.grad = gradient
        self.arch_optimizer.step()
        self.arch_optimizer.zero_grad(set_to_none=True)
        return float(loss.detach())

    def _validation_auc(self) -> float:
        """Return the AUC on the fixed validation rows, or NaN if a logit is not finite."""
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.no_grad():
                logits = torch.cat([self.model(self._valid_codes[rows])
                                    for rows in torch.split(self._eval_rows, EVAL_CHUNK)])
        finally:
            self.model.train(was_training)
        if not bool(torch.isfinite(logits).all()):
            return float("nan")
        labels = self._valid_labels[self._eval_rows].numpy()
        if len(np.unique(labels)) < 2:
            # NOTE: a small eval_rows can draw a single class; the AUC is then undefined.
            return float("nan")
        return float(roc_auc_score(labels, logits.numpy()))

    def _save_state(self) -> dict[str, Any]:
        return {"model": copy.deepcopy(self.model.state_dict()),
                "weights": copy.deepcopy(self.weight_optimizer.state_dict()),
                "arch": copy.deepcopy(self.arch_optimizer.state_dict())}

    def _restore_state(self, saved: dict[str, Any]) -> None:
        self.model.load_state_dict(saved["model"])
        self.weight_optimizer.load_state_dict(saved["weights"])
        self.arch_optimizer.load_state_dict(saved["arch"])

    def _finish(self, reason: str) -> None:
        self.reason = reason
        self._revision += 1
        logger.info("FIVES finished (%s) after %d iterations, %.2f epochs", reason,
                    self.iterations, self.epoch)

    # ----- inspection -----------------------------------------------------

    def adjacency(self) -> np.ndarray:
        """Return the edge probabilities, float64 of shape (K, m, m), with forced edges applied."""
        with torch.no_grad():
            return self.model.edge_probabilities().double().numpy()

    def crosses(self) -> tuple[tuple[str, ...], ...]:
        """Return the crosses derived at the current thresholds, strongest first."""
        key = (self._revision, self.thresholds)
        if self._crosses_cache is None or self._crosses_cache[0] != key:
            derived = derive_crosses(self.adjacency(), self.thresholds, self.field_names,
                                     self.max_crosses)
            # A path through two granularities of one column (age@10 -> x -> age@100) has
            # no forced-off edge, so such crosses are dropped here.
            derived = [cross for cross in derived if not shares_source(cross)]
            self._crosses_cache = (key, tuple(derived))
        return self._crosses_cache[1]

    def snapshot(self) -> FivesSnapshot:
        adjacency = self.adjacency()
        forced = self.model.forced.numpy()
        return FivesSnapshot(
            step=self.n_steps, epoch=self.epoch, field_names=self.field_names,
            adjacency=tuple(_read_only(matrix) for matrix in adjacency),
            forced=tuple(_read_only(matrix) for matrix in forced),
            thresholds=self.thresholds, crosses=self.crosses(),
            train_loss=tuple(self.train_loss), validation_auc=tuple(self.validation_auc),
            arch_lr=self.arch_lr, nan=None if self.nan is None else dict(self.nan),
            done=self.done, reason=self.reason)

    # ----- steering -------------------------------------------------------

    def _check_order(self, order: Any) -> int:
        return check_int("order", order, minimum=1, maximum=self.order)

    def _field_position(self, argument: str, field: Any) -> int:
        if isinstance(field, str):
            if field not in self.field_names:
                raise ValueError(f"{argument} {field!r} is not a field; pass one of "
                                 f"{reprlib.repr(list(self.field_names))} or its index.")
            return self.field_names.index(field)
        return check_int(argument, field, minimum=0, maximum=len(self.field_names) - 1)

    @steering
    def set_threshold(self, order: int, value: float) -> None:
        """Set the edge threshold of ``order`` (1 to K) for the derived crosses."""
        k = self._check_order(order)
        value = check_float("value", value, minimum=0.0, maximum=1.0)
        thresholds = list(self.thresholds)
        thresholds[k - 1] = value
        self.thresholds = tuple(thresholds)

    @steering
    def set_edge(self, order: int, source: str | int, target: str | int,
                 state: bool | None) -> None:
        """Force the edge source -> target of ``order`` on (True) or off (False), or free it (None).

        ``source`` and ``target`` are field names or indices. A forced edge
        has probability 1 or 0 in the forward pass, the snapshot and the
        derivation, and its H does not move until it is freed.
        """
        k = self._check_order(order)
        j = self._field_position("source", source)
        i = self._field_position("target", target)
        if i == j:
            raise ValueError(f"source and target are both {self.field_names[i]!r}; the graph "
                             f"has no self-loops, so pass two different fields.")
        if state is not None and not isinstance(state, bool):
            raise TypeError(f"state must be True (force on), False (force off) or None "
                            f"(learned), got {state!r}.")
        if state is None:
            code = LEARNED
        elif state:
            code = FORCED_ON
        else:
            code = FORCED_OFF
        with torch.no_grad():
            self.model.forced[k - 1, i, j] = code
            # Zero Adam's moments, so that the edge's H stays where it is while forced.
            for moment in self.arch_optimizer.state.get(self.model.edge_logits, {}).values():
                if isinstance(moment, torch.Tensor) and moment.shape == \
                        self.model.edge_logits.shape:
                    moment[k - 1, i, j] = 0.0
        self._revision += 1

    @steering
    def set_arch_lr(self, value: float) -> None:
        """Set Adam's learning rate for H; 0 freezes the edges."""
        self.arch_lr = check_float("value", value, minimum=0.0)
        for group in self.arch_optimizer.param_groups:
            group["lr"] = self.arch_lr

    @steering
    def stop(self) -> None:
        """Stop the search; the edges and crosses stay as they are."""
        if not self.done:
            self._finish("stopped")
