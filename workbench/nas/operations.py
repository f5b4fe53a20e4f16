"""Candidate operations on the edges of a DARTS cell.

Liu, Simonyan & Yang, "DARTS: Differentiable Architecture Search", ICLR 2019,
section 3.1 and appendix A.1.1: every edge of a cell chooses among 3x3 and 5x5
separable convolutions, 3x3 and 5x5 dilated separable convolutions, 3x3 max
pooling, 3x3 average pooling, identity and zero. Convolutions run in the order
ReLU-conv-BN, and each separable convolution is applied twice.

Every operation maps a (batch, C, H, W) tensor to (batch, C, H', W'), where
H' = H for stride 1 and H' = ceil(H / 2) for stride 2 (the same for W). Every
operation rounds up in the same way, so the outputs on one node's incoming edges
can be summed for odd sizes too (28 -> 14 -> 7 -> 4 for MNIST).
"""

from __future__ import annotations

import reprlib
from collections.abc import Callable, Iterable

import torch
import torch.nn.functional as F
from torch import nn

from workbench.core.validation import check_int

DARTS_OPERATIONS = (
    "none",
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "dil_conv_3x3",
    "dil_conv_5x5",
    "max_pool_3x3",
    "avg_pool_3x3",
)
"""The eight candidate operations of the DARTS search space."""

CPU_OPERATIONS = (
    "none",
    "skip_connect",
    "sep_conv_3x3",
    "dil_conv_3x3",
    "max_pool_3x3",
    "avg_pool_3x3",
)
"""A smaller preset for searches on a CPU: DARTS_OPERATIONS without the two 5x5 convolutions.

The 5x5 operations cost the most. At C = 16 and stride 1 the four convolutions
of DARTS_OPERATIONS take 3,168 multiply-adds per output pixel (depthwise plus
pointwise), and the two 3x3 convolutions kept here take 1,200, so each mixed
operation does about 2.6 times less convolution work. The preset keeps one
operation of every kind (zero, identity, both poolings, separable and dilated
convolution), so a search can still pick any kind of connection.
"""

PARAMETER_FREE = frozenset({"none", "skip_connect", "max_pool_3x3", "avg_pool_3x3"})
"""Operations without learnable weights at stride 1.

At stride 2, skip_connect becomes a factorized reduce with learnable 1x1 convolutions.
"""

POOLING_OPERATIONS = frozenset({"max_pool_3x3", "avg_pool_3x3"})
"""Operations that the supernet follows with a BatchNorm without affine parameters."""


class Zero(nn.Module):
    """The zero operation: all zeros, halving H and W at stride 2."""

    def __init__(self, stride: int) -> None:
        super().__init__()
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (batch, C, H, W) -> (batch, C, ceil(H / stride), ceil(W / stride))
        return x[:, :, ::self.stride, ::self.stride].mul(0.0)


class FactorizedReduce(nn.Module):
    """ReLU, two 1x1 convolutions with stride 2 on inputs offset by one pixel, concatenated, BN.

    The second convolution takes the input shifted by one row and one column, so
    the two halves of the output channels sample complementary pixel grids.
    Output shape: (batch, C_out, ceil(H / 2), ceil(W / 2)).

    NOTE: the shifted input is zero-padded by one row and column at the bottom
    and right, so both halves have ceil(H / 2) rows for odd H too. For even H
    this gives the same values as convolving ``x[:, :, 1:, 1:]``.
    """

    def __init__(self, C_in: int, C_out: int, affine: bool = True) -> None:
        super().__init__()
        self.relu = nn.ReLU(inplace=False)
        # An odd C_out gives the extra channel to the shifted half.
        self.conv_even = nn.Conv2d(C_in, C_out // 2, 1, stride=2, bias=False)
        self.conv_odd = nn.Conv2d(C_in, C_out - C_out // 2, 1, stride=2, bias=False)
        self.bn = nn.BatchNorm2d(C_out, affine=affine)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)                                         # (batch, C_in, H, W)
        shifted = F.pad(x, (0, 1, 0, 1))[:, :, 1:, 1:]           # (batch, C_in, H, W)
        out = torch.cat([self.conv_even(x), self.conv_odd(shifted)], dim=1)
        return self.bn(out)                                      # (batch, C_out, H', W')


class ReLUConvBN(nn.Sequential):
    """ReLU, convolution, BN: the preprocessing of a cell input."""

    def __init__(self, C_in: int, C_out: int, kernel_size: int, stride: int, padding: int,
                 affine: bool = True) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_out, kernel_size, stride=stride, padding=padding, bias=False),
            nn.BatchNorm2d(C_out, affine=affine),
        )


class DilConv(nn.Sequential):
    """ReLU, depthwise dilated convolution, pointwise convolution, BN."""

    def __init__(self, C_in: int, C_out: int, kernel_size: int, stride: int, padding: int,
                 dilation: int, affine: bool = True) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_in, kernel_size, stride=stride, padding=padding,
                      dilation=dilation, groups=C_in, bias=False),
            nn.Conv2d(C_in, C_out, 1, bias=False),
            nn.BatchNorm2d(C_out, affine=affine),
        )


class SepConv(nn.Sequential):
    """A separable convolution applied twice: two ReLU-depthwise-pointwise-BN blocks.

    Only the first block uses the stride, so the output has C_out channels at
    the strided size.
    """

    def __init__(self, C_in: int, C_out: int, kernel_size: int, stride: int, padding: int,
                 affine: bool = True) -> None:
        super().__init__(
            DilConv(C_in, C_in, kernel_size, stride, padding, dilation=1, affine=affine),
            DilConv(C_in, C_out, kernel_size, 1, padding, dilation=1, affine=affine),
        )


def _skip_connect(C: int, stride: int, affine: bool) -> nn.Module:
    if stride == 1:
        return nn.Identity()
    return FactorizedReduce(C, C, affine=affine)


# Each builder takes (C, stride, affine). Paddings keep H for stride 1 and give
# ceil(H / 2) for stride 2: padding = dilation * (kernel_size - 1) / 2.
_BUILDERS: dict[str, Callable[[int, int, bool], nn.Module]] = {
    "none": lambda C, stride, affine: Zero(stride),
    "max_pool_3x3": lambda C, stride, affine: nn.MaxPool2d(3, stride=stride, padding=1),
    "avg_pool_3x3": lambda C, stride, affine: nn.AvgPool2d(3, stride=stride, padding=1,
                                                           count_include_pad=False),
    "skip_connect": _skip_connect,
    "sep_conv_3x3": lambda C, stride, affine: SepConv(C, C, 3, stride, 1, affine=affine),
    "sep_conv_5x5": lambda C, stride, affine: SepConv(C, C, 5, stride, 2, affine=affine),
    "dil_conv_3x3": lambda C, stride, affine: DilConv(C, C, 3, stride, 2, 2, affine=affine),
    "dil_conv_5x5": lambda C, stride, affine: DilConv(C, C, 5, stride, 4, 2, affine=affine),
}


def check_operations(names: Iterable[str]) -> tuple[str, ...]:
    """Return ``names`` as a tuple after checking that it is a valid set of candidate operations.

    The names must come from ``DARTS_OPERATIONS``, without duplicates, and
    include at least one operation other than "none" (a genotype never uses
    "none"). "none" itself may be absent. The order is kept, because it is the
    column order of the architecture parameters.
    """
    if isinstance(names, str) or not isinstance(names, Iterable):
        raise TypeError(f"operations must be a sequence of operation names, got "
                        f"{reprlib.repr(names)} of type {type(names).__name__}; pass for "
                        f"example ('none', 'skip_connect', 'sep_conv_3x3').")
    names = tuple(names)
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"operations must contain strings, got {reprlib.repr(name)} of "
                            f"type {type(name).__name__}; pass names from DARTS_OPERATIONS.")
        if name not in _BUILDERS:
            raise ValueError(f"operations contains the unknown operation {name!r}; "
                             f"use names from {DARTS_OPERATIONS}.")
    if not names:
        raise ValueError("operations is empty; pass at least one operation name, for example "
                         "CPU_OPERATIONS.")
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"operations contains duplicates {duplicates} in {names}; "
                         f"list each operation once.")
    if all(name == "none" for name in names):
        raise ValueError(f"operations {names} contains only 'none'; add at least one other "
                         f"operation, because a genotype never uses 'none'.")
    return names


def build_operation(name: str, C: int, stride: int, affine: bool = True) -> nn.Module:
    """Build the candidate operation ``name`` for ``C`` channels.

    Parameters
    ----------
    name : str
        One of ``DARTS_OPERATIONS``.
    C : int
        Input and output channels.
    stride : int
        1 keeps H and W; 2 gives ceil(H / 2) and ceil(W / 2).
    affine : bool
        Give the BatchNorm layers learnable scale and shift. The supernet uses
        False, as in the DARTS search phase, so the architecture weights alone
        scale each operation's output.

    Returns
    -------
    torch.nn.Module
        Maps (batch, C, H, W) to (batch, C, H', W').
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {reprlib.repr(name)} of type "
                        f"{type(name).__name__}; pass one of {DARTS_OPERATIONS}.")
    if name not in _BUILDERS:
        raise ValueError(f"name {name!r} is not a known operation; pass one of "
                         f"{DARTS_OPERATIONS}.")
    C = check_int("C", C, minimum=1)
    stride = check_int("stride", stride, minimum=1, maximum=2)
    return _BUILDERS[name](C, stride, bool(affine))
