"""The DARTS supernet: a stack of search cells that share two sets of architecture logits.

Liu, Simonyan & Yang, "DARTS: Differentiable Architecture Search", ICLR 2019,
sections 2.1-2.2 and appendix A.1.1. A 3x3 convolution stem is followed by
``layers`` cells, where the cells at 1/3 and 2/3 of the depth are reduction
cells that halve H and W and double the channels. Global average pooling and a
linear classifier produce the logits. All normal cells share the logits
``alpha_normal`` and all reduction cells share ``alpha_reduce``, each of shape
(edges, operations). The mixing weights of an edge are
softmax(alpha / temperature) over its operations.

The network weights w and the architecture logits alpha are kept apart
(:meth:`Supernet.weights`, :meth:`Supernet.arch_parameters`) because DARTS
trains them on different data splits (bilevel optimization, not part of this
module).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from workbench.core.seeding import resolve_seed
from workbench.core.validation import check_float, check_int
from workbench.nas.cell import SearchCell
from workbench.nas.genotype import Genotype, count_edges, derive_genotype
from workbench.nas.operations import DARTS_OPERATIONS, check_operations

CELL_TYPES = ("normal", "reduce")
"""Keys of ``edge_masks`` and of :meth:`Supernet.mixing_weights`."""

ALPHA_INIT_SCALE = 1e-3
"""Standard deviation of the initial architecture logits, so all operations start almost equal."""


class Supernet(nn.Module):
    """The DARTS search network over a cell search space.

    Parameters
    ----------
    C : int
        Channels of the first cell's nodes, doubled at each reduction cell.
    num_classes : int
        Number of output classes.
    layers : int
        Number of cells. Cells ``layers // 3`` and ``2 * layers // 3`` are
        reduction cells (one reduction cell when both are the same cell).
    steps : int
        Intermediate nodes per cell.
    multiplier : int
        How many of the last intermediate nodes a cell output concatenates.
    stem_multiplier : int
        The stem convolution outputs ``stem_multiplier * C`` channels.
    operations : sequence of str
        Candidate operations of every edge, for example ``DARTS_OPERATIONS``
        or ``CPU_OPERATIONS``.
    in_channels : int
        Image channels: 1 for grayscale (MNIST, digits), 3 for RGB (CIFAR-10).
    seed : int or None
        Seeds the network weights and the architecture logits; None draws a
        fresh seed, stored in ``seed``. The global torch generator is left as
        it was.

    Attributes
    ----------
    alpha_normal, alpha_reduce : torch.nn.Parameter, shape (edges, operations)
        Architecture logits, initialized as ``1e-3 * randn``.
    num_edges : int
        Edges per cell, ``2 + 3 + ... + (steps + 1)``.
    reduction_layers : tuple of int
        Indices of the reduction cells.
    min_image_size : int
        The smallest accepted H and W. It leaves the last reduction cell a map
        of at least 2 x 2 pixels, so every BatchNorm in training mode gets more
        than one value per channel even for a batch of one image.

    Example
    -------
    >>> from workbench.nas import CPU_OPERATIONS, Supernet
    >>> net = Supernet(C=4, layers=3, steps=2, multiplier=2, operations=CPU_OPERATIONS,
    ...                in_channels=1, seed=0)
    >>> net(torch.randn(2, 1, 8, 8)).shape
    torch.Size([2, 10])
    >>> net.alpha_normal.shape
    torch.Size([5, 6])
    """

    def __init__(self, C: int = 16, num_classes: int = 10, layers: int = 8, steps: int = 4,
                 multiplier: int = 4, stem_multiplier: int = 3,
                 operations: Sequence[str] = DARTS_OPERATIONS, in_channels: int = 3,
                 seed: int | None = 0) -> None:
        super().__init__()
        self.C = check_int("C", C, minimum=1)
        self.num_classes = check_int("num_classes", num_classes, minimum=2)
        self.layers = check_int("layers", layers, minimum=1)
        self.steps = check_int("steps", steps, minimum=1)
        self.multiplier = check_int("multiplier", multiplier, minimum=1, maximum=self.steps)
        self.stem_multiplier = check_int("stem_multiplier", stem_multiplier, minimum=1)
        self.operations = check_operations(operations)
        self.in_channels = check_int("in_channels", in_channels, minimum=1)
        self.seed = resolve_seed(seed)

        self.num_edges = count_edges(self.steps)
        self.reduction_layers = tuple(sorted({self.layers // 3, 2 * self.layers // 3}))
        # Each reduction maps H to ceil(H / 2), and ceil(H / 2**r) >= 2 iff H >= 2**r + 1.
        self.min_image_size = 2 ** len(self.reduction_layers) + 1

        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            self._build_network()
            shape = (self.num_edges, len(self.operations))
            self.alpha_normal = nn.Parameter(ALPHA_INIT_SCALE * torch.randn(shape))
            self.alpha_reduce = nn.Parameter(ALPHA_INIT_SCALE * torch.randn(shape))

    def _build_network(self) -> None:
        C_stem = self.stem_multiplier * self.C
        self.stem = nn.Sequential(
            nn.Conv2d(self.in_channels, C_stem, 3, padding=1, bias=False),
            nn.BatchNorm2d(C_stem),
        )

        C_prev_prev, C_prev, C_cell = C_stem, C_stem, self.C
        reduction_prev = False
        cells = []
        for layer in range(self.layers):
            reduction = layer in self.reduction_layers
            if reduction:
                C_cell *= 2
            cells.append(SearchCell(self.steps, self.multiplier, C_prev_prev, C_prev, C_cell,
                                    reduction, reduction_prev, self.operations))
            reduction_prev = reduction
            C_prev_prev, C_prev = C_prev, self.multiplier * C_cell
        self.cells = nn.ModuleList(cells)

        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(C_prev, self.num_classes)

    def arch_parameters(self) -> list[nn.Parameter]:
        """Return the architecture logits ``[alpha_normal, alpha_reduce]``."""
        return [self.alpha_normal, self.alpha_reduce]

    def weights(self) -> list[nn.Parameter]:
        """Return the network weights: every parameter except the architecture logits.

        Note that ``parameters()`` returns both kinds, because both are registered.
        """
        arch_ids = {id(alpha) for alpha in self.arch_parameters()}
        return [parameter for parameter in self.parameters() if id(parameter) not in arch_ids]

    def check_edge_masks(self, edge_masks: Any) -> dict[str, torch.Tensor]:
        """Return ``edge_masks`` as bool tensors on the device of the logits, after validation.

        ``edge_masks`` is None or a mapping from "normal" and/or "reduce" to a
        bool array of shape (edges, operations). True allows an operation on an
        edge, False forbids it, and a row with a single True pins the edge to
        that operation. A missing cell type allows everything.
        """
        if edge_masks is None:
            return {}
        if not isinstance(edge_masks, Mapping):
            raise TypeError(f"edge_masks must be None or a mapping from 'normal'/'reduce' to a "
                            f"bool array, got {type(edge_masks).__name__}.")
        unknown = [key for key in edge_masks if key not in CELL_TYPES]
        if unknown:
            raise ValueError(f"edge_masks has unknown keys {unknown}; use 'normal' and/or "
                             f"'reduce'.")

        shape = (self.num_edges, len(self.operations))
        checked = {}
        for cell_type, mask in edge_masks.items():
            name = f"edge_masks[{cell_type!r}]"
            mask = torch.as_tensor(mask, device=self.alpha_normal.device)
            if mask.dtype != torch.bool:
                raise TypeError(f"{name} must have dtype bool (True allows an operation), got "
                                f"{mask.dtype}.")
            if tuple(mask.shape) != shape:
                raise ValueError(f"{name} has shape {tuple(mask.shape)}, expected {shape} "
                                 f"(edges, operations).")
            empty_rows = torch.nonzero(~mask.any(dim=1)).flatten().tolist()
            if empty_rows:
                raise ValueError(f"{name} forbids every operation on edges {empty_rows}; allow "
                                 f"at least one operation per edge.")
            checked[cell_type] = mask
        return checked

    def _masked_logits(self, masks: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Return each cell type's logits with forbidden operations set to -inf."""
        logits = {"normal": self.alpha_normal, "reduce": self.alpha_reduce}
        for cell_type, mask in masks.items():
            logits[cell_type] = logits[cell_type].masked_fill(~mask, float("-inf"))
        return logits

    def mixing_weights(self, temperature: float = 1.0,
                       edge_masks: Mapping[str, Any] | None = None) -> dict[str, torch.Tensor]:
        """Return softmax(alpha / temperature) per edge for "normal" and "reduce".

        Each value has shape (edges, operations) and rows that sum to 1.
        Forbidden operations get weight exactly 0. The result keeps the autograd
        graph to the logits.
        """
        temperature = check_float("temperature", temperature, minimum=0.0,
                                  exclusive_minimum=True)
        logits = self._masked_logits(self.check_edge_masks(edge_masks))
        return {cell_type: torch.softmax(logits[cell_type] / temperature, dim=-1)
                for cell_type in CELL_TYPES}

    def check_input(self, x: Any) -> torch.Tensor:
        """Return ``x`` after checking that it is a batch of images this supernet accepts."""
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x must be a torch.Tensor of shape (batch, {self.in_channels}, H, "
                            f"W), got {type(x).__name__}.")
        if not x.is_floating_point():
            raise TypeError(f"x must have a floating dtype, got {x.dtype}; convert it with "
                            f"x.float().")
        expected = f"(batch, {self.in_channels}, H, W)"
        if x.dim() != 4:
            raise ValueError(f"x has shape {tuple(x.shape)}, expected a 4-D image batch "
                             f"{expected}; non-image input shapes are not supported, so reshape "
                             f"flat rows to (batch, channels, H, W).")
        batch, channels, height, width = x.shape
        if batch < 1:
            raise ValueError(f"x has shape {tuple(x.shape)} with an empty batch; pass at least "
                             f"one image.")
        if channels != self.in_channels:
            raise ValueError(f"x has {channels} channels (shape {tuple(x.shape)}), expected "
                             f"{expected}; build the supernet with in_channels={channels} or "
                             f"convert the images.")
        if min(height, width) < self.min_image_size:
            raise ValueError(f"x has images of {height} x {width} pixels (shape "
                             f"{tuple(x.shape)}), but this supernet with "
                             f"{len(self.reduction_layers)} reduction cell(s) needs H and W >= "
                             f"{self.min_image_size}; pad or upsample the images, or use fewer "
                             f"layers.")
        return x

    def forward(self, x: torch.Tensor, temperature: float = 1.0,
                edge_masks: Mapping[str, Any] | None = None) -> torch.Tensor:
        """Return the class logits, shape (batch, num_classes), for images x.

        Parameters
        ----------
        x : torch.Tensor, shape (batch, in_channels, H, W)
            H and W must be at least ``min_image_size``.
        temperature : float
            Softmax temperature of the mixing weights; below 1 sharpens them.
        edge_masks : mapping or None
            Forbidden and pinned operations per cell type, see
            :meth:`check_edge_masks`.
        """
        x = self.check_input(x)
        masks = self.check_edge_masks(edge_masks)
        weights = self.mixing_weights(temperature, masks)

        s0 = s1 = self.stem(x)                                   # (batch, C_stem, H, W)
        for cell in self.cells:
            cell_type = "reduce" if cell.reduction else "normal"
            s0, s1 = s1, cell(s0, s1, weights[cell_type], masks.get(cell_type))
        pooled = self.global_pooling(s1).flatten(start_dim=1)    # (batch, C_prev)
        return self.classifier(pooled)                           # (batch, num_classes)

    def genotype(self, edge_masks: Mapping[str, Any] | None = None) -> Genotype:
        """Derive the current genotype from the logits; forbidden operations are never chosen."""
        logits = self._masked_logits(self.check_edge_masks(edge_masks))
        return derive_genotype(logits["normal"], logits["reduce"], self.operations,
                               self.steps, self.multiplier)
