"""The mixed operation and the search cell of the DARTS supernet.

Liu, Simonyan & Yang, "DARTS: Differentiable Architecture Search", ICLR 2019,
sections 2.1 and 2.2. A cell is a DAG of 2 input nodes (the outputs of the two
previous cells) and ``steps`` intermediate nodes. Every edge (i, j) is a mixed
operation, the weighted sum of all candidate operations

    o_bar(x) = sum_o w_o * o(x),    w = softmax(alpha_(i, j)),

each intermediate node sums its mixed operations over all earlier nodes, and
the cell output concatenates the last ``multiplier`` intermediate nodes on the
channel axis. Edge numbering follows :mod:`workbench.nas.genotype`.
"""

from __future__ import annotations

import reprlib
from collections.abc import Sequence

import torch
from torch import nn

from workbench.core.validation import check_int
from workbench.nas.genotype import count_edges
from workbench.nas.operations import (
    DARTS_OPERATIONS,
    POOLING_OPERATIONS,
    FactorizedReduce,
    ReLUConvBN,
    build_operation,
    check_operations,
)


def _check_weight_tensor(name: str, value: torch.Tensor, shape: tuple[int, ...],
                         boolean: bool) -> torch.Tensor:
    """Return ``value`` after checking that it is a tensor of ``shape`` (and of dtype bool)."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of shape {shape}, got "
                        f"{type(value).__name__}.")
    if tuple(value.shape) != shape:
        layout = "(edges, operations)" if len(shape) == 2 else "(operations,)"
        raise ValueError(f"{name} has shape {tuple(value.shape)}, expected {shape} {layout}.")
    if boolean and value.dtype != torch.bool:
        raise TypeError(f"{name} must have dtype torch.bool (True allows an operation), got "
                        f"{value.dtype}.")
    if not boolean and not value.is_floating_point():
        raise TypeError(f"{name} must have a floating dtype, got {value.dtype}.")
    return value


class MixedOp(nn.Module):
    """One edge of the supernet: the weighted sum of all candidate operations.

    Pooling operations are followed by a BatchNorm without affine parameters,
    and all BatchNorms have affine=False, so only the architecture weights
    scale the operations' outputs.

    Parameters
    ----------
    C : int
        Input and output channels.
    stride : int
        1 for a normal edge, 2 for an edge from a cell input of a reduction cell.
    operations : sequence of str
        Candidate operation names, see :func:`~workbench.nas.operations.check_operations`.
    """

    def __init__(self, C: int, stride: int, operations: Sequence[str] = DARTS_OPERATIONS,
                 ) -> None:
        super().__init__()
        self.operations = check_operations(operations)
        self.stride = check_int("stride", stride, minimum=1, maximum=2)
        C = check_int("C", C, minimum=1)

        candidates = []
        for name in self.operations:
            operation = build_operation(name, C, self.stride, affine=False)
            if name in POOLING_OPERATIONS:
                operation = nn.Sequential(operation, nn.BatchNorm2d(C, affine=False))
            candidates.append(operation)
        self.candidates = nn.ModuleList(candidates)

    def forward(self, x: torch.Tensor, weights: torch.Tensor,
                mask: torch.Tensor | None = None) -> torch.Tensor:
        """Return sum_o w_o * o(x), skipping every operation with weight 0 or mask False.

        Parameters
        ----------
        x : torch.Tensor, shape (batch, C, H, W)
        weights : torch.Tensor, shape (operations,)
            The mixing weights, usually a softmax of the edge's architecture logits.
        mask : torch.Tensor of bool, shape (operations,), or None
            False forbids an operation; a mask with one True pins the edge to it.

        Returns
        -------
        torch.Tensor, shape (batch, C, H', W')
            H' = H for stride 1 and ceil(H / 2) for stride 2. All zeros when
            every operation is skipped.

        NOTE: a skipped operation contributes no gradient. That is exact for a
        masked operation and for a zero softmax weight, because neither depends
        on the logits, but hand-set weights of exactly 0 get no gradient either.
        """
        count = len(self.candidates)
        weights = _check_weight_tensor("weights", weights, (count,), boolean=False)
        active = weights != 0
        if mask is not None:
            mask = _check_weight_tensor("mask", mask, (count,), boolean=True)
            active = active & mask.to(active.device)

        out = None
        for k in torch.nonzero(active).flatten().tolist():
            term = weights[k] * self.candidates[k](x)            # (batch, C, H', W')
            out = term if out is None else out + term
        if out is None:
            out = x[:, :, ::self.stride, ::self.stride].mul(0.0)
        return out


class SearchCell(nn.Module):
    """A DARTS search cell: preprocessed inputs, a DAG of mixed operations, concatenated output.

    Parameters
    ----------
    steps : int
        Number of intermediate nodes.
    multiplier : int
        How many of the last intermediate nodes the output concatenates, 1 ... steps.
    C_prev_prev, C_prev : int
        Channels of the two cell inputs s0 (from cell k-2) and s1 (from cell k-1).
    C : int
        Channels of every node inside the cell.
    reduction : bool
        A reduction cell: the edges leaving the two input nodes use stride 2,
        so the output has ceil(H / 2) x ceil(W / 2) pixels.
    reduction_prev : bool
        The previous cell was a reduction cell, so s0 has about twice the
        height and width of s1 and is preprocessed by a factorized reduce.
        Otherwise both inputs are preprocessed by ReLU-conv1x1-BN.
    operations : sequence of str
        Candidate operation names for every edge.

    Shapes
    ------
    s0 : (batch, C_prev_prev, H0, W0), with H0 = H, or ceil(H0 / 2) = H when reduction_prev
    s1 : (batch, C_prev, H, W)
    output : (batch, multiplier * C, H', W'), with H' = ceil(H / 2) if reduction else H
    """

    def __init__(self, steps: int, multiplier: int, C_prev_prev: int, C_prev: int, C: int,
                 reduction: bool, reduction_prev: bool,
                 operations: Sequence[str] = DARTS_OPERATIONS) -> None:
        super().__init__()
        self.steps = check_int("steps", steps, minimum=1)
        self.multiplier = check_int("multiplier", multiplier, minimum=1, maximum=self.steps)
        C_prev_prev = check_int("C_prev_prev", C_prev_prev, minimum=1)
        C_prev = check_int("C_prev", C_prev, minimum=1)
        C = check_int("C", C, minimum=1)
        self.reduction = bool(reduction)
        self.reduction_prev = bool(reduction_prev)
        self.operations = check_operations(operations)
        self.num_edges = count_edges(self.steps)

        if self.reduction_prev:
            self.preprocess0 = FactorizedReduce(C_prev_prev, C, affine=False)
        else:
            self.preprocess0 = ReLUConvBN(C_prev_prev, C, 1, 1, 0, affine=False)
        self.preprocess1 = ReLUConvBN(C_prev, C, 1, 1, 0, affine=False)

        edges = []
        for node in range(self.steps):
            for source in range(2 + node):
                stride = 2 if self.reduction and source < 2 else 1
                edges.append(MixedOp(C, stride, self.operations))
        self.edges = nn.ModuleList(edges)

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, weights: torch.Tensor,
                masks: torch.Tensor | None = None) -> torch.Tensor:
        """Compute the cell output from the two cell inputs.

        ``weights`` (float, shape (edges, operations)) are the mixing weights of
        every edge. ``masks`` (bool, same shape, or None) forbid operations edge
        by edge, as in :meth:`MixedOp.forward`. The class docstring gives the
        shapes of s0, s1 and the output.
        """
        shape = (self.num_edges, len(self.operations))
        weights = _check_weight_tensor("weights", weights, shape, boolean=False)
        if masks is not None:
            masks = _check_weight_tensor("masks", masks, shape, boolean=True)

        states = [self.preprocess0(s0), self.preprocess1(s1)]    # 2 x (batch, C, H, W)
        edge = 0
        for _ in range(self.steps):
            node = 0
            for state in states:
                mask = None if masks is None else masks[edge]
                node = node + self.edges[edge](state, weights[edge], mask)
                edge += 1
            states.append(node)                                  # (batch, C, H', W')
        return torch.cat(states[-self.multiplier:], dim=1)       # (batch, multiplier * C, H', W')

    def extra_repr(self) -> str:
        return (f"steps={self.steps}, multiplier={self.multiplier}, "
                f"reduction={self.reduction}, reduction_prev={self.reduction_prev}, "
                f"operations={reprlib.repr(self.operations)}")
