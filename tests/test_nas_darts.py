"""Tests of the DARTS search, its architecture gradient, its steering and genotype evaluation.

The searches run on tiny supernets (C=4, 3 layers, 2 intermediate nodes) and
8x8 images: random tensors built here, or scikit-learn's digits. The
second-order gradient is checked in float64 against an exact Hessian-vector
product from double backward and against central differences of the unrolled
objective L_val(w - xi * grad_w L_train(w, alpha), alpha).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import workbench.nas.darts as darts_module
from workbench.core import SteeringLog
from workbench.nas import (
    CPU_OPERATIONS,
    Darts,
    DartsSnapshot,
    Genotype,
    ImageSplit,
    Supernet,
    arch_gradient,
    digits_split,
    edge_labels,
    evaluate_genotype,
    mnist_split,
    random_genotype,
)

torch.set_num_threads(1)

TINY = dict(C=4, layers=3, steps=2, multiplier=2, batch_size=16, eval_size=32)
# No max pooling, because the smooth gradient check needs a differentiable network.
SMOOTH_OPS = ("none", "skip_connect", "sep_conv_3x3", "dil_conv_3x3", "avg_pool_3x3")


def random_images(n: int, seed: int, classes: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 8, 8, generator=generator)
    y = torch.randint(0, classes, (n,), generator=generator)
    return x, y


def tiny_search(**overrides) -> Darts:
    x_train, y_train = random_images(48, seed=1)
    x_val, y_val = random_images(48, seed=2)
    settings = dict(TINY, batches_per_step=1, epochs=2)
    settings.update(overrides)
    return Darts(x_train, y_train, x_val, y_val, **settings)


def flat(tensors) -> torch.Tensor:
    return torch.cat([t.reshape(-1) for t in tensors])


# --- second-order architecture gradient ------------------------------------------------------


def smooth_problem():
    """A float64 supernet whose ReLUs are Softplus, with batches and alpha drawn at random.

    ReLU and max pooling have kinks, and the finite-difference step of 0.01
    crosses some of them, so on a ReLU network the approximation differs from
    the local Hessian-vector product by more than its O(epsilon^2) error.
    """
    net = Supernet(C=4, num_classes=3, layers=3, steps=2, multiplier=2, stem_multiplier=1,
                   operations=SMOOTH_OPS, in_channels=1, seed=0).double()
    for module in list(net.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, torch.nn.ReLU):
                setattr(module, name, torch.nn.Softplus())
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for alpha in net.arch_parameters():
            alpha.normal_(0.0, 0.5, generator=generator)
    x_train = torch.randn(8, 1, 8, 8, generator=generator, dtype=torch.float64)
    x_val = torch.randn(8, 1, 8, 8, generator=generator, dtype=torch.float64)
    y_train = torch.randint(0, 3, (8,), generator=generator)
    y_val = torch.randint(0, 3, (8,), generator=generator)
    return net, (x_train, y_train), (x_val, y_val)


def exact_unrolled_gradient(net, train_batch, val_batch, xi):
    """Return grad_alpha L_val(w') - xi * (d^2 L_train / d alpha d w) v with an exact product."""
    weights, alphas = net.weights(), net.arch_parameters()
    original = [w.detach().clone() for w in weights]

    train_loss = F.cross_entropy(net(train_batch[0]), train_batch[1])
    train_grads = torch.autograd.grad(train_loss, weights)
    with torch.no_grad():
        for w, g in zip(weights, train_grads):
            w.sub_(xi * g)
    val_loss = F.cross_entropy(net(val_batch[0]), val_batch[1])
    grads = torch.autograd.grad(val_loss, alphas + weights)
    alpha_grads, v = grads[:2], grads[2:]
    with torch.no_grad():
        for w, w0 in zip(weights, original):
            w.copy_(w0)

    # Double backward: d/d alpha of <grad_w L_train(w, alpha), v>.
    train_loss = F.cross_entropy(net(train_batch[0]), train_batch[1])
    train_grads = torch.autograd.grad(train_loss, weights, create_graph=True)
    product = sum((g * vector).sum() for g, vector in zip(train_grads, v))
    hvp = torch.autograd.grad(product, alphas)
    return flat(alpha_grads) - xi * flat(hvp), xi * flat(hvp)


def unrolled_objective(net, train_batch, val_batch, xi, alpha_flat) -> float:
    """Return L_val(w - xi * grad_w L_train(w, alpha), alpha) for the flat logits ``alpha_flat``."""
    weights, alphas = net.weights(), net.arch_parameters()
    original = [w.detach().clone() for w in weights]
    with torch.no_grad():
        split = alphas[0].numel()
        alphas[0].copy_(alpha_flat[:split].view_as(alphas[0]))
        alphas[1].copy_(alpha_flat[split:].view_as(alphas[1]))
    train_loss = F.cross_entropy(net(train_batch[0]), train_batch[1])
    train_grads = torch.autograd.grad(train_loss, weights)
    with torch.no_grad():
        for w, g in zip(weights, train_grads):
            w.sub_(xi * g)
        value = float(F.cross_entropy(net(val_batch[0]), val_batch[1]))
        for w, w0 in zip(weights, original):
            w.copy_(w0)
    return value


def test_second_order_gradient_matches_exact():
    net, train_batch, val_batch = smooth_problem()
    xi = 0.5
    exact, hvp_term = exact_unrolled_gradient(net, train_batch, val_batch, xi)

    # The exact reference itself against central differences of the unrolled objective.
    alpha0 = flat([alpha.detach().clone() for alpha in net.arch_parameters()])
    h = 1e-5
    for index in range(0, len(alpha0), 3):
        step = torch.zeros_like(alpha0)
        step[index] = h
        numeric = (unrolled_objective(net, train_batch, val_batch, xi, alpha0 + step)
                   - unrolled_objective(net, train_batch, val_batch, xi, alpha0 - step)) / (2 * h)
        assert numeric == pytest.approx(float(exact[index]), abs=1e-8), index
    unrolled_objective(net, train_batch, val_batch, xi, alpha0)      # restore alpha

    approx, _ = arch_gradient(net, train_batch, val_batch, order="second", xi=xi)
    first, _ = arch_gradient(net, train_batch, val_batch, order="first")
    error = float((flat(approx) - exact).norm())
    # Measured: the gradient has norm 0.14, its Hessian term 0.07, the
    # O(epsilon^2) finite-difference error 1.2e-5, and the first-order gradient
    # is off by 0.11.
    assert float(hvp_term.norm()) > 0.3 * float(exact.norm())
    assert error < 1e-3 * float(hvp_term.norm())
    assert float((flat(first) - exact).norm()) > 0.3 * float(exact.norm())


def test_finite_difference_error_is_quadratic(monkeypatch):
    net, train_batch, val_batch = smooth_problem()
    exact, _ = exact_unrolled_gradient(net, train_batch, val_batch, 0.5)
    errors = []
    for scale in (1e-2, 1e-3):
        monkeypatch.setattr(darts_module, "HVP_EPSILON_SCALE", scale)
        approx, _ = arch_gradient(net, train_batch, val_batch, order="second", xi=0.5)
        errors.append(float((flat(approx) - exact).norm()))
    # A central difference: 10 times smaller epsilon, about 100 times smaller error.
    assert 30 < errors[0] / errors[1] < 300


def test_arch_gradient_leaves_network_unchanged():
    net, train_batch, val_batch = smooth_problem()
    before = {name: value.clone() for name, value in net.state_dict().items()}
    arch_gradient(net, train_batch, val_batch, order="second", xi=0.5)
    for name, value in net.state_dict().items():
        assert torch.equal(value, before[name]), name
    assert all(alpha.grad is None for alpha in net.arch_parameters())


def test_arch_gradient_rejects_bad_order():
    net, train_batch, val_batch = smooth_problem()
    with pytest.raises(ValueError, match="order must be one of 'first', 'second'; got 'third'"):
        arch_gradient(net, train_batch, val_batch, order="third")
    with pytest.raises(ValueError, match="xi must be >= 0.0, got -1.0"):
        arch_gradient(net, train_batch, val_batch, order="second", xi=-1.0)


# --- steps -------------------------------------------------------------------------------------


def test_first_order_step_changes_alpha_and_weights():
    search = tiny_search()
    alphas = [alpha.detach().clone() for alpha in search.supernet.arch_parameters()]
    weights = [w.detach().clone() for w in search.supernet.weights()]

    event = search.step()

    for before, after in zip(alphas, search.supernet.arch_parameters()):
        assert not torch.equal(before, after)
    changed = [not torch.equal(before, after)
               for before, after in zip(weights, search.supernet.weights())]
    assert sum(changed) > len(changed) // 2
    record = event["record"]
    assert record["step"] == 1
    assert record["batches"] == 1
    assert math.isfinite(record["train_loss"])
    assert 0.0 <= record["val_accuracy"] <= 1.0
    assert record["xi"] == record["weight_lr"] == 0.025


def test_second_order_differs_from_first_order():
    first = tiny_search(order="first")
    second = tiny_search(order="second")
    first.step()
    second.step()
    difference = np.abs(first.snapshot().weights["normal"] - second.snapshot().weights["normal"])
    assert difference.max() > 0


def test_epoch_budget_and_cosine_schedule():
    search = tiny_search(batches_per_step=None, epochs=2)
    assert search.batches_per_epoch == 3                # ceil(48 / 16)
    assert search.total_batches == 6
    search.step()
    assert search.epoch == 1
    assert search.history[0]["batches"] == 3
    assert search.history[0]["weight_lr"] == pytest.approx(0.025)
    # Epoch 1 of 2: 0.025 * (1 + cos(pi / 2)) / 2.
    assert search.scheduled_weight_lr() == pytest.approx(0.0125)
    search.step()
    assert search.done
    assert search.snapshot().stop_reason == "epochs"
    assert search.snapshot().final_genotype == search.genotype()
    with pytest.raises(RuntimeError, match="is done after 2 steps"):
        search.step()


def test_snapshot_shapes_and_labels():
    search = tiny_search()
    search.step()
    snapshot = search.snapshot()
    assert isinstance(snapshot, DartsSnapshot)
    assert snapshot.edge_labels == ("node 2 <- c_{k-2}", "node 2 <- c_{k-1}",
                                    "node 3 <- c_{k-2}", "node 3 <- c_{k-1}",
                                    "node 3 <- node 2")
    assert snapshot.operations == CPU_OPERATIONS
    for cell in ("normal", "reduce"):
        assert snapshot.weights[cell].shape == (5, 6)
        np.testing.assert_allclose(snapshot.weights[cell].sum(axis=1), 1.0, rtol=1e-6)
        assert snapshot.weights_history[cell].shape == (2, 5, 6)
        assert not snapshot.weights[cell].flags.writeable
    assert len(snapshot.genotype_history) == 2
    assert snapshot.train_loss.shape == (1,)
    assert snapshot.val_accuracy.shape == (1,)
    assert snapshot.nan is None
    assert snapshot.stop_reason is None


def test_parameter_free_share_and_collapse_warning():
    search = tiny_search()
    snapshot = search.snapshot()
    # Nearly uniform logits: 4 of the 6 CPU operations are parameter-free.
    assert snapshot.parameter_free_share["normal"] == pytest.approx(4 / 6, abs=1e-3)
    assert snapshot.parameter_free_baseline["normal"] == pytest.approx(4 / 6)
    assert not snapshot.collapse_warning

    skip = CPU_OPERATIONS.index("skip_connect")
    with torch.no_grad():
        search.supernet.alpha_normal[:, skip] = 3.0
    snapshot = search.snapshot()
    # Per edge: (e^3 + 3) / (e^3 + 5) = 0.917 on the parameter-free operations.
    expected = (math.e ** 3 + 3) / (math.e ** 3 + 5)
    assert snapshot.parameter_free_share["normal"] == pytest.approx(expected, abs=1e-3)
    assert snapshot.skip_connect_edges == 4
    assert snapshot.collapse_warning


def test_seed_reproducibility():
    runs = []
    for _ in range(2):
        search = tiny_search(order="second")
        for _ in range(3):
            search.step()
        runs.append(search.snapshot())
    for cell in ("normal", "reduce"):
        assert np.array_equal(runs[0].weights_history[cell], runs[1].weights_history[cell])
    assert np.array_equal(runs[0].train_loss, runs[1].train_loss)
    assert runs[0].genotype_history == runs[1].genotype_history

    other = tiny_search(order="second", seed=1)
    other.step()
    assert not np.array_equal(other.snapshot().weights_history["normal"],
                              runs[0].weights_history["normal"][:2])


# --- NaN handling --------------------------------------------------------------------------------


def test_huge_weight_lr_stops_with_nan():
    search = tiny_search(weight_lr=1e30, epochs=3)
    while not search.done:
        search.step()
    snapshot = search.snapshot()
    assert snapshot.stop_reason == "nan"
    assert snapshot.nan["phase"] in ("architecture", "weights", "validation")
    # The failing step still counts as a step.
    assert snapshot.nan["step"] == snapshot.step
    assert snapshot.nan["batch"] >= 1
    assert not math.isfinite(snapshot.nan["loss"])
    # No step after a non-finite validation loss: only the last record may have one.
    assert all(math.isfinite(record["val_loss"]) for record in snapshot.history[:-1])
    for alpha in search.supernet.arch_parameters():
        assert bool(torch.isfinite(alpha).all())
    assert snapshot.final_genotype is not None


def test_nan_restores_state_before_failing_batch():
    search = tiny_search(batches_per_step=2)
    search.step()
    kept = {name: value.clone() for name, value in search.supernet.state_dict().items()}
    # Infinite training images make the weight update of the next batch fail
    # after the architecture update of that batch has already changed alpha.
    search._x_train.fill_(float("inf"))

    search.step()

    snapshot = search.snapshot()
    assert snapshot.nan == {"step": 2, "batch": 1, "phase": "weights",
                            "loss": snapshot.nan["loss"]}
    assert math.isnan(snapshot.nan["loss"])
    assert snapshot.stop_reason == "nan"
    assert search.done
    for name, value in search.supernet.state_dict().items():
        assert torch.equal(value, kept[name]), name
    np.testing.assert_array_equal(snapshot.weights["normal"],
                                  snapshot.weights_history["normal"][-1])
    assert len(snapshot.history) == 1


# --- steering -------------------------------------------------------------------------------------


def count_calls(module: torch.nn.Module) -> list[int]:
    """Attach a forward hook to ``module`` and return the list that counts its calls."""
    calls = [0]

    def hook(_module, _inputs, _output):
        calls[0] += 1

    module.register_forward_hook(hook)
    return calls


def test_forbid_takes_effect_next_step():
    search = tiny_search()
    pool = CPU_OPERATIONS.index("max_pool_3x3")
    sep = CPU_OPERATIONS.index("sep_conv_3x3")
    normal_cell, reduce_cell = search.supernet.cells[0], search.supernet.cells[1]
    forbidden_calls = count_calls(normal_cell.edges[0].candidates[pool])
    allowed_calls = count_calls(reduce_cell.edges[0].candidates[pool])
    sep_weights = [p.detach().clone() for p in normal_cell.edges[3].candidates[sep].parameters()]
    search.forbid_operation("max_pool_3x3", cell="normal", edge=0)
    search.forbid_operation("sep_conv_3x3")
    assert search.snapshot().forbidden["normal"][0, pool]

    search.step()

    assert forbidden_calls[0] == 0
    assert allowed_calls[0] > 0
    # A forbidden operation gets no gradient, so SGD leaves its weights alone.
    for before, after in zip(sep_weights, normal_cell.edges[3].candidates[sep].parameters()):
        assert torch.equal(before, after)

    snapshot = search.snapshot()
    assert snapshot.weights_history["normal"][-1][0, pool] == 0.0
    assert snapshot.weights_history["reduce"][-1][0, pool] > 0.0
    for cell in ("normal", "reduce"):
        assert (snapshot.weights_history[cell][-1][:, sep] == 0.0).all()
        assert all(operation != "sep_conv_3x3" for operation, _ in getattr(snapshot.genotype,
                                                                            cell))
    assert [record.action for record in search.steering_log] == ["forbid_operation"] * 2


def test_pin_takes_effect_next_step():
    search = tiny_search()
    dil = CPU_OPERATIONS.index("dil_conv_3x3")
    edge = search.supernet.cells[0].edges[0]
    calls = [count_calls(candidate) for candidate in edge.candidates]
    search.pin_operation("normal", 0, "dil_conv_3x3")
    search.pin_operation("reduce", 4, "avg_pool_3x3")
    search.step()
    snapshot = search.snapshot()

    # Only the pinned operation runs on that edge.
    assert [count[0] > 0 for count in calls] == [k == dil for k in range(6)]
    expected = np.zeros(6)
    expected[dil] = 1.0
    np.testing.assert_array_equal(snapshot.weights_history["normal"][-1][0], expected)
    assert snapshot.pinned["normal"][0] == "dil_conv_3x3"
    assert snapshot.pinned["reduce"][4] == "avg_pool_3x3"
    # Node 0 has only the edges 0 and 1, so both are kept and edge 0 is the pinned one.
    assert ("dil_conv_3x3", 0) in snapshot.genotype.normal[:2]
    assert snapshot.masks["normal"][0].tolist() == [False, False, False, True, False, False]


def test_pin_forbidden_operation_raises():
    search = tiny_search()
    search.forbid_operation("dil_conv_3x3", cell="normal", edge=2)
    with pytest.raises(ValueError, match="'dil_conv_3x3' is forbidden on edge 2"):
        search.pin_operation("normal", 2, "dil_conv_3x3")
    assert len(search.steering_log) == 1


def test_forbid_last_allowed_operation_raises():
    search = tiny_search()
    search.pin_operation("normal", 1, "sep_conv_3x3")
    with pytest.raises(ValueError, match="would leave no operation on edge 1"):
        search.forbid_operation("sep_conv_3x3")
    # The failed call changed nothing.
    assert not search.snapshot().forbidden["reduce"].any()


def test_forbid_leaving_no_genotype_raises():
    search = tiny_search()
    for operation in ("skip_connect", "sep_conv_3x3", "dil_conv_3x3", "max_pool_3x3"):
        search.forbid_operation(operation, cell="normal", edge=0)
    # Edge 0 would allow only "none", so node 2 keeps fewer than 2 usable edges.
    with pytest.raises(ValueError, match="would leave no valid genotype"):
        search.forbid_operation("avg_pool_3x3", cell="normal", edge=0)


@pytest.mark.parametrize("call, message", [
    (lambda s: s.pin_operation("middle", 0, "skip_connect"), "cell 'middle' is not a cell type"),
    (lambda s: s.pin_operation("normal", 5, "skip_connect"), "edge 5 is out of range"),
    (lambda s: s.pin_operation("normal", -1, "skip_connect"), "edge -1 is out of range"),
    (lambda s: s.pin_operation("normal", 0, "sep_conv_5x5"),
     "operation 'sep_conv_5x5' is not a candidate operation"),
    (lambda s: s.forbid_operation("conv_7x7"), "operation 'conv_7x7' is not a candidate"),
    (lambda s: s.forbid_operation("skip_connect", cell="Normal"), "cell 'Normal'"),
    (lambda s: s.reset_edge("reduce", 9), "edge 9 is out of range"),
    (lambda s: s.set_temperature(0.0), "value must be > 0.0, got 0.0"),
    (lambda s: s.set_arch_lr(-1e-3), "value must be >= 0.0, got -0.001"),
])
def test_steering_rejects_bad_arguments(call, message):
    search = tiny_search()
    with pytest.raises(ValueError, match=message):
        call(search)
    assert len(search.steering_log) == 0


def test_reset_edge_clears_logits_and_masks():
    search = tiny_search()
    search.step()
    search.pin_operation("reduce", 3, "skip_connect")
    search.forbid_operation("none", cell="reduce", edge=3)

    search.reset_edge("reduce", 3)

    snapshot = search.snapshot()
    assert torch.equal(search.supernet.alpha_reduce[3], torch.zeros(6))
    np.testing.assert_allclose(snapshot.weights["reduce"][3], np.full(6, 1 / 6))
    assert snapshot.pinned["reduce"][3] is None
    assert not snapshot.forbidden["reduce"][3].any()
    state = search.arch_optimizer.state[search.supernet.alpha_reduce]
    assert torch.equal(state["exp_avg"][3], torch.zeros(6))


def test_set_arch_lr_and_temperature():
    search = tiny_search()
    search.set_arch_lr(0.0)
    alphas = [alpha.detach().clone() for alpha in search.supernet.arch_parameters()]
    search.step()
    for before, after in zip(alphas, search.supernet.arch_parameters()):
        assert torch.equal(before, after)
    assert search.history[-1]["arch_lr"] == 0.0

    with torch.no_grad():
        search.supernet.alpha_normal[0] = torch.tensor([0.0, 1.0, 0.0, 0.0, 0.0, 0.0])
    search.set_temperature(0.5)
    weights = search.snapshot().weights["normal"][0]
    # softmax([0, 2, 0, 0, 0, 0]) at temperature 0.5.
    assert weights[1] == pytest.approx(math.e ** 2 / (math.e ** 2 + 5), rel=1e-6)


def test_stop_and_derive():
    search = tiny_search()
    search.step()
    genotype = search.stop_and_derive()
    snapshot = search.snapshot()
    assert search.done
    assert snapshot.stop_reason == "stopped"
    assert isinstance(genotype, Genotype)
    assert snapshot.final_genotype == genotype == search.genotype()
    with pytest.raises(RuntimeError, match="is done .* read final_genotype"):
        search.step()


def test_steering_after_stop_edits_final_genotype():
    search = tiny_search()
    search.step()
    before = search.stop_and_derive()
    operation, source = before.normal[0]        # node 2's first input: edge `source`
    search.forbid_operation(operation, cell="normal", edge=source)
    assert search.final_genotype != before
    assert search.snapshot().final_genotype == search.genotype()
    search.reset_edge("normal", source)
    assert search.final_genotype == search.genotype()


def test_steering_log_replays_run(tmp_path):
    search = tiny_search(epochs=1, batches_per_step=1)
    search.step()
    search.forbid_operation("max_pool_3x3", cell="normal")
    search.set_temperature(0.7)
    search.step()
    search.pin_operation("reduce", 0, "skip_connect")
    while not search.done:
        search.step()
    path = SteeringLog.save(search.steering_log, tmp_path / "log.json")
    assert json.loads(path.read_text())["records"][0]["arguments"] == {
        "operation": "max_pool_3x3", "cell": "normal", "edge": None}

    replayed = SteeringLog.load(path).replay(tiny_search(epochs=1, batches_per_step=1))
    np.testing.assert_array_equal(replayed.snapshot().weights_history["normal"],
                                  search.snapshot().weights_history["normal"])


# --- bad input -------------------------------------------------------------------------------------


def _data(**changes):
    x_train, y_train = random_images(16, seed=1)
    x_val, y_val = random_images(16, seed=2)
    data = dict(x_train=x_train, y_train=y_train, x_val=x_val, y_val=y_val)
    data.update(changes)
    return data


@pytest.mark.parametrize("changes, settings, error, message", [
    ({"x_train": torch.randn(16, 8, 8)}, {}, ValueError,
     r"x_train has shape \(16, 8, 8\), expected \(n, channels, H, W\)"),
    ({"x_train": torch.zeros(16, 1, 8, 8, dtype=torch.uint8)}, {}, TypeError,
     "x_train must have a floating dtype"),
    ({"x_val": [[0.0]]}, {}, TypeError, "x_val must be a torch.Tensor or numpy array"),
    ({"x_val": torch.randn(16, 1, 9, 9)}, {}, ValueError,
     r"x_val has images of shape \(1, 9, 9\) but x_train has \(1, 8, 8\)"),
    ({"x_train": torch.full((16, 1, 8, 8), float("nan"))}, {}, ValueError, "NaN or infinite"),
    ({"y_train": torch.zeros(16)}, {}, TypeError, "y_train must have an integer dtype"),
    ({"y_train": torch.zeros(15, dtype=torch.long)}, {}, ValueError,
     r"y_train has shape \(15,\), expected \(16,\)"),
    ({"y_val": -torch.ones(16, dtype=torch.long)}, {}, ValueError, "negative label -1"),
    ({"x_train": torch.randn(16, 1, 4, 4), "x_val": torch.randn(16, 1, 4, 4)}, {}, ValueError,
     "4 x 4 pixels"),
    ({}, {"num_classes": 2}, ValueError, "labels go up to 2 but num_classes is 2"),
    ({}, {"operations": "gpu"}, ValueError, "operations 'gpu' is not a preset"),
    ({}, {"operations": ["skip_connect", "conv_1x1"]}, ValueError,
     "unknown operation 'conv_1x1'"),
    ({}, {"order": "third"}, ValueError, "order must be one of 'first', 'second'"),
    ({}, {"batch_size": 0}, ValueError, "batch_size must be >= 1, got 0"),
    ({}, {"weight_lr": 0.0}, ValueError, "weight_lr must be > 0.0"),
    ({}, {"grad_clip": -1.0}, ValueError, "grad_clip must be > 0.0"),
    ({}, {"temperature": float("inf")}, ValueError, "temperature must be finite"),
    ({}, {"epochs": 1.5}, TypeError, "epochs must be an integer"),
    ({}, {"seed": -3}, ValueError, "seed must be >= 0, got -3"),
])
def test_darts_rejects_bad_input(changes, settings, error, message):
    data = _data(**changes)
    with pytest.raises(error, match=message):
        Darts(data["x_train"], data["y_train"], data["x_val"], data["y_val"],
              **dict(TINY, **settings))


def test_darts_rejects_incomplete_data():
    x, y = random_images(16, seed=1)
    with pytest.raises(TypeError, match=r"missing \['x_val', 'y_val'\]"):
        Darts(x, y, **TINY)
    split = ImageSplit("random", x, y, x, y, x, y, description="test")
    with pytest.raises(TypeError, match="either an ImageSplit alone or the four tensors"):
        Darts(split, y, **TINY)


def test_darts_accepts_numpy_and_split():
    x, y = random_images(16, seed=1)
    search = Darts(x.numpy(), y.numpy(), x.numpy().astype(np.float64), y.numpy(), **TINY)
    assert search.num_classes == 3
    split = ImageSplit("random", x, y, x, y, x, y, description="test")
    assert Darts(split, **TINY).n_train == 16


# --- data, evaluation and the random baseline ---------------------------------------------------


def test_digits_split():
    split = digits_split(0)
    assert split.x_train.shape == (719, 1, 8, 8)
    assert split.x_val.shape == (719, 1, 8, 8)
    assert split.x_test.shape == (359, 1, 8, 8)
    assert split.x_train.dtype == torch.float32
    assert split.y_test.dtype == torch.int64
    assert split.num_classes == 10
    assert float(split.x_train.mean()) == pytest.approx(0.0, abs=1e-4)
    assert float(split.x_train.std()) == pytest.approx(1.0, abs=1e-3)
    assert torch.equal(digits_split(0).x_val, split.x_val)
    assert not torch.equal(digits_split(1).x_val, split.x_val)


def test_mnist_split_without_training_images(monkeypatch):
    from data_fixtures import real_data_root

    root = real_data_root()
    if root is None or not (root / "mnist" / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip("no offline copy of the MNIST test images")
    if (root / "mnist" / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip("the MNIST training images are present, so nothing falls back")
    monkeypatch.setenv("WORKBENCH_DATA", str(root))
    monkeypatch.setenv("WORKBENCH_OFFLINE", "1")

    split = mnist_split(0, n_train=300, n_val=200)

    assert split.x_train.shape == (300, 1, 28, 28)
    assert split.x_val.shape == (200, 1, 28, 28)
    assert split.x_test.shape == (9500, 1, 28, 28)
    assert "split three ways" in split.description
    with pytest.raises(ValueError, match="leaves no test images"):
        mnist_split(0, n_train=6000, n_val=4000)


def test_random_genotype():
    genotype = random_genotype("cpu", steps=4, seed=3)
    again = random_genotype("cpu", steps=4, seed=3)
    assert genotype == again
    assert genotype != random_genotype("cpu", steps=4, seed=4)
    for cell in (genotype.normal, genotype.reduce):
        assert len(cell) == 8
        assert all(operation in CPU_OPERATIONS[1:] for operation, _ in cell)
        for node in range(4):
            sources = [source for _, source in cell[2 * node:2 * node + 2]]
            assert sources[0] != sources[1]
            assert max(sources) <= node + 1
    only_skip = random_genotype(["none", "skip_connect"], steps=2, seed=0, multiplier=1)
    assert {operation for operation, _ in only_skip.normal} == {"skip_connect"}
    assert only_skip.normal_concat == (3,)
    with pytest.raises(ValueError, match="contains only 'none'"):
        random_genotype(["none"], steps=2, seed=0)
    with pytest.raises(ValueError, match="multiplier must be <= 2, got 3"):
        random_genotype("cpu", steps=2, seed=0, multiplier=3)


def test_evaluate_genotypes_on_digits():
    split = digits_split(0)
    search = Darts(split, **dict(TINY, batch_size=64, batches_per_step=4, epochs=1))
    search.step()
    searched = search.stop_and_derive()
    settings = dict(C=4, layers=3, epochs=5, seed=0)

    searched_accuracy = evaluate_genotype(searched, split.x_train, split.y_train, split.x_test,
                                          split.y_test, **settings)
    random_accuracy = evaluate_genotype(random_genotype("cpu", steps=2, seed=0).to_dict(),
                                        split.x_train, split.y_train, split.x_test,
                                        split.y_test, **settings)
    # Ten classes: chance is 0.1.
    assert searched_accuracy > 0.5
    assert random_accuracy > 0.5
    again = evaluate_genotype(searched, split.x_train, split.y_train, split.x_test, split.y_test,
                              **settings)
    assert again == searched_accuracy


@pytest.mark.parametrize("arguments, error, message", [
    ({"genotype": "sep_conv_3x3"}, TypeError, "genotype must be a Genotype"),
    ({"x_test": torch.randn(4, 1, 7, 7)}, ValueError, r"x_test has images of shape \(1, 7, 7\)"),
    ({"y_train": torch.zeros(5, dtype=torch.long)}, ValueError, r"y_train has shape \(5,\)"),
    ({"layers": 0}, ValueError, "layers must be >= 1, got 0"),
    ({"x_train": torch.randn(8, 1, 4, 4), "x_test": torch.randn(4, 1, 4, 4)}, ValueError,
     "4 x 4 pixels"),
])
def test_evaluate_genotype_rejects_bad_input(arguments, error, message):
    values = dict(genotype=random_genotype("cpu", steps=2, seed=0),
                  x_train=torch.randn(8, 1, 8, 8), y_train=torch.zeros(8, dtype=torch.long),
                  x_test=torch.randn(4, 1, 8, 8), y_test=torch.zeros(4, dtype=torch.long),
                  C=4, layers=3, epochs=1)
    values.update(arguments)
    with pytest.raises(error, match=message):
        evaluate_genotype(values.pop("genotype"), values.pop("x_train"), values.pop("y_train"),
                          values.pop("x_test"), values.pop("y_test"), **values)


def test_edge_labels():
    assert edge_labels(1) == ("node 2 <- c_{k-2}", "node 2 <- c_{k-1}")
    assert len(edge_labels(4)) == 14
    assert edge_labels(4)[-1] == "node 5 <- node 4"


@pytest.mark.parametrize("device, message", [("tpu0", "not a torch device"),
                                             (42, "not a torch device")])
def test_bad_device_rejected(device, message):
    with pytest.raises(ValueError, match=message):
        Darts(digits_split(0), C=4, layers=3, steps=2, multiplier=2, device=device)


def test_cuda_without_gpu_rejected():
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(ValueError, match="no GPU"):
        Darts(digits_split(0), C=4, layers=3, steps=2, multiplier=2, device="cuda")
