"""GRDA optimizer: exact zeros on a sparse regression, threshold schedule, steering, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from workbench.features.grda import GRDA, threshold_increment

torch.set_num_threads(1)

RELEVANT = (0, 3, 7)


def sparse_regression(seed=0, n_rows=2000, n_features=20, noise=0.5):
    """Linear data whose target depends on features 0, 3 and 7 only."""
    generator = torch.Generator().manual_seed(seed)
    features = torch.randn(n_rows, n_features, generator=generator)
    true_weights = torch.zeros(n_features)
    true_weights[list(RELEVANT)] = torch.tensor([2.0, -1.5, 1.0])
    target = features @ true_weights + noise * torch.randn(n_rows, generator=generator)
    return features, target, true_weights


def fit(optimizer_factory, seed=0, steps=400, batch_size=64):
    """Fit a linear model by minibatch squared error; return its final weights."""
    features, target, _ = sparse_regression(seed)
    weights = torch.nn.Parameter(torch.full((features.shape[1],), 0.1))
    optimizer = optimizer_factory([weights])
    generator = torch.Generator().manual_seed(seed + 100)
    for _ in range(steps):
        rows = torch.randint(0, len(target), (batch_size,), generator=generator)
        loss = 0.5 * ((features[rows] @ weights - target[rows]) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return weights.detach()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_grda_zeroes_irrelevant_coordinates(seed):
    weights = fit(lambda params: GRDA(params, lr=0.05, c=0.5, mu=0.7), seed=seed)
    irrelevant = [index for index in range(len(weights)) if index not in RELEVANT]
    assert torch.all(weights[irrelevant] == 0.0)
    assert torch.all(weights[list(RELEVANT)] != 0.0)
    _, _, true_weights = sparse_regression(seed)
    relevant = list(RELEVANT)
    assert torch.all(torch.sign(weights[relevant]) == torch.sign(true_weights[relevant]))
    assert torch.allclose(weights[list(RELEVANT)], true_weights[list(RELEVANT)], atol=0.15)


def test_grda_without_penalty_is_sgd():
    grda_weights = fit(lambda params: GRDA(params, lr=0.05, c=0.0, mu=0.7), steps=50)
    sgd_weights = fit(lambda params: torch.optim.SGD(params, lr=0.05), steps=50)
    assert torch.allclose(grda_weights, sgd_weights, atol=1e-5)
    assert torch.count_nonzero(grda_weights) == len(grda_weights)


def test_threshold_follows_closed_form():
    weight = torch.nn.Parameter(torch.zeros(3))
    lr, c, mu = 0.2, 0.03, 0.6
    optimizer = GRDA([weight], lr=lr, c=c, mu=mu)
    for _ in range(25):
        weight.grad = torch.ones(3)
        optimizer.step()
    state = optimizer.state[weight]
    assert state["step"] == 25
    assert math.isclose(state["threshold"], c * math.sqrt(lr) * (25 * lr) ** mu, rel_tol=1e-9)
    # accumulator = w_0 - lr * sum(grad) = -0.2 * 25 = -5, shrunk by the threshold.
    expected = -(5.0 - state["threshold"])
    assert torch.allclose(weight.detach(), torch.full((3,), expected))


def test_threshold_increments_sum_to_closed_form():
    total = sum(threshold_increment(0.5, 0.1, 0.8, step) for step in range(1, 101))
    assert math.isclose(total, 0.1 * 0.5 ** 0.5 * (100 * 0.5) ** 0.8, rel_tol=1e-12)


def test_parameters_without_gradient_are_untouched():
    used = torch.nn.Parameter(torch.ones(2))
    unused = torch.nn.Parameter(torch.ones(2))
    optimizer = GRDA([used, unused], lr=0.1, c=0.01, mu=0.5)
    (used.sum()).backward()
    optimizer.step()
    assert torch.equal(unused.detach(), torch.ones(2))
    assert unused not in optimizer.state or not optimizer.state[unused]


def test_assign_continues_from_value():
    weight = torch.nn.Parameter(torch.tensor([1.0, 1.0]))
    optimizer = GRDA([weight], lr=0.1, c=0.01, mu=0.6)
    weight.grad = torch.zeros(2)
    optimizer.step()
    optimizer.assign(weight, 0, 0.5)
    optimizer.assign(weight, 1, 0.0)
    assert weight[0].item() == 0.5
    weight.grad = torch.zeros(2)
    optimizer.step()
    # A zero gradient leaves the accumulator alone; only the threshold step shrinks the value.
    increment = threshold_increment(0.1, 0.01, 0.6, 2)
    assert math.isclose(weight[0].item(), 0.5 - increment, rel_tol=1e-5)
    assert weight[1].item() == 0.0


def test_assign_rejects_foreign_parameter():
    optimizer = GRDA([torch.nn.Parameter(torch.zeros(1))])
    with pytest.raises(ValueError, match="not optimized by this GRDA"):
        optimizer.assign(torch.nn.Parameter(torch.zeros(1)), 0, 1.0)


def test_set_settings_changes_next_step():
    weight = torch.nn.Parameter(torch.tensor([0.3]))
    optimizer = GRDA([weight], lr=0.1, c=0.0, mu=0.6)
    weight.grad = torch.zeros(1)
    optimizer.step()
    assert weight.item() == pytest.approx(0.3)
    optimizer.set_settings(c=100.0)
    weight.grad = torch.zeros(1)
    optimizer.step()
    assert weight.item() == 0.0
    assert optimizer.param_groups[0]["c"] == 100.0
    with pytest.raises(ValueError, match="mu must be <= 1.0"):
        optimizer.set_settings(mu=1.5)
    assert optimizer.param_groups[0]["mu"] == 0.6


@pytest.mark.parametrize("arguments, error, message", [
    ({"lr": 0.0}, ValueError, "lr must be > 0.0"),
    ({"lr": -1.0}, ValueError, "lr must be > 0.0"),
    ({"c": -0.1}, ValueError, "c must be >= 0.0"),
    ({"mu": -0.1}, ValueError, "mu must be >= 0.0"),
    ({"mu": 1.2}, ValueError, "mu must be <= 1.0"),
    ({"lr": float("nan")}, ValueError, "lr must be finite"),
    ({"c": "0.1"}, TypeError, "c must be a real number"),
])
def test_grda_rejects_bad_settings(arguments, error, message):
    with pytest.raises(error, match=message):
        GRDA([torch.nn.Parameter(torch.zeros(1))], **arguments)


def test_grda_rejects_sparse_gradients():
    embedding = torch.nn.Embedding(5, 2, sparse=True)
    optimizer = GRDA(embedding.parameters())
    embedding(torch.tensor([1, 2])).sum().backward()
    with pytest.raises(RuntimeError, match="sparse gradients"):
        optimizer.step()


def test_grda_returns_closure_loss():
    weight = torch.nn.Parameter(torch.tensor([1.0]))
    optimizer = GRDA([weight], lr=0.1)

    def closure():
        optimizer.zero_grad()
        loss = (weight ** 2).sum()
        loss.backward()
        return loss

    assert optimizer.step(closure).item() == pytest.approx(1.0)
    assert np.isfinite(weight.item())
