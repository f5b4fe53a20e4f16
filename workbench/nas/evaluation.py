"""Training a derived genotype from scratch, and random genotypes as a baseline.

Liu, Simonyan & Yang, "DARTS: Differentiable Architecture Search", ICLR 2019,
section 3.2: the cells found by the search are stacked into a larger network
whose weights are trained from scratch, and its test accuracy measures the
architecture. A random genotype trained the same way is the baseline that a
search has to beat.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from workbench.core.validation import check_float, check_int, check_seed
from workbench.nas.darts import (
    WEIGHT_DECAY,
    WEIGHT_MOMENTUM,
    check_device,
    check_images,
    check_labels,
    resolve_operations,
)
from workbench.nas.genotype import Genotype
from workbench.nas.operations import FactorizedReduce, ReLUConvBN, build_operation

logger = logging.getLogger(__name__)


class GenotypeCell(nn.Module):
    """A discrete cell: every intermediate node sums the 2 operations its genotype keeps.

    Parameters
    ----------
    genotype : Genotype
    C_prev_prev, C_prev : int
        Channels of the cell inputs s0 and s1.
    C : int
        Channels of every node inside the cell.
    reduction, reduction_prev : bool
        As in :class:`~workbench.nas.SearchCell`: a reduction cell uses stride 2
        on the operations that read the cell inputs.

    Shapes
    ------
    s0 : (batch, C_prev_prev, H0, W0), s1 : (batch, C_prev, H, W)
    output : (batch, len(concat) * C, H', W'), H' = ceil(H / 2) if reduction else H
    """

    def __init__(self, genotype: Genotype, C_prev_prev: int, C_prev: int, C: int,
                 reduction: bool, reduction_prev: bool) -> None:
        super().__init__()
        self.reduction = reduction
        self.genes = genotype.reduce if reduction else genotype.normal
        self.concat = genotype.reduce_concat if reduction else genotype.normal_concat
        if reduction_prev:
            self.preprocess0 = FactorizedReduce(C_prev_prev, C)
        else:
            self.preprocess0 = ReLUConvBN(C_prev_prev, C, 1, 1, 0)
        self.preprocess1 = ReLUConvBN(C_prev, C, 1, 1, 0)
        self.operations = nn.ModuleList(
            build_operation(name, C, 2 if reduction and source < 2 else 1, affine=True)
            for name, source in self.genes)

    def forward(self, s0: torch.Tensor, s1: torch.Tensor) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]    # 2 x (batch, C, H, W)
        for node in range(len(self.genes) // 2):
            total = 0
            for k in (2 * node, 2 * node + 1):
                source = self.genes[k][1]
                total = total + self.operations[k](states[source])
            states.append(total)                                 # (batch, C, H', W')
        return torch.cat([states[node] for node in self.concat], dim=1)


class GenotypeNetwork(nn.Module):
    """The stand-alone network of a genotype: stem, ``layers`` cells, pooling, classifier.

    The layout matches :class:`~workbench.nas.Supernet`: reduction cells sit at
    ``layers // 3`` and ``2 * layers // 3`` and double the channels.

    NOTE: the paper's evaluation network also uses an auxiliary classifier,
    drop-path and cutout. They are left out, so accuracies are not comparable
    with the paper's.
    """

    def __init__(self, genotype: Genotype, C: int, num_classes: int, layers: int,
                 in_channels: int, stem_multiplier: int = 3) -> None:
        super().__init__()
        C_stem = stem_multiplier * C
        self.stem = nn.Sequential(nn.Conv2d(in_channels, C_stem, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(C_stem))
        self.reduction_layers = tuple(sorted({layers // 3, 2 * layers // 3}))
        self.min_image_size = 2 ** len(self.reduction_layers) + 1

        C_prev_prev, C_prev, C_cell = C_stem, C_stem, C
        reduction_prev = False
        cells = []
        for layer in range(layers):
            reduction = layer in self.reduction_layers
            if reduction:
                C_cell *= 2
            cell = GenotypeCell(genotype, C_prev_prev, C_prev, C_cell, reduction,
                                reduction_prev)
            cells.append(cell)
            reduction_prev = reduction
            C_prev_prev, C_prev = C_prev, len(cell.concat) * C_cell
        self.cells = nn.ModuleList(cells)
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(C_prev, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s0 = s1 = self.stem(x)                                   # (batch, C_stem, H, W)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1)
        pooled = self.global_pooling(s1).flatten(start_dim=1)    # (batch, C_prev)
        return self.classifier(pooled)                           # (batch, num_classes)


def _check_genotype(genotype: Any) -> Genotype:
    if isinstance(genotype, Genotype):
        return genotype
    if isinstance(genotype, Mapping):
        return Genotype.from_dict(genotype)
    raise TypeError(f"genotype must be a Genotype or the dict of Genotype.to_dict(), got "
                    f"{type(genotype).__name__}.")


def evaluate_genotype(genotype: Genotype | Mapping[str, Any], x_train: Any, y_train: Any,
                      x_test: Any, y_test: Any, *, C: int = 16, layers: int = 8,
                      epochs: int = 10, seed: int = 0, batch_size: int = 64,
                      learning_rate: float = 0.025, grad_clip: float = 5.0,
                      stem_multiplier: int = 3, device: str | torch.device = "cpu") -> float:
    """Train ``genotype`` from scratch as a stand-alone network and return its test accuracy.

    Training uses SGD with momentum 0.9 and weight decay 3e-4, the learning
    rate annealed from ``learning_rate`` to 0 by a cosine schedule over the
    epochs, and gradient clipping at norm ``grad_clip``.

    Parameters
    ----------
    genotype : Genotype or dict
        For example ``Darts.snapshot().final_genotype``.
    x_train, x_test : torch.Tensor, float (n, channels, H, W)
    y_train, y_test : torch.Tensor, int (n,)
    C, layers, stem_multiplier : int
        Size of the network, see :class:`GenotypeNetwork`.
    epochs, batch_size : int
    seed : int
        Seeds the weights and the batch order.
    device : str or torch.device

    Returns
    -------
    float
        Fraction of test images classified correctly, in evaluation mode.
    """
    genotype = _check_genotype(genotype)
    x_train = check_images("x_train", x_train)
    x_test = check_images("x_test", x_test)
    if x_test.shape[1:] != x_train.shape[1:]:
        raise ValueError(f"x_test has images of shape {tuple(x_test.shape[1:])} but x_train has "
                         f"{tuple(x_train.shape[1:])}; pass the same (channels, H, W).")
    y_train = check_labels("y_train", y_train, len(x_train))
    y_test = check_labels("y_test", y_test, len(x_test))
    C = check_int("C", C, minimum=1)
    layers = check_int("layers", layers, minimum=1)
    epochs = check_int("epochs", epochs, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    learning_rate = check_float("learning_rate", learning_rate, minimum=0.0,
                                exclusive_minimum=True)
    grad_clip = check_float("grad_clip", grad_clip, minimum=0.0, exclusive_minimum=True)
    stem_multiplier = check_int("stem_multiplier", stem_multiplier, minimum=1)
    seed = check_seed("seed", seed) or 0
    device = check_device(device)
    num_classes = max(2, 1 + max(int(y_train.max()), int(y_test.max())))

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        network = GenotypeNetwork(genotype, C, num_classes, layers, x_train.shape[1],
                                  stem_multiplier).to(device)
    if min(x_train.shape[2:]) < network.min_image_size:
        raise ValueError(f"x_train has images of {x_train.shape[2]} x {x_train.shape[3]} "
                         f"pixels, but {len(network.reduction_layers)} reduction cell(s) need "
                         f"H and W >= {network.min_image_size}; use fewer layers or larger "
                         f"images.")

    optimizer = torch.optim.SGD(network.parameters(), lr=learning_rate, momentum=WEIGHT_MOMENTUM,
                                weight_decay=WEIGHT_DECAY)
    generator = torch.Generator().manual_seed(seed)
    x_train, y_train = x_train.to(device), y_train.to(device)
    network.train()
    for epoch in range(epochs):
        lr = learning_rate * 0.5 * (1.0 + math.cos(math.pi * epoch / epochs))
        for group in optimizer.param_groups:
            group["lr"] = lr
        order = torch.randperm(len(y_train), generator=generator).to(device)
        losses = []
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            loss = F.cross_entropy(network(x_train[rows]), y_train[rows])
            if not bool(torch.isfinite(loss)):
                raise FloatingPointError(f"the training loss became {float(loss)} in epoch "
                                         f"{epoch + 1}; lower learning_rate.")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(network.parameters(), grad_clip)
            optimizer.step()
            losses.append(float(loss.detach()))
        logger.debug("genotype training epoch %d: loss %.4f", epoch + 1, np.mean(losses))

    network.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(y_test), 256):
            logits = network(x_test[start:start + 256].to(device))
            correct += int((logits.argmax(dim=1).cpu() == y_test[start:start + 256]).sum())
    return correct / len(y_test)


def random_genotype(operations: str | Sequence[str] = "cpu", steps: int = 4, seed: int = 0,
                    multiplier: int | None = None) -> Genotype:
    """Draw a genotype uniformly at random, the baseline of an architecture search.

    Every intermediate node gets 2 distinct input nodes drawn uniformly from
    the earlier nodes, and each of its 2 edges an operation drawn uniformly from
    ``operations`` without "none". Both cell types are drawn independently.

    Parameters
    ----------
    operations : "cpu", "darts" or sequence of str
    steps : int
        Intermediate nodes per cell.
    seed : int
    multiplier : int or None
        The cell output concatenates the last ``multiplier`` nodes; None means all.
    """
    names = [name for name in resolve_operations(operations) if name != "none"]
    steps = check_int("steps", steps, minimum=1)
    multiplier = steps if multiplier is None else check_int("multiplier", multiplier,
                                                            minimum=1, maximum=steps)
    rng = np.random.default_rng(check_int("seed", seed, minimum=0))

    cells = []
    for _ in range(2):
        genes = []
        for node in range(steps):
            sources = rng.choice(2 + node, size=2, replace=False)
            for source in sources:
                genes.append((names[int(rng.integers(len(names)))], int(source)))
        cells.append(tuple(genes))
    concat = tuple(range(2 + steps - multiplier, 2 + steps))
    return Genotype(normal=cells[0], normal_concat=concat, reduce=cells[1], reduce_concat=concat)
