"""A torch MLP on MNIST whose budget is training epochs, with a checkpoint per configuration."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import numpy as np
from optuna.distributions import FloatDistribution, IntDistribution

from workbench.core.validation import check_float, check_int, check_seed

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class _Checkpoint:
    model_state: dict
    optimizer_state: dict
    epochs: int
    accuracy: float


def mnist_space() -> dict[str, Any]:
    """Return the search space of :class:`MNISTTask`."""
    return {
        "learning_rate": FloatDistribution(1e-4, 3e-1, log=True),
        "hidden_units": IntDistribution(16, 512, log=True),
        "dropout": FloatDistribution(0.0, 0.6),
        "weight_decay": FloatDistribution(1e-7, 1e-2, log=True),
    }


class MNISTTask:
    """Validation accuracy of a one-hidden-layer MLP trained with SGD + momentum on MNIST.

    Calling ``task(params, budget, config_id)`` trains configuration
    ``config_id`` until it has seen ``round(budget)`` epochs in total and
    returns its validation accuracy. A checkpoint (weights, optimizer state,
    epochs done) is kept per configuration, so a configuration promoted from
    budget 3 to budget 9 trains 6 more epochs instead of restarting.

    Data: the 60,000 training images when they are available (downloaded or in
    ``WORKBENCH_DATA``), else the 10,000 real test images, either way split into
    training and validation rows (stratified, seeded).

    Parameters
    ----------
    n_train : int, optional
        Use at most this many training rows (quick runs).
    n_validation : int, default 2000
    batch_size : int, default 128
    seed : int, default 0
    n_threads : int, default 1
        torch intra-op threads while training.
    download : bool, default False
        Try to download the training images when they are not found.
    """

    def __init__(self, *, n_train: int | None = None, n_validation: int = 2000,
                 batch_size: int = 128, seed: int = 0, n_threads: int = 1,
                 download: bool = False) -> None:
        from sklearn.model_selection import train_test_split

        from workbench.data import DataNotFoundError, load_mnist

        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.seed = check_seed("seed", seed) or 0
        self.n_threads = check_int("n_threads", n_threads, minimum=1)
        n_validation = check_int("n_validation", n_validation, minimum=10)
        try:
            data = load_mnist("train", download=download)
            self.source = "train"
        except DataNotFoundError:
            data = load_mnist("test")
            self.source = "test"
            logger.info("MNIST training images not found; splitting the 10,000 test images")
        images = data.images.reshape(len(data.images), -1).astype(np.float32) / 255.0
        labels = data.labels.astype(np.int64)
        train, validation = train_test_split(np.arange(len(labels)), test_size=n_validation,
                                             stratify=labels, random_state=self.seed)
        if n_train is not None:
            train = train[: check_int("n_train", n_train, minimum=10)]
        self.X_train, self.y_train = images[train], labels[train]            # (n, 784), (n,)
        self.X_validation, self.y_validation = images[validation], labels[validation]
        self.checkpoints: dict[tuple, _Checkpoint] = {}
        self.epochs_trained = 0

    def _model(self, params: dict[str, Any]):
        import torch.nn as nn

        hidden = int(params["hidden_units"])
        return nn.Sequential(nn.Linear(784, hidden), nn.ReLU(), nn.Dropout(params["dropout"]),
                             nn.Linear(hidden, 10))

    def __call__(self, params: dict[str, Any], budget: float, config_id: int = 0) -> float:
        import torch

        epochs = check_int("budget", int(round(check_float("budget", budget, minimum=0.5))),
                           minimum=1)
        config_id = check_int("config_id", config_id, minimum=0)
        previous_threads = torch.get_num_threads()
        torch.set_num_threads(self.n_threads)
        try:
            return self._train(params, epochs, config_id)
        finally:
            torch.set_num_threads(previous_threads)

    def _train(self, params: dict[str, Any], epochs: int, config_id: int) -> float:
        import torch
        import torch.nn.functional as F

        torch.manual_seed(self.seed * 100_003 + config_id)
        model = self._model(params)
        optimizer = torch.optim.SGD(model.parameters(), lr=params["learning_rate"], momentum=0.9,
                                    weight_decay=params["weight_decay"])
        # The key contains the parameters too, because two studies both have a configuration 0.
        key = (config_id, tuple(sorted(params.items())))
        checkpoint = self.checkpoints.get(key)
        done = 0
        if checkpoint is not None:
            model.load_state_dict(checkpoint.model_state)
            optimizer.load_state_dict(checkpoint.optimizer_state)
            done = checkpoint.epochs
            if done >= epochs:
                return checkpoint.accuracy

        X = torch.from_numpy(self.X_train)
        y = torch.from_numpy(self.y_train)
        for epoch in range(done, epochs):
            generator = torch.Generator().manual_seed(self.seed * 1_000_003 + config_id * 1009 + epoch)
            order = torch.randperm(len(y), generator=generator)
            model.train()
            for start in range(0, len(y), self.batch_size):
                batch = order[start:start + self.batch_size]
                loss = F.cross_entropy(model(X[batch]), y[batch])
                if not torch.isfinite(loss):
                    raise FloatingPointError(f"training loss became {loss.item()} at epoch "
                                             f"{epoch + 1}; lower the learning rate")
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            self.epochs_trained += 1

        accuracy = self.accuracy(model)
        self.checkpoints[key] = _Checkpoint(
            model_state={k: v.clone() for k, v in model.state_dict().items()},
            optimizer_state=optimizer.state_dict(), epochs=epochs, accuracy=accuracy)
        return accuracy

    def accuracy(self, model) -> float:
        import torch

        model.eval()
        with torch.no_grad():
            logits = model(torch.from_numpy(self.X_validation))          # (n_validation, 10)
        return float((logits.argmax(1).numpy() == self.y_validation).mean())
