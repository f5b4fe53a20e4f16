"""Tests of the DARTS search space: operations, mixed operation, cells, supernet, genotypes.

All inputs are small random tensors built here. Expected values come from
shape arithmetic, explicit sums and softmax values worked out in the comments,
never from the code under test.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from workbench.nas import (
    CPU_OPERATIONS,
    DARTS_OPERATIONS,
    PARAMETER_FREE,
    Genotype,
    MixedOp,
    SearchCell,
    Supernet,
    build_operation,
    check_operations,
    count_edges,
    derive_genotype,
)
from workbench.nas.operations import FactorizedReduce

torch.set_num_threads(1)

# The column order of every hand-set alpha below.
SMALL_OPS = ("none", "skip_connect", "sep_conv_3x3", "max_pool_3x3")


def small_supernet(**overrides) -> Supernet:
    settings = dict(C=2, num_classes=3, layers=3, steps=2, multiplier=2, stem_multiplier=1,
                    operations=CPU_OPERATIONS, in_channels=1, seed=0)
    settings.update(overrides)
    return Supernet(**settings)


def count_calls(module: torch.nn.Module) -> list[int]:
    """Attach a forward hook to ``module`` and return the list that counts its calls."""
    calls = [0]

    def hook(_module, _inputs, _output):
        calls[0] += 1

    module.register_forward_hook(hook)
    return calls


# --- operations ---------------------------------------------------------------------------


def test_operation_lists():
    assert len(DARTS_OPERATIONS) == 8
    assert len(set(DARTS_OPERATIONS)) == 8
    assert set(CPU_OPERATIONS) < set(DARTS_OPERATIONS)
    assert "sep_conv_5x5" not in CPU_OPERATIONS
    assert "dil_conv_5x5" not in CPU_OPERATIONS
    assert PARAMETER_FREE == {"none", "skip_connect", "max_pool_3x3", "avg_pool_3x3"}


@pytest.mark.parametrize("name", DARTS_OPERATIONS)
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("height, width", [(8, 8), (7, 6)])
def test_operation_output_shape(name, stride, height, width):
    channels = 3
    operation = build_operation(name, channels, stride)
    out = operation(torch.randn(2, channels, height, width))
    expected = (2, channels, math.ceil(height / stride), math.ceil(width / stride))
    assert tuple(out.shape) == expected


def test_zero_and_identity_values():
    x = torch.randn(2, 3, 7, 7)
    assert torch.equal(build_operation("none", 3, 1)(x), torch.zeros(2, 3, 7, 7))
    assert torch.equal(build_operation("none", 3, 2)(x), torch.zeros(2, 3, 4, 4))
    assert torch.equal(build_operation("skip_connect", 3, 1)(x), x)


def test_avg_pool_excludes_padding():
    x = torch.arange(16, dtype=torch.float32).reshape(1, 1, 4, 4)
    out = build_operation("avg_pool_3x3", 1, 1)(x)
    # The top-left window covers only pixels 0, 1, 4, 5 of the image.
    assert out[0, 0, 0, 0].item() == pytest.approx((0 + 1 + 4 + 5) / 4)
    # An interior window covers 9 pixels: rows 0-2, columns 0-2.
    assert out[0, 0, 1, 1].item() == pytest.approx(sum([0, 1, 2, 4, 5, 6, 8, 9, 10]) / 9)


def test_factorized_reduce_samples_offset_grids():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 6, 6)
    reduce = FactorizedReduce(3, 4, affine=False).eval()
    out = reduce(x)                                              # (2, 4, 3, 3)

    relu = x.clamp(min=0)
    even = torch.einsum("oc,bchw->bohw", reduce.conv_even.weight[:, :, 0, 0],
                        relu[:, :, 0::2, 0::2])
    odd = torch.einsum("oc,bchw->bohw", reduce.conv_odd.weight[:, :, 0, 0],
                       relu[:, :, 1::2, 1::2])
    # In eval mode the fresh BatchNorm divides by sqrt(1 + eps) only.
    expected = torch.cat([even, odd], dim=1) / math.sqrt(1 + reduce.bn.eps)
    torch.testing.assert_close(out, expected)


def test_factorized_reduce_odd_channels():
    out = FactorizedReduce(2, 5)(torch.randn(2, 2, 7, 7))
    assert tuple(out.shape) == (2, 5, 4, 4)


def test_operation_parameter_counts():
    C = 4
    counts = {name: sum(p.numel() for p in build_operation(name, C, 1, affine=False).parameters())
              for name in DARTS_OPERATIONS}
    for name in PARAMETER_FREE:
        assert counts[name] == 0, name
    # Depthwise k x k (k*k*C) plus pointwise (C*C), twice for separable convolutions.
    assert counts["sep_conv_3x3"] == 2 * (9 * C + C * C)
    assert counts["sep_conv_5x5"] == 2 * (25 * C + C * C)
    assert counts["dil_conv_3x3"] == 9 * C + C * C
    assert counts["dil_conv_5x5"] == 25 * C + C * C


def test_dilated_convolution_uses_dilation_two():
    operation = build_operation("dil_conv_5x5", 2, 1)
    depthwise = [m for m in operation.modules()
                 if isinstance(m, torch.nn.Conv2d) and m.groups == 2]
    assert len(depthwise) == 1
    assert depthwise[0].dilation == (2, 2)


def test_separable_convolution_strides_first_half_only():
    operation = build_operation("sep_conv_3x3", 2, 2)
    depthwise = [m for m in operation.modules()
                 if isinstance(m, torch.nn.Conv2d) and m.groups == 2]
    assert [m.stride for m in depthwise] == [(2, 2), (1, 1)]


def test_build_operation_rejects_bad_arguments():
    with pytest.raises(ValueError, match="'conv_7x7' is not a known operation"):
        build_operation("conv_7x7", 4, 1)
    with pytest.raises(ValueError, match="stride must be <= 2, got 3"):
        build_operation("sep_conv_3x3", 4, 3)
    with pytest.raises(ValueError, match="C must be >= 1, got 0"):
        build_operation("sep_conv_3x3", 0, 1)
    with pytest.raises(TypeError, match="name must be a string"):
        build_operation(3, 4, 1)


def test_check_operations_accepts_subsets():
    assert check_operations(["skip_connect", "sep_conv_3x3"]) == ("skip_connect", "sep_conv_3x3")
    assert check_operations(CPU_OPERATIONS) == CPU_OPERATIONS


@pytest.mark.parametrize("names, error, message", [
    (("none", "sep_conv_9x9"), ValueError, "unknown operation 'sep_conv_9x9'"),
    ((), ValueError, "operations is empty"),
    (("skip_connect", "none", "skip_connect"), ValueError, r"duplicates \['skip_connect'\]"),
    (("none",), ValueError, "contains only 'none'"),
    ("sep_conv_3x3", TypeError, "sequence of operation names"),
    (("none", 5), TypeError, "must contain strings, got 5"),
])
def test_check_operations_rejects(names, error, message):
    with pytest.raises(error, match=message):
        check_operations(names)


# --- mixed operation and cell ---------------------------------------------------------------


def test_mixed_op_equals_weighted_sum():
    torch.manual_seed(0)
    mixed = MixedOp(2, 1, CPU_OPERATIONS).eval()
    x = torch.randn(2, 2, 5, 5)
    weights = torch.tensor([0.1, 0.2, 0.3, 0.15, 0.05, 0.2])

    expected = torch.zeros(2, 2, 5, 5)
    for weight, operation in zip(weights, mixed.candidates):
        expected = expected + weight * operation(x)
    torch.testing.assert_close(mixed(x, weights), expected)


def test_mixed_op_skips_zero_weight():
    torch.manual_seed(0)
    mixed = MixedOp(2, 2, CPU_OPERATIONS).eval()
    sep_index = CPU_OPERATIONS.index("sep_conv_3x3")
    calls = count_calls(mixed.candidates[sep_index])
    x = torch.randn(1, 2, 6, 6)
    weights = torch.full((6,), 0.2)
    weights[sep_index] = 0.0

    out = mixed(x, weights)

    assert calls[0] == 0
    expected = sum(0.2 * op(x) for k, op in enumerate(mixed.candidates) if k != sep_index)
    torch.testing.assert_close(out, expected)


def test_mixed_op_mask_forbids_operation():
    torch.manual_seed(0)
    mixed = MixedOp(2, 1, CPU_OPERATIONS).eval()
    pool_index = CPU_OPERATIONS.index("max_pool_3x3")
    calls = count_calls(mixed.candidates[pool_index])
    x = torch.randn(1, 2, 4, 4)
    weights = torch.full((6,), 1 / 6)
    mask = torch.ones(6, dtype=torch.bool)
    mask[pool_index] = False

    out = mixed(x, weights, mask)

    assert calls[0] == 0
    expected = sum(op(x) / 6 for k, op in enumerate(mixed.candidates) if k != pool_index)
    torch.testing.assert_close(out, expected)


def test_mixed_op_all_skipped_returns_zeros():
    mixed = MixedOp(3, 2, CPU_OPERATIONS)
    out = mixed(torch.randn(2, 3, 7, 7), torch.zeros(6))
    assert torch.equal(out, torch.zeros(2, 3, 4, 4))


def test_mixed_op_rejects_bad_weights():
    mixed = MixedOp(2, 1, CPU_OPERATIONS)
    x = torch.randn(1, 2, 4, 4)
    with pytest.raises(ValueError, match=r"weights has shape \(4,\), expected \(6,\)"):
        mixed(x, torch.ones(4))
    with pytest.raises(TypeError, match="mask must have dtype torch.bool"):
        mixed(x, torch.ones(6), torch.ones(6))


@pytest.mark.parametrize("reduction, reduction_prev, s0_size, out_size", [
    (False, False, 6, 6),
    (True, False, 6, 3),
    (False, True, 11, 6),     # s0 came before a reduction: ceil(11 / 2) = 6
    (True, True, 11, 3),
])
def test_search_cell_output_shape(reduction, reduction_prev, s0_size, out_size):
    torch.manual_seed(0)
    cell = SearchCell(steps=3, multiplier=2, C_prev_prev=5, C_prev=4, C=3,
                      reduction=reduction, reduction_prev=reduction_prev,
                      operations=SMALL_OPS)
    assert cell.num_edges == 2 + 3 + 4
    weights = torch.softmax(torch.randn(9, 4), dim=-1)
    out = cell(torch.randn(2, 5, s0_size, s0_size), torch.randn(2, 4, 6, 6), weights)
    assert tuple(out.shape) == (2, 2 * 3, out_size, out_size)


def test_search_cell_edge_strides():
    cell = SearchCell(3, 3, 4, 4, 4, reduction=True, reduction_prev=False, operations=SMALL_OPS)
    # Per node: edges from the two cell inputs first, then from earlier intermediate nodes.
    expected = [2, 2, 2, 2, 1, 2, 2, 1, 1]
    assert [edge.stride for edge in cell.edges] == expected


def test_search_cell_rejects_bad_weights():
    cell = SearchCell(2, 2, 3, 3, 3, reduction=False, reduction_prev=False,
                      operations=SMALL_OPS)
    s = torch.randn(1, 3, 4, 4)
    with pytest.raises(ValueError, match=r"weights has shape \(5, 3\), expected \(5, 4\)"):
        cell(s, s, torch.ones(5, 3))
    with pytest.raises(ValueError, match="multiplier must be <= 2, got 3"):
        SearchCell(2, 3, 3, 3, 3, reduction=False, reduction_prev=False)


# --- genotype ------------------------------------------------------------------------------


def test_count_edges():
    assert count_edges(1) == 2
    assert count_edges(2) == 5
    assert count_edges(4) == 14
    with pytest.raises(ValueError, match="steps must be >= 1, got 0"):
        count_edges(0)


def hand_alpha() -> np.ndarray:
    """Logits for steps=3 over SMALL_OPS whose genotype is worked out by hand below.

    Columns: none, skip_connect, sep_conv_3x3, max_pool_3x3. Edge strengths are
    the softmax weight of the edge's best operation other than "none".
    """
    alpha = np.zeros((9, 4))
    # Node 2 (edges 0, 1 from nodes 0, 1): both edges are kept.
    alpha[0] = [0, 0, 2, 0]       # sep_conv_3x3
    alpha[1] = [5, 0, 0, 1]       # "none" is largest and ignored -> max_pool_3x3
    # Node 3 (edges 2, 3, 4 from nodes 0, 1, 2).
    alpha[2] = [6, 1, 0, 0]       # skip: e / (e^6 + e + 2) = 0.007, dropped
    alpha[3] = [0, 3, 0, 0]       # skip: e^3 / (e^3 + 3) = 0.870, strongest
    alpha[4] = [0, 0, 2, 0]       # sep: e^2 / (e^2 + 3) = 0.711, second
    # Node 4 (edges 5 ... 8 from nodes 0, 1, 2, 3).
    alpha[5] = [0, 0, 0, 4]       # max_pool: e^4 / (e^4 + 3) = 0.948, strongest
    alpha[6] = [0, 0, 0, 0]       # every operation 0.25, dropped
    alpha[7] = [10, 0, 0, 0]      # best non-none 1 / (e^10 + 3) ~ 0, dropped
    alpha[8] = [0, 0, 1, 0]       # sep: e / (e + 3) = 0.475, second
    return alpha


HAND_GENES = (
    ("sep_conv_3x3", 0), ("max_pool_3x3", 1),
    ("skip_connect", 1), ("sep_conv_3x3", 2),
    ("max_pool_3x3", 0), ("sep_conv_3x3", 3),
)


def test_derive_genotype_hand_set_alpha():
    alpha = hand_alpha()
    # The reduce logits swap the skip_connect and max_pool_3x3 columns, so those
    # two operations trade places in the expected genes.
    alpha_reduce = alpha[:, [0, 3, 2, 1]]
    genotype = derive_genotype(alpha, alpha_reduce, SMALL_OPS, steps=3)

    assert genotype.normal == HAND_GENES
    expected_reduce = tuple(
        ({"max_pool_3x3": "skip_connect", "skip_connect": "max_pool_3x3"}.get(op, op), source)
        for op, source in HAND_GENES)
    assert genotype.reduce == expected_reduce
    assert genotype.normal_concat == (2, 3, 4)
    assert genotype.reduce_concat == (2, 3, 4)


def test_derive_genotype_ranks_by_softmax():
    alpha = np.zeros((5, 4))
    # Node 3: raw logits would rank edge 2 first (3 > 2 > 1.5), but softmax
    # strengths are 0.328 (edge 2, three-way tie), 0.711 (edge 3), 0.599 (edge 4).
    alpha[2] = [0, 3, 3, 3]
    alpha[3] = [0, 2, 0, 0]
    alpha[4] = [0, 0, 0, 1.5]
    genotype = derive_genotype(torch.tensor(alpha, requires_grad=True), alpha, SMALL_OPS,
                               steps=2)
    assert genotype.normal[2:] == (("skip_connect", 1), ("max_pool_3x3", 2))


def test_derive_genotype_breaks_ties_by_order():
    genotype = derive_genotype(np.zeros((5, 4)), np.zeros((5, 4)), SMALL_OPS, steps=2,
                               multiplier=1)
    # Equal weights: the lower input nodes win, and the first non-none operation.
    assert genotype.normal == (("skip_connect", 0), ("skip_connect", 1),
                               ("skip_connect", 0), ("skip_connect", 1))
    assert genotype.normal_concat == (3,)


def test_derive_genotype_masked_logits():
    alpha = np.zeros((2, 4))
    alpha[0, [2, 3]] = -np.inf                   # only none and skip_connect remain
    genotype = derive_genotype(alpha, np.zeros((2, 4)), SMALL_OPS, steps=1)
    assert genotype.normal[0] == ("skip_connect", 0)

    alpha[1, 1:] = -np.inf                        # edge 1 may only be "none"
    with pytest.raises(ValueError, match="node 2 has 1 incoming edge"):
        derive_genotype(alpha, np.zeros((2, 4)), SMALL_OPS, steps=1)


@pytest.mark.parametrize("alpha, error, message", [
    (np.zeros((14, 4)), ValueError, r"alpha_normal has shape \(14, 4\), expected \(5, 4\)"),
    (np.zeros(20), ValueError, r"alpha_normal has shape \(20,\), expected \(5, 4\)"),
    (np.full((5, 4), np.nan), ValueError, "contains NaN or \\+inf"),
    (np.full((5, 4), -np.inf), ValueError, r"rows \[0, 1, 2, 3, 4\] are -inf"),
    ([["a"] * 4] * 5, TypeError, "must be an array of real numbers"),
])
def test_derive_genotype_rejects_bad_alpha(alpha, error, message):
    with pytest.raises(error, match=message):
        derive_genotype(alpha, np.zeros((5, 4)), SMALL_OPS, steps=2)


def test_derive_genotype_checks_reduce_shape():
    with pytest.raises(ValueError, match=r"alpha_reduce has shape \(5, 3\)"):
        derive_genotype(np.zeros((5, 4)), np.zeros((5, 3)), SMALL_OPS, steps=2)


def test_genotype_dict_round_trip():
    genotype = Genotype(normal=HAND_GENES, normal_concat=(2, 3, 4),
                        reduce=[["skip_connect", 1], ["sep_conv_3x3", 0]] + list(HAND_GENES[2:]),
                        reduce_concat=[3, 4])
    restored = Genotype.from_dict(json.loads(json.dumps(genotype.to_dict())))
    assert restored == genotype
    assert restored.reduce[0] == ("skip_connect", 1)
    assert restored.reduce_concat == (3, 4)
    assert restored.steps == 3


def test_genotype_describe():
    genotype = Genotype(normal=HAND_GENES, normal_concat=(2, 3, 4),
                        reduce=HAND_GENES, reduce_concat=(4,))
    lines = genotype.describe().splitlines()
    assert lines[0] == "normal cell, output = concat(node 2, node 3, node 4):"
    assert lines[1] == "  node 2 = sep_conv_3x3(c_{k-2}) + max_pool_3x3(c_{k-1})"
    assert lines[3] == "  node 4 = max_pool_3x3(c_{k-2}) + sep_conv_3x3(node 3)"
    assert lines[4] == "reduce cell, output = concat(node 4):"
    assert len(lines) == 8


@pytest.mark.parametrize("fields, error, message", [
    ({"normal": HAND_GENES[:3]}, ValueError, "got 3 pairs"),
    ({"normal": (("none", 0), ("skip_connect", 1))}, ValueError, "has the operation 'none'"),
    ({"normal": (("skip_connect", 0), ("skip_connect", 2))}, ValueError,
     r"normal\[1\] input node must be <= 1, got 2"),
    ({"normal_concat": (2, 5)}, ValueError, "normal_concat node must be <= 3, got 5"),
    ({"normal_concat": (2, 2)}, ValueError, "duplicate nodes"),
    ({"reduce": HAND_GENES}, ValueError, "normal has 2 intermediate nodes but reduce has 3"),
])
def test_genotype_rejects_bad_fields(fields, error, message):
    valid = dict(normal=HAND_GENES[:4], normal_concat=(2, 3), reduce=HAND_GENES[:4],
                 reduce_concat=(2, 3))
    valid.update(fields)
    with pytest.raises(error, match=message):
        Genotype(**valid)


def test_genotype_from_dict_rejects_missing_key():
    with pytest.raises(ValueError, match=r"missing \['reduce_concat'\]"):
        Genotype.from_dict({"normal": HAND_GENES, "normal_concat": [2],
                            "reduce": HAND_GENES})
    with pytest.raises(TypeError, match="data must be a mapping"):
        Genotype.from_dict([HAND_GENES])


# --- supernet ------------------------------------------------------------------------------


def test_supernet_mnist_shapes():
    net = small_supernet()
    assert net.reduction_layers == (1, 2)
    cell_outputs = []
    for cell in net.cells:
        cell.register_forward_hook(lambda _m, _i, out: cell_outputs.append(tuple(out.shape)))

    logits = net(torch.randn(2, 1, 28, 28))

    assert tuple(logits.shape) == (2, 3)
    # Cell channels C = 2 double at each reduction, and each output concatenates 2 nodes.
    assert cell_outputs == [(2, 4, 28, 28), (2, 8, 14, 14), (2, 16, 7, 7)]


def test_supernet_digits_shapes():
    net = small_supernet(num_classes=10, layers=4, operations=SMALL_OPS)
    assert net.reduction_layers == (1, 2)
    logits = net(torch.randn(3, 1, 8, 8))
    assert tuple(logits.shape) == (3, 10)
    assert tuple(net.alpha_normal.shape) == (5, 4)
    assert tuple(net.alpha_reduce.shape) == (5, 4)


def test_supernet_default_alpha_shape():
    net = Supernet(C=1, layers=1, stem_multiplier=1, seed=0)
    assert tuple(net.alpha_normal.shape) == (14, 8)
    assert net.reduction_layers == (0,)
    assert tuple(net(torch.randn(1, 3, 3, 3)).shape) == (1, 10)


def test_supernet_parameter_groups():
    net = small_supernet()
    arch = net.arch_parameters()
    weights = net.weights()
    assert arch[0] is net.alpha_normal
    assert arch[1] is net.alpha_reduce
    assert not any(w is a for w in weights for a in arch)
    assert len(weights) + 2 == len(list(net.parameters()))


def test_supernet_gradients_reach_both_groups():
    net = small_supernet()
    net(torch.randn(2, 1, 8, 8)).pow(2).sum().backward()
    assert net.alpha_normal.grad is not None
    assert net.alpha_normal.grad.abs().sum() > 0
    assert net.alpha_reduce.grad.abs().sum() > 0
    assert net.classifier.weight.grad.abs().sum() > 0


def test_supernet_seed_reproducible():
    global_state = torch.random.get_rng_state()
    first = small_supernet(seed=7)
    assert torch.equal(torch.random.get_rng_state(), global_state)
    second = small_supernet(seed=7)
    other = small_supernet(seed=8)

    assert torch.equal(first.alpha_normal, second.alpha_normal)
    assert torch.equal(first.alpha_reduce, second.alpha_reduce)
    assert torch.equal(first.stem[0].weight, second.stem[0].weight)
    assert not torch.equal(first.alpha_normal, other.alpha_normal)
    assert not torch.equal(first.alpha_normal, first.alpha_reduce)
    assert 0 < first.alpha_normal.abs().max().item() < 1e-2


def test_supernet_unseeded_stores_seed():
    net = small_supernet(seed=None)
    again = small_supernet(seed=net.seed)
    assert torch.equal(net.alpha_normal, again.alpha_normal)


def test_mixing_weights_temperature():
    net = small_supernet(operations=SMALL_OPS)
    with torch.no_grad():
        net.alpha_normal.copy_(torch.tensor([[0.0, 1.0, 2.0, 3.0]] * 5))
    weights = net.mixing_weights(temperature=0.5)["normal"]
    exps = [math.exp(value / 0.5) for value in (0.0, 1.0, 2.0, 3.0)]
    expected = torch.tensor([value / sum(exps) for value in exps])
    torch.testing.assert_close(weights[0], expected)


def test_mask_forbids_and_pins():
    net = small_supernet(operations=SMALL_OPS)
    with torch.no_grad():
        net.alpha_normal.copy_(torch.tensor([[0.0, 1.0, 2.0, 3.0]] * 5))
    mask = torch.ones(5, 4, dtype=torch.bool)
    mask[0, 3] = False                            # forbid max_pool_3x3 on edge 0
    mask[1] = torch.tensor([False, False, True, False])   # pin edge 1 to sep_conv_3x3

    weights = net.mixing_weights(edge_masks={"normal": mask})

    normal = weights["normal"]
    assert normal[0, 3].item() == 0.0
    # The softmax runs over the remaining logits 0, 1, 2.
    expected = torch.tensor([1.0, math.e, math.e ** 2, 0.0]) / (1 + math.e + math.e ** 2)
    torch.testing.assert_close(normal[0], expected)
    assert normal[1].tolist() == [0.0, 0.0, 1.0, 0.0]
    torch.testing.assert_close(normal.sum(dim=1), torch.ones(5))
    assert (weights["reduce"] > 0).all()


def test_forward_skips_forbidden_operation():
    net = small_supernet(operations=SMALL_OPS)
    normal_cell = net.cells[0]
    pool = SMALL_OPS.index("max_pool_3x3")
    calls = count_calls(normal_cell.edges[0].candidates[pool])
    net(torch.randn(1, 1, 8, 8))
    assert calls[0] == 1

    mask = torch.ones(5, 4, dtype=torch.bool)
    mask[0, pool] = False
    net(torch.randn(1, 1, 8, 8), edge_masks={"normal": mask})
    assert calls[0] == 1


def test_pinned_forward_ignores_logits():
    net = small_supernet(operations=SMALL_OPS).eval()
    x = torch.randn(2, 1, 8, 8)
    pin = SMALL_OPS.index("sep_conv_3x3")
    mask = torch.zeros(5, 4, dtype=torch.bool)
    mask[:, pin] = True
    pinned = net(x, edge_masks={"normal": mask, "reduce": mask})
    # With every edge pinned the logits no longer matter.
    with torch.no_grad():
        net.alpha_normal.normal_()
        net.alpha_reduce.normal_()
    torch.testing.assert_close(net(x, edge_masks={"normal": mask, "reduce": mask}), pinned)


def test_supernet_genotype_follows_alpha_and_pins():
    net = small_supernet(layers=2, steps=3, multiplier=2, operations=SMALL_OPS)
    with torch.no_grad():
        net.alpha_normal.copy_(torch.tensor(hand_alpha()))
    genotype = net.genotype()
    assert genotype.normal == HAND_GENES
    assert genotype.normal_concat == (3, 4)

    mask = torch.zeros(9, 4, dtype=torch.bool)
    mask[:, SMALL_OPS.index("skip_connect")] = True
    pinned = net.genotype(edge_masks={"reduce": mask})
    assert {op for op, _ in pinned.reduce} == {"skip_connect"}
    assert pinned.normal == HAND_GENES


@pytest.mark.parametrize("shape, message", [
    ((1, 8, 8), r"x has shape \(1, 8, 8\), expected a 4-D image batch .*non-image"),
    ((2, 64), r"x has shape \(2, 64\), expected a 4-D"),
    ((2, 3, 8, 8), r"x has 3 channels .*in_channels=3"),
    ((2, 1, 4, 4), r"4 x 4 pixels .*2 reduction cell\(s\) needs H and W >= 5"),
    ((2, 1, 28, 4), r"28 x 4 pixels"),
    ((0, 1, 8, 8), "empty batch"),
])
def test_supernet_rejects_bad_input(shape, message):
    net = small_supernet()
    with pytest.raises(ValueError, match=message):
        net(torch.randn(*shape))


def test_supernet_rejects_bad_input_types():
    net = small_supernet()
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        net(np.zeros((1, 1, 8, 8), dtype=np.float32))
    with pytest.raises(TypeError, match="floating dtype"):
        net(torch.zeros(1, 1, 8, 8, dtype=torch.long))


@pytest.mark.parametrize("edge_masks, error, message", [
    ({"normal": torch.ones(4, 6, dtype=torch.bool)}, ValueError,
     r"edge_masks\['normal'\] has shape \(4, 6\), expected \(5, 6\)"),
    ({"normal": torch.ones(5, 6)}, TypeError, "must have dtype bool"),
    ({"reduce": torch.zeros(5, 6, dtype=torch.bool)}, ValueError,
     r"forbids every operation on edges \[0, 1, 2, 3, 4\]"),
    ({"cells": torch.ones(5, 6, dtype=torch.bool)}, ValueError, r"unknown keys \['cells'\]"),
    (torch.ones(5, 6, dtype=torch.bool), TypeError, "edge_masks must be None or a mapping"),
])
def test_supernet_rejects_bad_masks(edge_masks, error, message):
    net = small_supernet()
    with pytest.raises(error, match=message):
        net(torch.randn(1, 1, 8, 8), edge_masks=edge_masks)


@pytest.mark.parametrize("settings, error, message", [
    ({"operations": ("sep_conv_3x3", "conv_1x1")}, ValueError, "unknown operation 'conv_1x1'"),
    ({"operations": ()}, ValueError, "operations is empty"),
    ({"multiplier": 3}, ValueError, "multiplier must be <= 2, got 3"),
    ({"in_channels": 0}, ValueError, "in_channels must be >= 1, got 0"),
    ({"seed": -1}, ValueError, "seed must be >= 0, got -1"),
    ({"C": 2.5}, TypeError, "C must be an integer"),
])
def test_supernet_rejects_bad_settings(settings, error, message):
    with pytest.raises(error, match=message):
        small_supernet(**settings)


def test_supernet_rejects_bad_temperature():
    net = small_supernet()
    with pytest.raises(ValueError, match="temperature must be > 0.0, got 0.0"):
        net(torch.randn(1, 1, 8, 8), temperature=0.0)


def test_derive_genotype_survives_underflow():
    # "none" 800 above every other logit: their softmax weights underflow to 0,
    # but they are not masked, so the ranking by the other logits still holds.
    alpha = np.zeros((count_edges(2), len(CPU_OPERATIONS)))
    alpha[:, CPU_OPERATIONS.index("none")] = 800.0
    alpha[:, CPU_OPERATIONS.index("sep_conv_3x3")] = 1.0
    genotype = derive_genotype(alpha, alpha, CPU_OPERATIONS, steps=2)
    assert all(operation == "sep_conv_3x3" for operation, _ in genotype.normal)
    assert [source for _, source in genotype.normal] == [0, 1, 0, 1]
