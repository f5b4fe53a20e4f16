"""Tasks on real data: epochs with checkpoints on MNIST, data fractions on Adult."""

from __future__ import annotations

import os

import pytest

from workbench.hpo.tasks import MNISTTask, SubsampleTask, gradient_boosting_task

PARAMS = {"learning_rate": 0.05, "hidden_units": 64, "dropout": 0.1, "weight_decay": 1e-5}


@pytest.fixture(scope="module")
def mnist_task():
    if not os.environ.get("WORKBENCH_DATA"):
        pytest.skip("WORKBENCH_DATA is not set; the MNIST task needs the MNIST files")
    return MNISTTask(n_train=2000, n_validation=500)


def test_mnist_task_learns_and_continues_from_checkpoint(mnist_task):
    before = mnist_task.epochs_trained
    first = mnist_task(PARAMS, 1, config_id=0)
    assert mnist_task.epochs_trained == before + 1
    third = mnist_task(PARAMS, 3, config_id=0)
    assert mnist_task.epochs_trained == before + 3, "a promotion restarted training"
    assert 0.5 < first <= 1.0
    assert third >= first - 0.02
    assert mnist_task(PARAMS, 3, config_id=0) == third   # already trained: checkpoint value


def test_mnist_task_is_seeded(mnist_task):
    assert mnist_task(PARAMS, 1, config_id=11) == MNISTTask(n_train=2000, n_validation=500)(
        PARAMS, 1, config_id=11)


def test_mnist_task_split_shapes(mnist_task):
    assert mnist_task.X_train.shape == (2000, 784)
    assert mnist_task.X_validation.shape == (500, 784)
    assert mnist_task.X_train.dtype.name == "float32"
    assert mnist_task.X_train.max() <= 1.0


def test_mnist_task_rejects_bad_budget(mnist_task):
    with pytest.raises(ValueError, match="budget must be >= 0.5"):
        mnist_task(PARAMS, 0, config_id=1)


def test_mnist_divergence_fails_clearly(mnist_task):
    with pytest.raises(FloatingPointError, match="lower the learning rate"):
        mnist_task({**PARAMS, "learning_rate": 1e6}, 1, config_id=2)


@pytest.fixture(scope="module")
def adult():
    if not os.environ.get("WORKBENCH_DATA"):
        pytest.skip("WORKBENCH_DATA is not set; the Adult tasks need the Adult files")
    from workbench.data import load_adult

    return load_adult("train")


def test_subsample_task_budget_is_fraction(adult):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = adult.frame[adult.numeric].fillna(0)
    task = SubsampleTask(make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)), X,
                         adult.target, seed=0)
    small = task({"logisticregression__C": 1.0}, 0.02)
    full = task({"logisticregression__C": 1.0}, 1.0)
    assert 0.6 < small < 0.95
    assert 0.8 < full < 0.95
    with pytest.raises(ValueError, match="budget must be <= 1.0"):
        task({}, 1.5)


def test_gradient_boosting_task_cross_validates(adult):
    task = gradient_boosting_task(adult.frame, adult.target, max_iter=20, max_rows=2000,
                                  n_threads=1)
    score = task({"learning_rate": 0.1, "max_leaf_nodes": 15, "min_samples_leaf": 20,
                  "l2_regularization": 1e-3})
    assert 0.8 < score < 1.0
    with pytest.raises(ValueError, match="n_threads must be >= 1"):
        gradient_boosting_task(adult.frame, adult.target, n_threads=0)


def test_mnist_checkpoints_keyed_by_params(mnist_task):
    other = {**PARAMS, "hidden_units": 32}
    before = mnist_task.epochs_trained
    mnist_task(PARAMS, 1, config_id=40)
    mnist_task(other, 2, config_id=40)   # same id, other configuration: trains from scratch
    assert mnist_task.epochs_trained == before + 1 + 2
