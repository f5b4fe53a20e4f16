"""AutoFIS: automatic feature interaction selection as a steerable :class:`~workbench.core.Search`.

AutoFIS (Liu et al., "AutoFIS: Automatic Feature Interaction Selection in
Factorization Models for Click-Through Rate Prediction", KDD 2020) runs in two
stages over a :class:`~workbench.features.gated_models.GatedFM` or
:class:`~workbench.features.gated_models.GatedDeepFM`:

1. Search. Every field pair (and, with ``order=3``, every triple) carries a
   gate ``alpha`` on its batch-normalized output. The gates are trained with
   GRDA (:class:`~workbench.features.grda.GRDA`), whose growing L1 threshold
   sets the gates of useless interactions to exactly 0, and all other
   weights with Adam. Both optimizers step on the same loss of the same
   training batch, as in the authors' code (``tf_models.py`` in
   https://github.com/zhuchenxv/AutoFIS), so no validation data chooses the
   gates.
2. Re-train. A fresh model keeps only the interactions whose gate ended
   non-zero. Its gates start again at 0.6 and are trained with Adam
   together with the other weights, as an attention unit on the kept
   interactions (the authors' ``retrain_stage=1``). Training stops early
   when the validation AUC has not risen for ``patience`` epochs, and the
   weights of the best epoch are kept.

One :meth:`AutoFIS.step` is one epoch over the training rows. A panel can
draw the gates as a field-by-field matrix after each step, and steer the
search: end it early, force a pair in or out, set a gate, or change GRDA's
``c`` and ``mu``. Steering acts on pairs only, so the triple gates of
``order=3`` follow GRDA alone.

``search_epochs=0`` skips the search and trains the plain FM or DeepFM with
every interaction (gates fixed at 1, no batch normalization). These are the
baselines that AutoFIS is compared with.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score
from torch import nn

from workbench.core import Search, steering
from workbench.core.validation import check_choice, check_float, check_int, check_seed
from workbench.features.code_checks import (check_codes, check_field_names,
                                            check_same_field_order, unpack_table)
from workbench.features.gated_models import (
    GATE_INIT, GatedDeepFM, GatedFM, check_cardinalities, check_interaction_fields, field_pairs,
    field_triples,
)
from workbench.features.grda import GRDA, check_grda_settings
from workbench.features.sparse_lr import check_binary_labels

logger = logging.getLogger(__name__)

MODELS = ("fm", "deepfm")
PREDICTION_CHUNK = 8192      # rows scored at once when predicting


# ----- input checks -----------------------------------------------------------


def _resolve_inputs(train_codes: Any, valid_codes: Any, cardinalities: Any,
                    field_names: Any) -> tuple[Any, Any, np.ndarray, tuple[str, ...]]:
    """Unpack table inputs and return raw codes, checked cardinalities and field names."""
    train_codes, table_cardinalities, table_names = unpack_table(train_codes)
    valid_codes, _, valid_names = unpack_table(valid_codes)
    check_same_field_order(table_names if field_names is None else field_names, valid_names)
    if cardinalities is None:
        cardinalities = table_cardinalities
    if cardinalities is None:
        raise ValueError("cardinalities is missing; pass the number of codes of each field "
                         "(index 0 included), or pass tables with a cardinalities attribute.")
    cardinalities = check_cardinalities(cardinalities)
    if field_names is None:
        field_names = table_names
    return train_codes, valid_codes, cardinalities, check_field_names(
        field_names, len(cardinalities), default_prefix="x")


# ----- snapshot -----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class AutoFISSnapshot:
    """Render-ready view of an :class:`AutoFIS` search.

    Attributes
    ----------
    epoch : int
        Epochs trained so far, search and re-train together.
    stage : {"search", "retrain", "done"}
        The stage the next step runs.
    field_names : tuple of str
    pairs : tuple of (int, int)
        Every field pair ``(i, j)``, ``i < j``, in the order of ``gates``.
    gates : ndarray, shape (n_pairs,)
        Current gate alpha of each pair: the searched gates in the search
        stage, the re-trained gates afterwards, and 0 for a pair that the
        current model leaves out.
    gate_matrix : ndarray, shape (n_fields, n_fields)
        ``|gates|`` placed symmetrically by field, NaN on the diagonal.
    zero_gates : int
        Number of pairs whose gate is exactly 0.
    kept_pairs : tuple of (str, str)
        Field names of the pairs a re-train keeps. In the search stage these
        are the pairs with a non-zero gate or forced in, and not forced out.
        Afterwards they are the pairs of the re-trained model.
    search_gates : ndarray of shape (n_pairs,) or None
        The gates at the end of the search; None while it runs or when the
        search was skipped.
    triples : tuple of (int, int, int)
        Every field triple for ``order=3``, else empty.
    triple_gates : ndarray of shape (n_triples,) or None
        Current triple gates for ``order=3``, else None.
    search_triple_gates : ndarray of shape (n_triples,) or None
        The triple gates at the end of the search, for ``order=3``.
    kept_triples : tuple of (str, str, str)
    stages, train_loss, validation_auc : tuple
        Per epoch: the stage, the mean training cross-entropy of its
        batches, and the validation AUC after it.
    best_validation_auc : float or None
        Best validation AUC of the re-train stage so far.
    grda : dict
        GRDA's current ``lr``, ``c`` and ``mu``.
    diverged : dict or None
        ``{"stage", "epoch", "step", "batch"}`` where the loss became NaN or
        infinite. The search then keeps the weights from before that step,
        and the re-train those of its best epoch.
    done : bool
    reason : str or None
        Why the search ended: "max_epochs", "early_stopping", "stopped" or
        "diverged".
    """

    epoch: int
    stage: str
    field_names: tuple[str, ...]
    pairs: tuple[tuple[int, int], ...]
    gates: np.ndarray
    gate_matrix: np.ndarray
    zero_gates: int
    kept_pairs: tuple[tuple[str, str], ...]
    search_gates: np.ndarray | None
    triples: tuple[tuple[int, int, int], ...]
    triple_gates: np.ndarray | None
    search_triple_gates: np.ndarray | None
    kept_triples: tuple[tuple[str, str, str], ...]
    stages: tuple[str, ...]
    train_loss: tuple[float, ...]
    validation_auc: tuple[float, ...]
    best_validation_auc: float | None
    grda: dict[str, float]
    diverged: dict[str, Any] | None
    done: bool
    reason: str | None


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.array(array, dtype=np.float64)
    array.flags.writeable = False
    return array


# ----- the search -----------------------------------------------------------------


class AutoFIS(Search):
    """Search which field interactions a factorization model needs, then re-train with those.

    Parameters
    ----------
    train_codes, valid_codes : array-like of int, shape (n_rows, n_fields), or tables
        Categorical codes of the training and validation rows. Code 0 is a
        rare, unseen or missing value. A table (any object with ``codes``,
        ``cardinalities`` and ``field_names``, such as a ``CategoricalTable``)
        is accepted too, and then gives the defaults of ``cardinalities`` and
        ``field_names``.
    y_train, y_valid : array-like of 0/1, shape (n_rows,)
        Labels; each split needs both classes.
    cardinalities : array-like of int, shape (n_fields,)
        Codes per field, index 0 included.
    field_names : sequence of str, optional
        Default ``("x0", "x1", ...)``.
    model : {"fm", "deepfm"}, default "fm"
    order : {1, 2, 3}, default 2
        Highest interaction order. Pairs need at least 2 fields and triples
        at least 3. ``order=1`` has no interactions to select, so it skips
        the search and trains logistic regression (plus the MLP for DeepFM).
    embedding_dim : int, default 8
    hidden_units : sequence of int, default (64, 64)
        MLP widths of DeepFM.
    search_epochs : int, default 6
        Epochs of the search stage; 0 trains the plain model with every
        interaction and no search.
    retrain_epochs : int, default 10
        Maximum epochs of the re-train stage.
    patience : int, default 3
        Re-train epochs in a row without a higher validation AUC before stopping.
    batch_size : int, default 256
    lr : float, default 1e-2
        Adam's learning rate for every weight except the searched gates.
    grda_lr, grda_c, grda_mu : float, defaults 0.1, 0.1, 0.85
        GRDA's learning rate, threshold strength and threshold growth for
        the gates. The embeddings have to learn faster than the gates
        shrink, or the gates of useful pairs reach 0 before their
        embeddings carry any signal. On ``planted_interaction_data(50000)``
        split 80:20, with the other defaults, these settings zeroed every
        noise pair and kept every planted pair for each of the seeds 0-15
        (data and search seeded alike). The authors' example script
        (``tf_main_autofm.py`` in https://github.com/zhuchenxv/AutoFIS) uses
        Adam 1e-3 and GRDA 1.0, 0.005, 0.6, with batches of 2000 on Avazu.
        On the synthetic set those settings left noise gates non-zero.
        NOTE: ``g(t)`` grows with the number of batches, so ``grda_c`` needs
        tuning when the data size, batch size or ``search_epochs`` change.
    seed : int, default 0
        Sets the initial weights and the batch order.

    Attributes
    ----------
    model : GatedFM or GatedDeepFM
        The model of the current stage.
    stage : str
    retrain_pairs, retrain_triples : tuple or None
        The interactions kept for the re-train, once it started.

    Example
    -------
    >>> from workbench.features.synthetic import planted_interaction_data
    >>> codes, y, cardinalities, names = planted_interaction_data(3000, seed=0)
    >>> search = AutoFIS(codes[:2400], y[:2400], codes[2400:], y[2400:], cardinalities, names,
    ...                  search_epochs=2, retrain_epochs=1)
    >>> while not search.done:
    ...     _ = search.step()
    >>> snapshot = search.snapshot()
    >>> snapshot.stage, snapshot.gates.shape, snapshot.gate_matrix.shape
    ('done', (15,), (6, 6))
    """

    def __init__(self, train_codes: Any, y_train: Any, valid_codes: Any, y_valid: Any,
                 cardinalities: Any = None, field_names: Sequence[str] | None = None, *,
                 model: str = "fm", order: int = 2, embedding_dim: int = 8,
                 hidden_units: Sequence[int] = (64, 64), search_epochs: int = 6,
                 retrain_epochs: int = 10, patience: int = 3, batch_size: int = 256,
                 lr: float = 1e-2, grda_lr: float = 0.1, grda_c: float = 0.1,
                 grda_mu: float = 0.85, seed: int = 0) -> None:
        super().__init__()
        train_codes, valid_codes, self.cardinalities, self.field_names = _resolve_inputs(
            train_codes, valid_codes, cardinalities, field_names)
        self.n_fields = len(self.cardinalities)
        train = check_codes("train_codes", train_codes, self.cardinalities)
        valid = check_codes("valid_codes", valid_codes, self.cardinalities)
        if len(train) < 2:
            raise ValueError(f"train_codes has {len(train)} row; batch normalization needs at "
                             f"least 2 training rows.")
        self._y_train = torch.as_tensor(check_binary_labels("y_train", y_train, len(train)),
                                        dtype=torch.float32)
        self._y_valid = check_binary_labels("y_valid", y_valid, len(valid))
        self._train = torch.as_tensor(train)
        self._valid = torch.as_tensor(valid)

        self.model_name = check_choice("model", model, MODELS)
        self.order = check_int("order", order, minimum=1, maximum=3)
        check_interaction_fields(self.order, self.n_fields, None, None)
        self.embedding_dim = check_int("embedding_dim", embedding_dim, minimum=1)
        self.hidden_units = tuple(check_int("hidden_units entry", width, minimum=1)
                                  for width in hidden_units)
        self.search_epochs = check_int("search_epochs", search_epochs, minimum=0)
        self.retrain_epochs = check_int("retrain_epochs", retrain_epochs, minimum=1)
        self.patience = check_int("patience", patience, minimum=1)
        self.batch_size = check_int("batch_size", batch_size, minimum=2)
        self.lr = check_float("lr", lr, minimum=0.0, exclusive_minimum=True)
        grda_lr, grda_c, grda_mu = check_grda_settings(grda_lr, grda_c, grda_mu, prefix="grda_")
        self._grda_settings = dict(lr=grda_lr, c=grda_c, mu=grda_mu)
        seed = check_seed("seed", seed)
        self.seed = 0 if seed is None else seed
        self._shuffle = torch.Generator().manual_seed(self.seed)

        self.pairs = field_pairs(self.n_fields) if self.order >= 2 else ()
        self.triples = field_triples(self.n_fields) if self.order == 3 else ()
        self.forced_pairs: dict[tuple[int, int], bool] = {}
        self.stage = "search"
        self.retrain_pairs: tuple[tuple[int, int], ...] | None = None
        self.retrain_triples: tuple[tuple[int, int, int], ...] | None = None
        self._search_gates: np.ndarray | None = None
        self._search_triple_gates: np.ndarray | None = None
        self._stages: list[str] = []
        self._train_loss: list[float] = []
        self._validation_auc: list[float] = []
        self._stage_epochs = 0
        self.best_validation_auc: float | None = None
        self._best_state: dict[str, torch.Tensor] | None = None
        self._epochs_without_improvement = 0
        self.diverged: dict[str, Any] | None = None
        self.reason: str | None = None

        self._gate_optimizer: GRDA | None = None
        if self.search_epochs == 0 or self.order == 1:
            self._start_plain_training()
        else:
            self.model = self._build_model(self.seed, self.pairs, self.triples, searched=True)
            self._optimizer = torch.optim.Adam(self.model.weight_parameters(), lr=self.lr)
            self._gate_optimizer = GRDA(self.model.gate_parameters(), **self._grda_settings)

    # ----- models and stages ----------------------------------------------------

    def _build_model(self, seed: int, pairs: tuple, triples: tuple, *,
                     searched: bool) -> GatedFM:
        """Build the stage's model with seeded initial weights.

        ``searched`` models have batch-normalized, learned gates (search and
        re-train); the others are the plain FM or DeepFM (gates fixed at 1).
        """
        options: dict[str, Any] = dict(pairs=pairs, triples=triples, batch_norm=searched,
                                       learn_gates=searched,
                                       gate_init=GATE_INIT if searched else 1.0)
        if self.model_name == "deepfm":
            options["hidden_units"] = self.hidden_units
        model_class = GatedDeepFM if self.model_name == "deepfm" else GatedFM
        # Seed the initial weights without changing the caller's global torch generator.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return model_class(self.cardinalities, self.embedding_dim, self.order, **options)

    def _start_plain_training(self) -> None:
        """Skip the search: train the plain model with every interaction."""
        self.retrain_pairs, self.retrain_triples = self.pairs, self.triples
        self.model = self._build_model(self.seed, self.pairs, self.triples, searched=False)
        self._enter_retrain()

    def _start_retrain(self) -> None:
        """End the search and build the re-train model with the kept interactions."""
        self._search_gates = self._pair_gate_values()
        self._search_triple_gates = self._triple_gate_values()
        self.retrain_pairs = self._kept_pair_indices()
        self.retrain_triples = tuple(
            triple for triple, gate in zip(self.triples, self._search_triple_gates) if gate != 0.0)
        logger.info("AutoFIS search ended after %d epochs: keeping %d of %d pairs and %d of %d "
                    "triples", self._stage_epochs, len(self.retrain_pairs), len(self.pairs),
                    len(self.retrain_triples), len(self.triples))
        self.model = self._build_model((self.seed + 1) % 2**32, self.retrain_pairs,
                                       self.retrain_triples, searched=True)
        self._enter_retrain()

    def _enter_retrain(self) -> None:
        if self._gate_optimizer is not None:
            # Keep the steered GRDA settings for the snapshots of the later stages.
            settings = self._gate_optimizer.param_groups[0]
            self._grda_settings = {key: settings[key] for key in ("lr", "c", "mu")}
        self.stage = "retrain"
        self._stage_epochs = 0
        self._optimizer = torch.optim.Adam(self.model.parameters(), lr=self.lr)
        self._gate_optimizer = None
        self.best_validation_auc = None
        self._best_state = copy.deepcopy(self.model.state_dict())
        self._epochs_without_improvement = 0

    def _finish(self, reason: str) -> None:
        """End the search; the re-train stage returns to its best weights."""
        if self.stage == "retrain" and self._best_state is not None:
            self.model.load_state_dict(self._best_state)
        self.stage = "done"
        self.reason = reason
        self.model.eval()

    # ----- training ---------------------------------------------------------------

    def continue_hint(self) -> str:
        return ("a finished AutoFIS search does not continue; read its snapshot or "
                "predict, or build a new AutoFIS search with more search_epochs or "
                "retrain_epochs.")

    @property
    def done(self) -> bool:
        return self.stage == "done"

    def _step(self) -> dict[str, Any]:
        stage = self.stage
        # The search keeps no best weights, so a step that diverges returns to its start.
        start_state = copy.deepcopy(self.model.state_dict()) if stage == "search" else None
        loss = self._train_epoch()
        if loss is None:                     # the loss became NaN or infinite
            self.model.load_state_dict(start_state if stage == "search" else self._best_state)
            self._finish("diverged")
            return {"stage": stage, "diverged": dict(self.diverged)}

        auc = self._validation_scores()
        self._stages.append(stage)
        self._train_loss.append(loss)
        self._validation_auc.append(auc)
        self._stage_epochs += 1
        event = {"epoch": len(self._stages), "stage": stage, "train_loss": loss,
                 "validation_auc": auc, "zero_gates": int(np.sum(self._pair_gate_values() == 0))}

        if stage == "search":
            if self._stage_epochs >= self.search_epochs:
                self._start_retrain()
            return event

        improved = self.best_validation_auc is None or auc > self.best_validation_auc
        if not math.isnan(auc) and improved:
            self.best_validation_auc = auc
            self._best_state = copy.deepcopy(self.model.state_dict())
            self._epochs_without_improvement = 0
        else:
            self._epochs_without_improvement += 1
        if self._stage_epochs >= self.retrain_epochs:
            self._finish("max_epochs")
        elif self._epochs_without_improvement >= self.patience:
            self._finish("early_stopping")
        return event

    def _train_epoch(self) -> float | None:
        """Train one epoch; return the mean batch loss, or None if the loss stopped being finite."""
        self.model.train()
        losses = []
        for batch, rows in enumerate(self._batches(), start=1):
            logits = self.model(self._train[rows])
            loss = nn.functional.binary_cross_entropy_with_logits(logits, self._y_train[rows])
            if not torch.isfinite(loss):
                self.diverged = {"stage": self.stage, "epoch": len(self._stages) + 1,
                                 "step": self.n_steps + 1, "batch": batch}
                logger.warning("AutoFIS loss is %s in the %s stage at step %d, batch %d; "
                               "keeping the last good weights", float(loss.detach()), self.stage,
                               self.n_steps + 1, batch)
                return None
            self._optimizer.zero_grad()
            if self._gate_optimizer is not None:
                self._gate_optimizer.zero_grad()
            loss.backward()
            self._optimizer.step()
            if self._gate_optimizer is not None:
                self._gate_optimizer.step()
            losses.append(float(loss.detach()))
        return float(np.mean(losses))

    def _batches(self) -> list[torch.Tensor]:
        """Return a shuffled epoch's row indices in batches of ``batch_size``.

        A last batch of 1 row joins the one before, because batch
        normalization cannot normalize over a single row in training.
        """
        order = torch.randperm(len(self._train), generator=self._shuffle)
        batches = list(torch.split(order, self.batch_size))
        if len(batches) > 1 and len(batches[-1]) < 2:
            last = batches.pop()
            batches[-1] = torch.cat([batches[-1], last])
        return batches

    def _logits(self, codes: torch.Tensor) -> torch.Tensor:
        """Return the logits of ``codes`` in evaluation mode, shape (n_rows,)."""
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.no_grad():
                parts = [self.model(codes[start:start + PREDICTION_CHUNK])
                         for start in range(0, len(codes), PREDICTION_CHUNK)]
        finally:
            self.model.train(was_training)
        return torch.cat(parts)

    def _validation_scores(self) -> float:
        """Return the validation AUC, or NaN when a logit is not finite."""
        logits = self._logits(self._valid)
        if not bool(torch.isfinite(logits).all()):
            return float("nan")
        return float(roc_auc_score(self._y_valid, logits.numpy()))

    def predict_proba(self, codes: Any) -> np.ndarray:
        """Return class probabilities of shape (n_rows, 2) from the final model, once done.

        ``codes`` is an array of shape (n_rows, n_fields) or a table, checked
        against the training cardinalities.
        """
        if not self.done:
            raise RuntimeError(f"AutoFIS is in the {self.stage!r} stage; step it until done "
                               f"(or call stop()) before predicting.")
        codes, _, _ = unpack_table(codes)
        array = check_codes("codes", codes, self.cardinalities)
        positive = torch.sigmoid(self._logits(torch.as_tensor(array))).numpy().astype(np.float64)
        return np.column_stack([1.0 - positive, positive])

    # ----- gates and snapshots ------------------------------------------------------

    def _gate_values(self, gates: Any, model_groups: tuple, all_groups: tuple) -> np.ndarray:
        """Map the current model's gate values onto ``all_groups``; absent groups get 0."""
        values = np.zeros(len(all_groups))
        if gates is None:
            return values
        current = (gates.gates * gates.mask).detach().numpy()
        position = {group: index for index, group in enumerate(all_groups)}
        for group, value in zip(model_groups, current):
            values[position[group]] = value
        return values

    def _pair_gate_values(self) -> np.ndarray:
        return self._gate_values(self.model.pair_gates, self.model.pairs, self.pairs)

    def _triple_gate_values(self) -> np.ndarray:
        return self._gate_values(self.model.triple_gates, self.model.triples, self.triples)

    def _kept_pair_indices(self) -> tuple[tuple[int, int], ...]:
        """Return the pairs a re-train keeps: non-zero or forced-in, and not forced out."""
        if self.stage != "search":
            return tuple(self.retrain_pairs or ())
        gates = self._pair_gate_values()
        return tuple(pair for pair, gate in zip(self.pairs, gates)
                     if self.forced_pairs.get(pair, gate != 0.0))

    def _gate_matrix(self, gates: np.ndarray) -> np.ndarray:
        matrix = np.zeros((self.n_fields, self.n_fields))
        for (first, second), gate in zip(self.pairs, gates):
            matrix[first, second] = matrix[second, first] = abs(gate)
        np.fill_diagonal(matrix, np.nan)
        return matrix

    def snapshot(self) -> AutoFISSnapshot:
        gates = self._pair_gate_values()
        triple_values = self._triple_gate_values()
        if self.stage == "search":
            kept_triples = tuple(triple for triple, gate in zip(self.triples, triple_values)
                                 if gate != 0.0)
        else:
            kept_triples = tuple(self.retrain_triples or ())
        names = self.field_names
        grda_settings = (dict(self._gate_optimizer.param_groups[0]) if self._gate_optimizer
                         else dict(self._grda_settings))
        return AutoFISSnapshot(
            epoch=len(self._stages), stage=self.stage, field_names=names, pairs=self.pairs,
            gates=_frozen(gates), gate_matrix=_frozen(self._gate_matrix(gates)),
            zero_gates=int(np.sum(gates == 0.0)),
            kept_pairs=tuple((names[i], names[j]) for i, j in self._kept_pair_indices()),
            search_gates=None if self._search_gates is None else _frozen(self._search_gates),
            triples=self.triples,
            triple_gates=_frozen(triple_values) if self.triples else None,
            search_triple_gates=(_frozen(self._search_triple_gates)
                                 if self.triples and self._search_triple_gates is not None
                                 else None),
            kept_triples=tuple(tuple(names[field] for field in triple)
                               for triple in kept_triples),
            stages=tuple(self._stages), train_loss=tuple(self._train_loss),
            validation_auc=tuple(self._validation_auc),
            best_validation_auc=self.best_validation_auc,
            grda={key: float(grda_settings[key]) for key in ("lr", "c", "mu")},
            diverged=None if self.diverged is None else dict(self.diverged),
            done=self.done, reason=self.reason)

    # ----- steering -----------------------------------------------------------------

    def _field_index(self, field: str | int) -> int:
        if isinstance(field, str):
            if field not in self.field_names:
                raise ValueError(f"field {field!r} is not one of {list(self.field_names)}; pass "
                                 f"one of those names or a field index.")
            return self.field_names.index(field)
        return check_int("field", field, minimum=0, maximum=self.n_fields - 1)

    def _pair(self, first: str | int, second: str | int) -> tuple[int, int]:
        pair = (self._field_index(first), self._field_index(second))
        if pair[0] == pair[1]:
            raise ValueError(f"a pair needs two different fields, got {first!r} and {second!r}.")
        return (min(pair), max(pair))

    def _require_search(self, action: str) -> None:
        if self.stage != "search":
            raise ValueError(f"{action} changes the search, but the search is in the "
                             f"{self.stage!r} stage; call it before the search ends.")

    @steering
    def stop(self) -> None:
        """End now; in the re-train stage the best weights so far are kept."""
        if not self.done:
            self._finish("stopped")

    @steering
    def start_retrain(self) -> None:
        """End the search now and build the re-train model from the current gates."""
        self._require_search("start_retrain")
        self._start_retrain()

    @steering
    def force_pair(self, first: str | int, second: str | int, keep: bool) -> None:
        """Force the pair of fields into the re-train (``keep=True``) or out of the model.

        ``keep=False`` sets the pair's gate to exactly 0 and masks the pair
        out for the rest of the search. ``keep=True`` keeps the pair for the
        re-train whatever its gate; a pair that was forced out takes part in
        the search again from gate 0.
        """
        self._require_search("force_pair")
        if not isinstance(keep, bool):
            raise TypeError(f"keep must be True or False, got {keep!r}.")
        pair = self._pair(first, second)
        index = self.pairs.index(pair)
        gates = self.model.pair_gates
        self.forced_pairs[pair] = keep
        gates.mask[index] = 1.0 if keep else 0.0
        if not keep:
            self._gate_optimizer.assign(gates.gates, index, 0.0)

    @steering
    def set_gate(self, first: str | int, second: str | int, value: float) -> None:
        """Set the search gate of a pair; GRDA continues from that value at the next step."""
        self._require_search("set_gate")
        pair = self._pair(first, second)
        if self.forced_pairs.get(pair) is False:
            raise ValueError(f"pair {pair} is forced out; call force_pair(..., keep=True) "
                             f"before setting its gate.")
        value = check_float("value", value)
        self._gate_optimizer.assign(self.model.pair_gates.gates, self.pairs.index(pair), value)

    @steering
    def set_grda(self, c: float | None = None, mu: float | None = None,
                 lr: float | None = None) -> None:
        """Change GRDA's threshold strength ``c``, growth ``mu`` or learning rate ``lr``.

        The new settings apply from the next step; the threshold moves on
        from its current value.
        """
        self._require_search("set_grda")
        self._gate_optimizer.set_settings(lr=lr, c=c, mu=mu)


# ----- scikit-learn estimator --------------------------------------------------------


class AutoFISClassifier(ClassifierMixin, BaseEstimator):
    """AutoFIS as a scikit-learn classifier over categorical codes.

    ``fit`` runs an :class:`AutoFIS` search to the end; ``search_epochs=0``
    gives the plain FM or DeepFM. Parameters are those of :class:`AutoFIS`,
    plus ``validation_fraction``: the share of the training rows held out,
    stratified, for early stopping when ``fit`` gets no ``valid`` split.

    Attributes
    ----------
    search_ : AutoFIS
        The finished search, with its snapshot and steering log.
    cardinalities_ : ndarray of int64
    classes_ : ndarray, [0, 1]
    n_features_in_ : int

    Example
    -------
    >>> from workbench.features.synthetic import planted_interaction_data
    >>> codes, y, cardinalities, _ = planted_interaction_data(2000, seed=0)
    >>> classifier = AutoFISClassifier(search_epochs=1, retrain_epochs=1)
    >>> classifier.fit(codes, y, cardinalities=cardinalities).predict_proba(codes[:3]).shape
    (3, 2)
    """

    def __init__(self, model: str = "fm", order: int = 2, embedding_dim: int = 8,
                 hidden_units: Sequence[int] = (64, 64), search_epochs: int = 6,
                 retrain_epochs: int = 10, patience: int = 3, batch_size: int = 256,
                 lr: float = 1e-2, grda_lr: float = 0.1, grda_c: float = 0.1,
                 grda_mu: float = 0.85, validation_fraction: float = 0.1, seed: int = 0) -> None:
        self.model = model
        self.order = order
        self.embedding_dim = embedding_dim
        self.hidden_units = hidden_units
        self.search_epochs = search_epochs
        self.retrain_epochs = retrain_epochs
        self.patience = patience
        self.batch_size = batch_size
        self.lr = lr
        self.grda_lr = grda_lr
        self.grda_c = grda_c
        self.grda_mu = grda_mu
        self.validation_fraction = validation_fraction
        self.seed = seed

    def fit(self, codes: Any, y: Any, *, cardinalities: Any = None,
            field_names: Sequence[str] | None = None,
            valid: tuple[Any, Any] | None = None) -> AutoFISClassifier:
        """Run the search and re-train on ``codes`` and ``y``.

        ``cardinalities`` defaults to the table's, else to one more than the
        largest training code of each field. ``valid`` is a
        ``(valid_codes, y_valid)`` pair; without it a stratified
        ``validation_fraction`` of the rows is held out.
        """
        codes, table_cardinalities, table_names = unpack_table(codes)
        array = np.asarray(codes)
        if cardinalities is None:
            cardinalities = table_cardinalities
        if cardinalities is None:
            cardinalities = check_codes("codes", array).max(axis=0) + 1
        field_names = table_names if field_names is None else field_names
        if valid is None:
            fraction = check_float("validation_fraction", self.validation_fraction,
                                   minimum=0.0, exclusive_minimum=True, maximum=0.5)
            labels = check_binary_labels("y", y, len(array))
            train_rows, valid_rows = _stratified_split(labels, fraction, self.seed)
            train_codes, y_train = array[train_rows], labels[train_rows]
            valid_codes, y_valid = array[valid_rows], labels[valid_rows]
        else:
            if not isinstance(valid, tuple) or len(valid) != 2:
                length = f" of {len(valid)} items" if isinstance(valid, tuple) else ""
                raise TypeError(f"valid must be a (valid_codes, y_valid) tuple, got "
                                f"{type(valid).__name__}{length}.")
            train_codes, y_train = array, y
            valid_codes, _, valid_names = unpack_table(valid[0])
            y_valid = valid[1]
            check_same_field_order(field_names, valid_names)

        search = AutoFIS(
            train_codes, y_train, valid_codes, y_valid, cardinalities, field_names,
            model=self.model, order=self.order, embedding_dim=self.embedding_dim,
            hidden_units=self.hidden_units, search_epochs=self.search_epochs,
            retrain_epochs=self.retrain_epochs, patience=self.patience,
            batch_size=self.batch_size, lr=self.lr, grda_lr=self.grda_lr, grda_c=self.grda_c,
            grda_mu=self.grda_mu, seed=self.seed)
        while not search.done:
            search.step()
        self.search_ = search
        self.cardinalities_ = search.cardinalities
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = search.n_fields
        return self

    def predict_proba(self, codes: Any) -> np.ndarray:
        """Return class probabilities of shape (n_rows, 2)."""
        if not hasattr(self, "search_"):
            raise NotFittedError("AutoFISClassifier is not fitted yet; call fit first.")
        return self.search_.predict_proba(codes)

    def predict(self, codes: Any) -> np.ndarray:
        """Return 0/1 predictions, 1 where the click probability is above 0.5."""
        return (self.predict_proba(codes)[:, 1] > 0.5).astype(np.int64)


def _stratified_split(labels: np.ndarray, fraction: float,
                      seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (train_rows, valid_rows) with ``fraction`` of each class (at least 1) held out."""
    rng = np.random.default_rng(seed)
    train_rows, valid_rows = [], []
    for label in (0, 1):
        rows = rng.permutation(np.flatnonzero(labels == label))
        if len(rows) < 2:
            raise ValueError(f"y has {len(rows)} row of class {label}; a validation split needs "
                             f"at least 2 rows of each class, or pass valid=(codes, y).")
        n_valid = max(1, int(round(fraction * len(rows))))
        valid_rows.append(rows[:n_valid])
        train_rows.append(rows[n_valid:])
    return np.sort(np.concatenate(train_rows)), np.sort(np.concatenate(valid_rows))
