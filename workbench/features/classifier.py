"""A scikit-learn style click-through-rate classifier over the field models.

:class:`CTRClassifier` encodes a DataFrame with
:class:`~workbench.features.encoding.FieldEncoder`, builds one of the models
(logistic regression, factorization machine, AutoInt, AutoInt+, Fi-GNN) and
trains it with Adam on the binary cross-entropy. Training stops early when
the validation AUC (area under the ROC curve) has not improved for
``patience`` epochs, and the model keeps the weights of its best epoch.

:func:`train_ctr_model` is the same training loop for a model and encoded
rows that the caller built.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import logging
import math
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score
from torch import nn

from workbench.core.seeding import resolve_seed
from workbench.core.validation import check_choice, check_float, check_int, check_seed
from workbench.features.autoint import AutoInt, AutoIntPlus
from workbench.features.embedding import to_tensors
from workbench.features.fields import EncodedFields, FieldSpec
from workbench.features.fignn import FiGNN
from workbench.features.linear_models import FactorizationMachine, LogisticRegressionCTR

logger = logging.getLogger(__name__)

MODEL_CLASSES: dict[str, type[nn.Module]] = {
    "lr": LogisticRegressionCTR,
    "fm": FactorizationMachine,
    "autoint": AutoInt,
    "autoint+": AutoIntPlus,
    "fignn": FiGNN,
}
ATTENTION_MODELS = ("autoint", "autoint+", "fignn")


def build_ctr_model(name: str, fields: tuple[FieldSpec, ...], embedding_dim: int = 16,
                    **model_params: Any) -> nn.Module:
    """Build the model called ``name`` (a key of ``MODEL_CLASSES``) for ``fields``.

    ``embedding_dim`` is ignored by ``"lr"``, which has one weight per
    category. ``model_params`` go to the model's constructor, and a name the
    constructor does not take raises ``TypeError`` that lists the valid names.
    """
    name = check_choice("model", name, MODEL_CLASSES)
    model_class = MODEL_CLASSES[name]
    accepted = [parameter for parameter in inspect.signature(model_class).parameters
                if parameter not in ("fields", "embedding_dim")]
    unknown = sorted(set(model_params) - set(accepted))
    if unknown:
        raise TypeError(f"model {name!r} takes no parameters {unknown}; its parameters are "
                        f"{accepted} besides embedding_dim.")
    if name == "lr":
        return model_class(fields, **model_params)
    return model_class(fields, embedding_dim=embedding_dim, **model_params)


@dataclasses.dataclass(frozen=True)
class TrainingResult:
    """Outcome of :func:`train_ctr_model`: the history, the best epoch and any divergence.

    Attributes
    ----------
    history : list of dict
        One entry per completed epoch: ``epoch`` (from 1), ``loss`` (mean
        training cross-entropy), ``val_auc`` and ``val_logloss``.
    best_epoch : int
        The epoch whose weights the model contains, or 0 for the initial weights
        when training diverged before the first epoch ended.
    diverged : dict or None
        ``{"epoch": e, "batch": b}`` (both counted from 1) where the loss or
        the validation logits became NaN or infinite, else None.
    """

    history: list[dict[str, float]]
    best_epoch: int
    diverged: dict[str, int] | None


def predict_logits(model: nn.Module, tensors: dict[str, torch.Tensor],
                   batch_size: int = 1024) -> torch.Tensor:
    """Return the model's logits for all rows, shape (n,), in evaluation mode without gradients."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            n_rows = tensors["categorical"].shape[0]
            chunks = [model(_take(tensors, slice(start, start + batch_size)))
                      for start in range(0, n_rows, batch_size)]
    finally:
        model.train(was_training)
    return torch.cat(chunks) if chunks else torch.zeros(0)


def train_ctr_model(model: nn.Module, train: EncodedFields, y_train: Any,
                    validation: EncodedFields, y_validation: Any, *, epochs: int = 10,
                    batch_size: int = 256, learning_rate: float = 1e-3,
                    weight_decay: float = 0.0, patience: int = 2,
                    seed: int = 0) -> TrainingResult:
    """Train ``model`` with Adam on the binary cross-entropy, early-stopped on validation AUC.

    After each epoch the model is scored on ``validation``. The weights of the
    epoch with the highest validation AUC are kept, and training stops after
    ``patience`` epochs in a row without a higher AUC. A NaN or infinite loss
    (or validation logit) stops training: the model returns to its best
    weights, the result records where it happened, and a warning is logged.
    ``seed`` fixes the batch order and dropout. The global torch generator is
    left as it was.

    Returns
    -------
    TrainingResult
        The history, the best epoch and the divergence point, if any. The
        model is left with the weights of the best epoch, in evaluation mode.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}.")
    for argument, encoded in (("train", train), ("validation", validation)):
        if not isinstance(encoded, EncodedFields):
            raise TypeError(f"{argument} must be an EncodedFields, got "
                            f"{type(encoded).__name__}; encode rows with FieldEncoder.transform.")
    y_train = check_binary_labels("y_train", y_train, len(train))
    y_validation = check_binary_labels("y_validation", y_validation, len(validation))
    if len(train) == 0:
        raise ValueError("train has no rows; pass at least one training row.")
    _check_both_classes("y_validation", y_validation)
    epochs = check_int("epochs", epochs, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    learning_rate = check_float("learning_rate", learning_rate, minimum=0.0,
                                exclusive_minimum=True)
    weight_decay = check_float("weight_decay", weight_decay, minimum=0.0)
    patience = check_int("patience", patience, minimum=0)
    seed = check_seed("seed", seed)
    if seed is None:
        raise TypeError("seed must be an integer in [0, 2**32 - 1], got None.")

    train_tensors = to_tensors(train)
    validation_tensors = to_tensors(validation)
    train_labels = torch.as_tensor(y_train, dtype=torch.float32)
    validation_labels = torch.as_tensor(y_validation, dtype=torch.float32)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate,
                                 weight_decay=weight_decay)

    history: list[dict[str, float]] = []
    best_state = copy.deepcopy(model.state_dict())
    best_epoch, best_auc = 0, -math.inf
    epochs_without_improvement = 0
    diverged = None

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        shuffle = torch.Generator().manual_seed(seed)

        for epoch in range(1, epochs + 1):
            model.train()
            order = torch.randperm(len(train), generator=shuffle)
            loss_sum = 0.0
            for batch, start in enumerate(range(0, len(train), batch_size), start=1):
                rows = order[start:start + batch_size]
                logits = model(_take(train_tensors, rows))
                loss = nn.functional.binary_cross_entropy_with_logits(logits, train_labels[rows])
                if not torch.isfinite(loss):
                    diverged = {"epoch": epoch, "batch": batch}
                    break
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                loss_sum += float(loss.detach()) * len(rows)
            if diverged is not None:
                break

            validation_logits = predict_logits(model, validation_tensors, max(batch_size, 1024))
            if not bool(torch.isfinite(validation_logits).all()):
                diverged = {"epoch": epoch, "batch": batch}
                break
            record = {
                "epoch": epoch,
                "loss": loss_sum / len(train),
                "val_auc": float(roc_auc_score(y_validation, validation_logits.numpy())),
                "val_logloss": float(nn.functional.binary_cross_entropy_with_logits(
                    validation_logits, validation_labels)),
            }
            history.append(record)
            logger.info("epoch %d: loss %.4f, validation AUC %.4f, validation log loss %.4f",
                        epoch, record["loss"], record["val_auc"], record["val_logloss"])

            if record["val_auc"] > best_auc:
                best_auc, best_epoch = record["val_auc"], epoch
                best_state = copy.deepcopy(model.state_dict())
                epochs_without_improvement = 0
            else:
                epochs_without_improvement += 1
                if epochs_without_improvement >= patience:
                    break

    if diverged is not None:
        logger.warning("training diverged: non-finite loss or logits at epoch %d, batch %d; "
                       "keeping the weights of epoch %d (0 = initial weights)",
                       diverged["epoch"], diverged["batch"], best_epoch)
    model.load_state_dict(best_state)
    model.eval()
    return TrainingResult(history=history, best_epoch=best_epoch, diverged=diverged)


class CTRClassifier(ClassifierMixin, BaseEstimator):
    """Click-through-rate classifier: field encoder plus LR, FM, AutoInt, AutoInt+ or Fi-GNN.

    Parameters
    ----------
    model : {"lr", "fm", "autoint", "autoint+", "fignn"}
        The model: logistic regression, factorization machine, AutoInt,
        AutoInt+ or Fi-GNN.
    embedding_dim : int
        Embedding size d (ignored by "lr").
    epochs : int
        Maximum number of passes over the training rows.
    batch_size : int
        Rows per Adam step.
    learning_rate, weight_decay : float
        Adam's step size and L2 penalty.
    patience : int
        Epochs without a higher validation AUC before training stops.
    seed : int or None
        Seeds the validation split, the initial weights, the batch order and
        dropout. None draws a seed, stored in ``seed_``.
    categorical, numeric, multi : list of column names or None
        The columns of each field kind, passed to ``FieldEncoder``. When all
        three are None, the encoder infers categorical and numeric columns
        from the dtypes.
    min_count : int
        Categories seen fewer times in training share the out-of-vocabulary index 0.
    **model_params
        Passed to the model, for example ``num_layers=2, num_heads=2`` for
        AutoInt or ``num_steps=2`` for Fi-GNN.

    Attributes
    ----------
    encoder_ : FieldEncoder
        The encoder fitted on the training rows.
    model_ : torch.nn.Module
        The trained model, with the weights of ``best_epoch_``.
    history_ : list of dict
        Per epoch: ``epoch``, ``loss``, ``val_auc``, ``val_logloss``.
    best_epoch_ : int
        The epoch with the highest validation AUC (0: the initial weights).
    diverged_ : dict or None
        ``{"epoch": e, "batch": b}`` if the loss became NaN or infinite.
        Training then stopped, the model kept its best weights, and a
        warning was logged. None when training stayed finite.
    classes_ : ndarray
        ``[0, 1]``.
    seed_ : int
        The seed used.

    Example
    -------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"city": ["a", "b"] * 50, "price": range(100)})
    >>> y = [0, 1] * 50
    >>> classifier = CTRClassifier("autoint", epochs=2, num_layers=1).fit(X, y)
    >>> classifier.predict_proba(X).shape
    (100, 2)
    """

    def __init__(self, model: str = "autoint", *, embedding_dim: int = 16, epochs: int = 10,
                 batch_size: int = 256, learning_rate: float = 1e-3, weight_decay: float = 0.0,
                 patience: int = 2, seed: int | None = 0, categorical=None, numeric=None,
                 multi=None, min_count: int = 1, **model_params: Any) -> None:
        self.model = model
        self.embedding_dim = embedding_dim
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.patience = patience
        self.seed = seed
        self.categorical = categorical
        self.numeric = numeric
        self.multi = multi
        self.min_count = min_count
        self.model_params = model_params

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Return the constructor parameters, with ``model_params`` as keyword entries."""
        params = super().get_params(deep=deep)
        params.update(self.model_params)
        return params

    def set_params(self, **params: Any) -> CTRClassifier:
        """Set parameters. A name that is not a constructor parameter goes to ``model_params``."""
        own = set(super().get_params(deep=False))
        for name, value in params.items():
            if name in own:
                setattr(self, name, value)
            else:
                self.model_params[name] = value
        return self

    def fit(self, X: pd.DataFrame, y: Any, *, validation: tuple[pd.DataFrame, Any] | None = None,
            validation_fraction: float = 0.1) -> CTRClassifier:
        """Encode ``X``, build the model and train it with early stopping.

        Parameters
        ----------
        X : DataFrame
            Training rows.
        y : array-like of shape (n,)
            Labels 0 (no click) and 1 (click).
        validation : (DataFrame, array-like) or None
            Rows and labels for early stopping. None holds out a stratified
            ``validation_fraction`` of ``X``, chosen with ``seed``.
        validation_fraction : float
            Share of ``X`` held out when ``validation`` is None, in (0, 1).

        Returns self.
        """
        from workbench.features.encoding import FieldEncoder

        _check_frame("X", X)
        labels = check_binary_labels("y", y, len(X))
        name = check_choice("model", self.model, MODEL_CLASSES)
        embedding_dim = check_int("embedding_dim", self.embedding_dim, minimum=1)
        seed = resolve_seed(self.seed)

        if validation is None:
            fraction = check_float("validation_fraction", validation_fraction, minimum=0.0,
                                   maximum=1.0, exclusive_minimum=True)
            if fraction >= 1.0:
                raise ValueError(f"validation_fraction must be < 1, got {fraction}; pass a "
                                 f"share such as 0.1 so that training rows remain.")
            train_rows, validation_rows = _stratified_split(labels, fraction, seed)
            X_train, y_train = X.iloc[train_rows], labels[train_rows]
            X_validation, y_validation = X.iloc[validation_rows], labels[validation_rows]
        else:
            if not isinstance(validation, tuple) or len(validation) != 2:
                raise TypeError(f"validation must be a tuple (X_validation, y_validation), got "
                                f"{type(validation).__name__}.")
            X_train, y_train = X, labels
            X_validation = validation[0]
            _check_frame("validation[0]", X_validation)
            y_validation = check_binary_labels("validation[1]", validation[1], len(X_validation))
        _check_both_classes("y (training rows)", y_train)
        _check_both_classes("y (validation rows)", y_validation)

        encoder = FieldEncoder(self.categorical, self.numeric, self.multi,
                               min_count=self.min_count).fit(X_train)
        train = encoder.transform(X_train)
        validation_rows_encoded = encoder.transform(X_validation)

        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = build_ctr_model(name, encoder.fields_, embedding_dim, **self.model_params)
        result = train_ctr_model(model, train, y_train, validation_rows_encoded, y_validation,
                                 epochs=self.epochs, batch_size=self.batch_size,
                                 learning_rate=self.learning_rate,
                                 weight_decay=self.weight_decay, patience=self.patience,
                                 seed=seed)

        self.encoder_ = encoder
        self.model_ = model
        self.history_ = result.history
        self.best_epoch_ = result.best_epoch
        self.diverged_ = result.diverged
        self.classes_ = np.array([0, 1])
        self.seed_ = seed
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Return the probabilities of no click and click, shape (n, 2)."""
        tensors = self._encode(X)
        logits = predict_logits(self.model_, tensors, max(self.batch_size, 1024))
        clicks = torch.sigmoid(logits.double()).numpy()
        return np.column_stack([1.0 - clicks, clicks])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Return labels of shape (n,): 1 where the click probability is at least 0.5, else 0."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(np.int64)

    def attention_maps(self, X: pd.DataFrame, row: int | None = None) -> dict[str, Any]:
        """Compute the model's attention weights on the rows of ``X``.

        Parameters
        ----------
        X : DataFrame
            Rows to explain.
        row : int or None
            Position of one row in ``X``. Its weights replace the per-row
            arrays, and the means stay over all rows of ``X``.

        Returns
        -------
        dict
            ``"fields"``: the field names that label every field axis.
            For "autoint" and "autoint+": ``"weights"`` of shape
            (rows, layers, heads, fields, fields), where [r, l, h, m, k] is
            how much field m attends to field k, and ``"mean"`` over rows.
            For "fignn": ``"edge_weights"`` (rows, fields, fields),
            ``"edge_mean"``, ``"node_weights"`` (rows, fields) and ``"node_mean"``.
            With ``row`` given, the leading rows axis is dropped.
        """
        tensors = self._encode(X)
        if self.model not in ATTENTION_MODELS:
            raise ValueError(f"model {self.model!r} has no attention weights; fit with model "
                             f"'autoint', 'autoint+' or 'fignn' to inspect attention.")
        n_rows = tensors["categorical"].shape[0]
        if n_rows == 0:
            raise ValueError("X has no rows; pass at least one row to compute attention maps.")
        if row is not None:
            row = check_int("row", row, minimum=0, maximum=n_rows - 1)

        step = max(self.batch_size, 1024)
        parts = [self.model_.attention_maps(_take(tensors, slice(start, start + step)))
                 for start in range(0, n_rows, step)]
        per_row_keys = [key for key in parts[0] if not key.endswith("mean")]

        maps: dict[str, Any] = {"fields": [field.name for field in self.encoder_.fields_]}
        for key in per_row_keys:
            weights = np.concatenate([part[key] for part in parts])
            mean_key = "mean" if key == "weights" else key.replace("_weights", "_mean")
            maps[key] = weights if row is None else weights[row]
            maps[mean_key] = weights.mean(axis=0)
        return maps

    def _encode(self, X: pd.DataFrame) -> dict[str, torch.Tensor]:
        if not hasattr(self, "model_"):
            raise NotFittedError("this CTRClassifier is not fitted yet; call fit(X, y) first.")
        _check_frame("X", X)
        return to_tensors(self.encoder_.transform(X))


def check_binary_labels(name: str, y: Any, n_rows: int) -> np.ndarray:
    """Return ``y`` as a float32 array of 0/1 labels after checking its shape and values."""
    if isinstance(y, (pd.Series, pd.DataFrame)):
        y = y.to_numpy()
    labels = np.asarray(y)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1 or labels.shape[0] != n_rows:
        raise ValueError(f"{name} must have shape ({n_rows},), one label per row, got shape "
                         f"{labels.shape}.")
    if labels.dtype == bool:
        return labels.astype(np.float32)
    if not np.issubdtype(labels.dtype, np.number):
        raise ValueError(f"{name} must contain the binary labels 0 and 1, got dtype "
                         f"{labels.dtype}; map the positive class to 1 and the negative to 0.")
    invalid = ~np.isin(labels, (0, 1))
    if invalid.any():
        examples = np.unique(labels[invalid])[:5].tolist()
        raise ValueError(f"{name} must contain only the binary labels 0 and 1, got values "
                         f"{examples}; map the positive class to 1 and the negative to 0.")
    return labels.astype(np.float32)


def _check_frame(name: str, frame: Any) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}; wrap "
                        f"arrays with pandas.DataFrame(data, columns=[...]).")
    if len(frame) == 0:
        raise ValueError(f"{name} has no rows; pass at least one row.")


def _check_both_classes(name: str, labels: np.ndarray) -> None:
    if np.unique(labels).size < 2:
        raise ValueError(f"{name} contains only the label {int(labels[0])}; the validation "
                         f"AUC needs both labels 0 and 1 among the training and the validation "
                         f"rows.")


def _stratified_split(labels: np.ndarray, fraction: float,
                      seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (training rows, validation rows) with ``fraction`` of each label in validation."""
    rng = np.random.default_rng(seed)
    validation = []
    for label in (0.0, 1.0):
        rows = np.flatnonzero(labels == label)
        if rows.size < 2:
            raise ValueError(f"y has {rows.size} rows with label {int(label)}; holding out a "
                             f"validation set needs at least 2 of each label. Pass more rows "
                             f"or validation=(X_validation, y_validation).")
        count = min(rows.size - 1, max(1, round(fraction * rows.size)))
        validation.append(rng.permutation(rows)[:count])
    validation_rows = np.sort(np.concatenate(validation))
    train_rows = np.setdiff1d(np.arange(labels.size), validation_rows)
    return train_rows, validation_rows


def _take(tensors: dict[str, torch.Tensor], rows: Any) -> dict[str, torch.Tensor]:
    """Return the rows ``rows`` (a slice or an index tensor) of every tensor."""
    return {key: tensor[rows] for key, tensor in tensors.items()}
