"""Training a click-through-rate model as a steerable :class:`~workbench.core.Search`.

One step of :class:`CTRTraining` trains ``batches_per_step`` mini-batches
(continuing across epoch boundaries) and then scores the validation split,
so a panel can draw the loss and AUC curves and the attention maps as they
change. The weights with the best validation AUC are kept. Training stops
after ``max_epochs`` epochs, after ``patience`` evaluations without a
better AUC, on request, or when the loss stops being finite.

Steering measures ablations without changing any weight: the validation AUC
with one field removed, or with one field pair blocked from interacting,
against the AUC of the intact model.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import math
from typing import Any

import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from torch import nn

from workbench.core import Search, steering
from workbench.core.validation import check_float, check_int, check_seed
from workbench.features.classifier import build_ctr_model
from workbench.features.ctr_data import CTRData
from workbench.features.embedding import to_tensors

logger = logging.getLogger(__name__)

ATTENTION_MODELS = ("autoint", "autoint+", "fignn")


@dataclasses.dataclass(frozen=True)
class Ablation:
    """The validation AUC of the trained model with a field removed or a pair blocked."""

    kind: str                   # "field" or "pair"
    fields: tuple[str, ...]
    step: int
    val_auc: float
    baseline_auc: float

    @property
    def change(self) -> float:
        """AUC with the ablation minus AUC without it (negative: the model relies on it)."""
        return self.val_auc - self.baseline_auc


@dataclasses.dataclass(frozen=True)
class CTRSnapshot:
    """Render-ready view of a :class:`CTRTraining`.

    Attributes
    ----------
    model : str
    field_names : list of str
        Labels of every field axis.
    step, epoch : int
        Steps done, and the epoch the next batch belongs to (from 1).
    history : tuple of dict
        Per step: ``step``, ``epoch``, ``batches``, ``loss`` (mean training
        cross-entropy of the step's batches), ``val_auc``, ``val_logloss``.
    best_step : int
        Step whose weights are kept (0: the initial weights).
    best_val_auc : float
    attention : dict or None
        Mean maps over the attention rows: AutoInt ``"weights"`` of shape
        (layers, heads, fields, fields); Fi-GNN ``"edge_weights"`` (fields,
        fields) and ``"node_weights"`` (fields,). None for LR and FM.
    row : dict or None
        The selected validation row: its ``index``, ``label``,
        ``probability`` and the same maps for that row alone.
    ablations : tuple of Ablation
    test : dict or None
        ``auc`` and ``logloss`` on the test split with the kept weights, once done.
    diverged : dict or None
        ``{"step", "batch"}`` where the loss became NaN or infinite.
    stop_reason : str or None
    """

    model: str
    field_names: list[str]
    step: int
    epoch: int
    history: tuple[dict[str, float], ...]
    best_step: int
    best_val_auc: float
    attention: dict[str, np.ndarray] | None
    row: dict[str, Any] | None
    ablations: tuple[Ablation, ...]
    test: dict[str, float] | None
    diverged: dict[str, int] | None
    stop_reason: str | None


class CTRTraining(Search):
    """Train LR, FM, AutoInt, AutoInt+ or Fi-GNN on a :class:`CTRData` step by step.

    Parameters
    ----------
    data : CTRData
        The train, validation and test splits with their field columns.
    model : {"lr", "fm", "autoint", "autoint+", "fignn"}, default "autoint"
    embedding_dim : int, default 16
    batches_per_step : int, default 50
        Mini-batches trained per step; the validation split is scored after each step.
    max_epochs : int, default 10
    batch_size : int, default 256
    learning_rate : float, default 1e-3
        Adam's learning rate.
    weight_decay : float, default 0.0
    patience : int, default 5
        Steps in a row without a better validation AUC before training stops.
    attention_rows : int, default 512
        Validation rows whose attention maps are averaged for the snapshot.
    min_count : int, default 1
        Categories seen fewer times in training map to the out-of-vocabulary index.
    seed : int, default 0
    **model_params
        Passed to the model, for example ``num_layers=2``.
    """

    def __init__(self, data: CTRData, model: str = "autoint", *, embedding_dim: int = 16,
                 batches_per_step: int = 50, max_epochs: int = 10, batch_size: int = 256,
                 learning_rate: float = 1e-3, weight_decay: float = 0.0, patience: int = 5,
                 attention_rows: int = 512, min_count: int = 1, seed: int = 0,
                 **model_params: Any) -> None:
        super().__init__()
        if not isinstance(data, CTRData):
            raise TypeError(f"data must be a CTRData, got {type(data).__name__}; load one with "
                            f"load_movielens_ctr or load_criteo_ctr.")
        self.data = data
        self.batches_per_step = check_int("batches_per_step", batches_per_step, minimum=1)
        self.max_epochs = check_int("max_epochs", max_epochs, minimum=1)
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.patience = check_int("patience", patience, minimum=1)
        attention_rows = check_int("attention_rows", attention_rows, minimum=1)
        seed = check_seed("seed", seed)
        self.seed = 0 if seed is None else seed

        self.encoder = data.field_encoder(min_count=min_count)
        train = self.encoder.fit_transform(data.train)
        self.field_names = [field.name for field in self.encoder.fields_]
        self._train = to_tensors(train)
        self._validation = to_tensors(self.encoder.transform(data.validation))
        self._test = to_tensors(self.encoder.transform(data.test))
        self._y_train = torch.as_tensor(data.y_train, dtype=torch.float32)
        self._y_validation = np.asarray(data.y_validation)
        self._n_train = len(train)
        self._attention_index = np.arange(min(attention_rows, len(self._y_validation)))

        self.model_name = model
        # Seed the initial weights without changing the caller's global torch generator.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            self.model = build_ctr_model(model, self.encoder.fields_, embedding_dim,
                                         **model_params)
        self.optimizer = torch.optim.Adam(
            self.model.parameters(),
            lr=check_float("learning_rate", learning_rate, minimum=0.0, exclusive_minimum=True),
            weight_decay=check_float("weight_decay", weight_decay, minimum=0.0))
        self._shuffle = torch.Generator().manual_seed(self.seed)
        self._order = torch.randperm(self._n_train, generator=self._shuffle)
        self._position = 0
        self.epoch = 1

        self.history: list[dict[str, float]] = []
        self.ablations: list[Ablation] = []
        self.best_step, self.best_val_auc = 0, -math.inf
        self._best_state = copy.deepcopy(self.model.state_dict())
        self._steps_without_improvement = 0
        self.diverged: dict[str, int] | None = None
        self.stop_reason: str | None = None
        self.selected_row: int | None = None
        self._test_metrics: dict[str, float] | None = None
        self._attention = self._attention_maps()

    # ----- training -------------------------------------------------------

    @property
    def done(self) -> bool:
        return self.stop_reason is not None

    def _step(self) -> dict[str, Any]:
        self.model.train()
        losses = []
        for batch in range(1, self.batches_per_step + 1):
            rows = self._next_rows()
            logits = self.model({name: tensor[rows] for name, tensor in self._train.items()})
            loss = nn.functional.binary_cross_entropy_with_logits(logits, self._y_train[rows])
            if not torch.isfinite(loss):
                self.diverged = {"step": self.n_steps + 1, "batch": batch}
                logger.warning("training diverged at step %d, batch %d; keeping the weights "
                               "of step %d", self.n_steps + 1, batch, self.best_step)
                self._finish("diverged")
                return {"diverged": self.diverged}
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            losses.append(float(loss.detach()))
            if self.epoch > self.max_epochs:
                break

        auc, logloss = self._validation_scores()
        record = {"step": self.n_steps + 1, "epoch": min(self.epoch, self.max_epochs),
                  "batches": len(losses), "loss": float(np.mean(losses)), "val_auc": auc,
                  "val_logloss": logloss}
        self.history.append(record)
        if auc > self.best_val_auc:
            self.best_step, self.best_val_auc = record["step"], auc
            self._best_state = copy.deepcopy(self.model.state_dict())
            self._steps_without_improvement = 0
        else:
            self._steps_without_improvement += 1
        self._attention = self._attention_maps()
        if self.epoch > self.max_epochs:
            self._finish("max_epochs")
        elif self._steps_without_improvement >= self.patience:
            self._finish("early_stopping")
        return dict(record)

    def _next_rows(self) -> torch.Tensor:
        """Return the next mini-batch's row indices; a new epoch reshuffles."""
        rows = self._order[self._position:self._position + self.batch_size]
        self._position += self.batch_size
        if self._position >= self._n_train:
            self._order = torch.randperm(self._n_train, generator=self._shuffle)
            self._position = 0
            self.epoch += 1
        return rows

    def _validation_scores(self, field_mask=None) -> tuple[float, float]:
        logits = self._logits(self._validation, field_mask)
        if not bool(torch.isfinite(logits).all()):
            return float("nan"), float("nan")
        labels = torch.as_tensor(self._y_validation, dtype=torch.float32)
        auc = float(roc_auc_score(self._y_validation, logits.numpy()))
        logloss = float(nn.functional.binary_cross_entropy_with_logits(logits, labels))
        return auc, logloss

    def _logits(self, tensors: dict[str, torch.Tensor], field_mask=None,
                chunk: int = 4096) -> torch.Tensor:
        """Return the logits of all rows of ``tensors`` in evaluation mode, shape (n,)."""
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.no_grad():
                n_rows = tensors["categorical"].shape[0]
                parts = [self.model({name: tensor[start:start + chunk]
                                     for name, tensor in tensors.items()}, field_mask)
                         for start in range(0, n_rows, chunk)]
        finally:
            self.model.train(was_training)
        return torch.cat(parts) if parts else torch.zeros(0)

    def _finish(self, reason: str) -> None:
        """Stop, return to the best weights and score the test split."""
        self.stop_reason = reason
        self.model.load_state_dict(self._best_state)
        self.model.eval()
        logits = self._logits(self._test)
        labels = np.asarray(self.data.y_test)
        if bool(torch.isfinite(logits).all()) and len(np.unique(labels)) == 2:
            self._test_metrics = {
                "auc": float(roc_auc_score(labels, logits.numpy())),
                "logloss": float(nn.functional.binary_cross_entropy_with_logits(
                    logits, torch.as_tensor(labels, dtype=torch.float32)))}
        self._attention = self._attention_maps()

    # ----- inspection -----------------------------------------------------

    def _attention_maps(self, rows: np.ndarray | None = None) -> dict[str, np.ndarray] | None:
        if self.model_name not in ATTENTION_MODELS:
            return None
        index = self._attention_index if rows is None else rows
        batch = {name: tensor[index] for name, tensor in self._validation.items()}
        maps = self.model.attention_maps(batch)
        if self.model_name == "fignn":
            return {"edge_weights": maps["edge_mean"], "node_weights": maps["node_mean"]}
        return {"weights": maps["mean"]}

    def _row_view(self) -> dict[str, Any] | None:
        if self.selected_row is None:
            return None
        index = np.array([self.selected_row])
        batch = {name: tensor[index] for name, tensor in self._validation.items()}
        probability = float(torch.sigmoid(self._logits(batch))[0])
        return {"index": self.selected_row, "label": int(self._y_validation[self.selected_row]),
                "probability": probability, "attention": self._attention_maps(index)}

    def snapshot(self) -> CTRSnapshot:
        return CTRSnapshot(
            model=self.model_name, field_names=list(self.field_names), step=self.n_steps,
            epoch=min(self.epoch, self.max_epochs), history=tuple(dict(r) for r in self.history),
            best_step=self.best_step, best_val_auc=self.best_val_auc, attention=self._attention,
            row=self._row_view(), ablations=tuple(self.ablations), test=self._test_metrics,
            diverged=self.diverged, stop_reason=self.stop_reason)

    # ----- steering -------------------------------------------------------

    def _field_index(self, name: str) -> int:
        if name not in self.field_names:
            raise ValueError(f"field {name!r} is not one of the model's fields "
                             f"{self.field_names}; pass one of those names.")
        return self.field_names.index(name)

    @steering
    def ablate_field(self, field: str) -> Ablation:
        """Measure the validation AUC with ``field`` removed; the weights stay as they are."""
        index = self._field_index(field)
        if len(self.field_names) == 1:
            raise ValueError(f"field {field!r} is the only field; removing it leaves nothing "
                             f"to predict from.")
        mask = torch.ones(len(self.field_names), dtype=torch.bool)
        mask[index] = False
        baseline, _ = self._validation_scores()
        auc, _ = self._validation_scores(mask)
        ablation = Ablation("field", (field,), self.n_steps, auc, baseline)
        self.ablations.append(ablation)
        return ablation

    @steering
    def ablate_pair(self, first: str, second: str) -> Ablation:
        """Measure the validation AUC with the pair blocked from interacting; weights unchanged."""
        if not hasattr(self.model, "block_pairs"):
            raise ValueError(f"model {self.model_name!r} has no pairwise interactions to block; "
                             f"ablate a single field instead.")
        pair = (self._field_index(first), self._field_index(second))
        if pair[0] == pair[1]:
            raise ValueError(f"a pair needs two different fields, got {first!r} twice.")
        baseline, _ = self._validation_scores()
        self.model.block_pairs([pair])
        try:
            auc, _ = self._validation_scores()
        finally:
            self.model.clear_blocked_pairs()
        ablation = Ablation("pair", (first, second), self.n_steps, auc, baseline)
        self.ablations.append(ablation)
        return ablation

    @steering
    def select_row(self, row: int | None) -> None:
        """Show the attention maps of validation row ``row`` (None: only the mean maps)."""
        if row is not None:
            row = check_int("row", row, minimum=0, maximum=len(self._y_validation) - 1)
        self.selected_row = row

    @steering
    def stop_early(self) -> None:
        """Stop training now and keep the best weights so far."""
        if not self.done:
            self._finish("stopped")
