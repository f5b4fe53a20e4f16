"""DARTS architecture search as a steerable :class:`~workbench.core.Search`.

Liu, Simonyan & Yang, "DARTS: Differentiable Architecture Search", ICLR 2019,
section 2.3. The network weights w of the supernet are trained on a training
split and the architecture logits alpha on a validation split, alternating one
batch each. The architecture gradient is taken either at the current weights
(first order) or through one virtual SGD step of the weights (second order):

    w'       = w - xi * grad_w L_train(w, alpha)
    grad     = grad_alpha L_val(w', alpha)
               - xi * grad^2_{alpha, w} L_train(w, alpha) . grad_w' L_val(w', alpha)

The Hessian-vector product is approximated by a central finite difference,

    grad^2_{alpha, w} L_train(w, alpha) . v
        ~ (grad_alpha L_train(w+, alpha) - grad_alpha L_train(w-, alpha)) / (2 epsilon),
    w+- = w +- epsilon * v,    v = grad_w' L_val(w', alpha),    epsilon = 0.01 / ||v||,

so a second-order step costs two extra forward and backward passes instead of a
Hessian. The optimizers follow the paper's appendix A.1.1. The weights w use
SGD with momentum 0.9, weight decay 3e-4 and a cosine learning-rate schedule,
and alpha uses Adam with betas (0.5, 0.999) and weight decay 1e-3.

:class:`Darts` runs that loop step by step, so a panel can watch the mixing
weights of every edge and the derived genotype move. Steering pins or forbids
operations, resets an edge, changes the architecture learning rate or the
softmax temperature, or stops the search and derives the genotype.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from workbench.core import Search, steering
from workbench.core.validation import check_choice, check_float, check_int, check_seed
from workbench.nas.genotype import Genotype
from workbench.nas.operations import (
    CPU_OPERATIONS,
    DARTS_OPERATIONS,
    PARAMETER_FREE,
    check_operations,
)
from workbench.nas.supernet import CELL_TYPES, Supernet

logger = logging.getLogger(__name__)

WEIGHT_MOMENTUM = 0.9
WEIGHT_DECAY = 3e-4
ARCH_BETAS = (0.5, 0.999)
ARCH_WEIGHT_DECAY = 1e-3
HVP_EPSILON_SCALE = 0.01
"""epsilon = HVP_EPSILON_SCALE / ||grad_w' L_val(w', alpha)|| in the finite-difference product."""

COLLAPSE_SHARE = 0.5
"""Parameter-free share of the normal cell above which the snapshot warns of collapse."""

COLLAPSE_MARGIN = 0.01
"""How far the share must exceed its threshold, so that the nearly uniform start never warns.

The initial logits are 1e-3 * randn, which moves the share about 1e-4 from uniform.
"""

EVAL_CHUNK = 512
"""Validation images per forward pass when the fixed validation subset is scored."""

OPERATION_PRESETS = {"cpu": CPU_OPERATIONS, "darts": DARTS_OPERATIONS}
ORDERS = ("first", "second")

# Largest accepted Adam learning rate of alpha. One Adam update moves each logit by
# about the learning rate, and a step of 10 already saturates the softmax, while
# values near 1e300 overflow inside Adam.
MAX_ARCH_LR = 10.0


# --- data ---------------------------------------------------------------------------------


def resolve_operations(operations: Any) -> tuple[str, ...]:
    """Return the candidate operations for a preset name ("cpu", "darts") or a list of names."""
    if isinstance(operations, str):
        if operations not in OPERATION_PRESETS:
            raise ValueError(f"operations {operations!r} is not a preset; pass 'cpu', 'darts' "
                             f"or a list of names from {DARTS_OPERATIONS}.")
        return OPERATION_PRESETS[operations]
    return check_operations(operations)


def check_device(device: Any) -> torch.device:
    """Return ``device`` as a ``torch.device`` after checking that this machine has it."""
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"device {device!r} is not a torch device; pass 'cpu', or 'cuda' on a "
                         f"machine with a GPU.") from error
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} needs CUDA, but torch finds no GPU here; pass "
                         f"device='cpu'.")
    return resolved


def check_images(name: str, x: Any) -> torch.Tensor:
    """Return ``x`` as a float32 tensor of shape (n, channels, H, W) after validation.

    numpy arrays are converted; integer or boolean images are rejected, because
    their scale (0-255, 0-16) needs a deliberate conversion.
    """
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(x)
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor or numpy array of shape (n, channels, "
                        f"H, W), got {type(x).__name__}.")
    if not x.is_floating_point():
        raise TypeError(f"{name} must have a floating dtype, got {x.dtype}; scale the pixels "
                        f"and convert them, for example x.float() / 255.")
    if x.dim() != 4:
        raise ValueError(f"{name} has shape {tuple(x.shape)}, expected (n, channels, H, W); "
                         f"add the channel axis to grayscale images with x.unsqueeze(1).")
    if x.shape[0] < 1:
        raise ValueError(f"{name} has shape {tuple(x.shape)} with no images; pass at least one.")
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name} contains NaN or infinite values; pass finite pixel values.")
    return x.detach().to(torch.float32)


def check_labels(name: str, y: Any, n: int) -> torch.Tensor:
    """Return ``y`` as an int64 tensor of shape (n,) with labels >= 0 after validation."""
    if isinstance(y, np.ndarray):
        y = torch.from_numpy(y)
    if not isinstance(y, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor or numpy array of integer class labels, "
                        f"got {type(y).__name__}.")
    if y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
        raise TypeError(f"{name} must have an integer dtype (class indices), got {y.dtype}; "
                        f"convert it with y.long().")
    if tuple(y.shape) != (n,):
        raise ValueError(f"{name} has shape {tuple(y.shape)}, expected ({n},): one label per "
                         f"image.")
    if n and int(y.min()) < 0:
        raise ValueError(f"{name} contains the negative label {int(y.min())}; labels must be "
                         f"class indices 0, 1, 2, ...")
    return y.detach().to(torch.int64)


@dataclasses.dataclass(frozen=True, eq=False)
class ImageSplit:
    """Train, search-validation and held-out test images for an architecture search.

    Attributes
    ----------
    name : str
    x_train, x_val, x_test : torch.Tensor of float32, shape (n, channels, H, W)
        Standardized pixels: the training split's mean is subtracted and the
        result divided by its standard deviation (one value for all pixels).
    y_train, y_val, y_test : torch.Tensor of int64, shape (n,)
    description : str
        Where each split comes from.
    """

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    description: str

    @property
    def num_classes(self) -> int:
        """One more than the largest label in any split."""
        return 1 + max(int(y.max()) for y in (self.y_train, self.y_val, self.y_test))


def _standardized_split(name: str, images: np.ndarray, labels: np.ndarray, scale: float,
                        parts: Sequence[np.ndarray], description: str) -> ImageSplit:
    """Build an :class:`ImageSplit` from uint8 images (n, H, W) and three row index arrays."""
    pixels = images.astype(np.float32)[:, None] / scale           # (n, 1, H, W) in [0, 1]
    train_rows = parts[0]
    mean = float(pixels[train_rows].mean())
    std = float(pixels[train_rows].std()) or 1.0
    tensors = []
    for rows in parts:
        tensors.append(torch.from_numpy((pixels[rows] - mean) / std))
        tensors.append(torch.from_numpy(labels[rows].astype(np.int64)))
    return ImageSplit(name, *tensors, description=description)


def digits_split(seed: int = 0, *, test_fraction: float = 0.2) -> ImageSplit:
    """Split scikit-learn's 1,797 8x8 digits into train, search-validation and test images.

    A random ``test_fraction`` of the images is held out for testing, and the
    rest is halved into the training and the search-validation split, as DARTS
    halves the CIFAR-10 training set. Images have shape (1, 8, 8).
    """
    from workbench.data import load_digits

    seed = check_int("seed", seed, minimum=0)
    test_fraction = check_float("test_fraction", test_fraction, minimum=0.0, maximum=0.9,
                                exclusive_minimum=True)
    digits = load_digits()
    order = np.random.default_rng(seed).permutation(len(digits))
    n_test = max(1, round(test_fraction * len(order)))
    n_train = (len(order) - n_test + 1) // 2
    parts = [order[:n_train], order[n_train:len(order) - n_test], order[len(order) - n_test:]]
    description = (f"scikit-learn digits: {len(parts[0])} train, {len(parts[1])} search-"
                   f"validation, {len(parts[2])} test images (seed {seed})")
    return _standardized_split("digits", digits.images, digits.labels, 16.0, parts, description)


def mnist_split(seed: int = 0, n_train: int = 5000, n_val: int = 5000, *,
                n_test: int | None = None, download: bool = False) -> ImageSplit:
    """Draw MNIST train, search-validation and test images (shape (1, 28, 28)).

    With the 60,000 training images available, ``n_train`` and ``n_val``
    disjoint random images come from them and the test split is the official
    10,000 test images. Without them (no local copy and ``download=False``, or
    a failed download), the 10,000 test images are split three ways:
    ``n_train`` and ``n_val`` random images for the search and the remaining
    ones for testing. ``description`` states which case applied. ``n_test``
    keeps only that many random test images.
    """
    from workbench.data import DataNotFoundError, load_mnist

    seed = check_int("seed", seed, minimum=0)
    n_train = check_int("n_train", n_train, minimum=1)
    n_val = check_int("n_val", n_val, minimum=1)
    if n_test is not None:
        n_test = check_int("n_test", n_test, minimum=1)
    rng = np.random.default_rng(seed)
    test = load_mnist("test", download=download)
    try:
        train = load_mnist("train", download=download)
    except DataNotFoundError as error:
        logger.info("MNIST training images unavailable (%s); splitting the test images",
                    str(error).splitlines()[0])
        train = None

    if train is not None:
        if n_train + n_val > len(train):
            raise ValueError(f"n_train + n_val = {n_train + n_val} exceeds the {len(train)} "
                             f"MNIST training images; pass smaller sizes.")
        order = rng.permutation(len(train))
        test_rows = rng.permutation(len(test))[:n_test]
        images = np.concatenate([train.images, test.images])
        labels = np.concatenate([train.labels, test.labels])
        parts = [order[:n_train], order[n_train:n_train + n_val], len(train) + test_rows]
        source = "the training images for train and search-validation, the test images for test"
    else:
        available = len(test) - n_train - n_val
        if available < 1:
            raise ValueError(f"n_train + n_val = {n_train + n_val} leaves no test images out of "
                             f"the {len(test)} MNIST test images (the training images are "
                             f"unavailable); pass smaller sizes or provide the training images.")
        order = rng.permutation(len(test))
        test_rows = order[n_train + n_val:][:n_test]
        images, labels = test.images, test.labels
        parts = [order[:n_train], order[n_train:n_train + n_val], test_rows]
        source = "the 10,000 test images split three ways (training images unavailable)"
    description = (f"MNIST, {source}: {len(parts[0])} train, {len(parts[1])} search-validation, "
                   f"{len(parts[2])} test images (seed {seed})")
    return _standardized_split("mnist", images, labels, 255.0, parts, description)


# --- architecture gradient ----------------------------------------------------------------


def _loss(supernet: Supernet, batch: tuple[torch.Tensor, torch.Tensor], temperature: float,
          edge_masks: Any) -> torch.Tensor:
    x, y = batch
    return F.cross_entropy(supernet(x, temperature, edge_masks), y)


def _grads_or_zeros(loss: torch.Tensor, parameters: list[torch.Tensor]) -> list[torch.Tensor]:
    """Return d loss / d parameters, with zeros for parameters the loss does not use.

    Masked operations are skipped in the forward pass, so their weights get no gradient.
    """
    grads = torch.autograd.grad(loss, parameters, allow_unused=True)
    return [torch.zeros_like(p) if g is None else g for p, g in zip(parameters, grads)]


def arch_gradient(supernet: Supernet, train_batch: tuple[torch.Tensor, torch.Tensor],
                  val_batch: tuple[torch.Tensor, torch.Tensor], *, order: str = "first",
                  xi: float = 0.0, temperature: float = 1.0,
                  edge_masks: Any = None) -> tuple[list[torch.Tensor], float]:
    """Compute the DARTS architecture gradient for one training and one validation batch.

    Parameters
    ----------
    supernet : Supernet
        Its weights and BatchNorm running statistics are restored before
        returning, so the call leaves the network unchanged.
    train_batch, val_batch : (x, y)
        Images (batch, channels, H, W) and int64 labels (batch,). The first
        order uses only ``val_batch``.
    order : {"first", "second"}
        "first": grad_alpha L_val(w, alpha). "second": the unrolled gradient of
        the module docstring, with the finite-difference Hessian-vector product.
    xi : float
        Learning rate of the virtual step w' = w - xi * grad_w L_train(w, alpha).
    temperature, edge_masks
        Passed to :meth:`Supernet.forward`.

    Returns
    -------
    gradients : list of torch.Tensor
        The gradients of ``[alpha_normal, alpha_reduce]``, each (edges, operations).
    val_loss : float
        L_val at w (first order) or at w' (second order).

    NOTE: the virtual step is plain gradient descent, as in the paper's
    formula, without the momentum and weight decay of the real weight
    optimizer. And ReLU and max pooling have kinks that a weight step of
    0.01 crosses, so the finite difference measures an averaged curvature.
    On a tiny float64 ReLU supernet it differed from the exact local
    Hessian-vector product by 4 times the gradient's norm, with an error
    that grew as epsilon shrank. With smooth activations the error is
    O(epsilon^2).
    """
    check_choice("order", order, ORDERS)
    xi = check_float("xi", xi, minimum=0.0)
    supernet.train()
    weights = supernet.weights()
    alphas = supernet.arch_parameters()
    saved_weights = [w.detach().clone() for w in weights]
    saved_buffers = [b.detach().clone() for b in supernet.buffers()]
    try:
        if order == "first":
            loss = _loss(supernet, val_batch, temperature, edge_masks)
            return _grads_or_zeros(loss, alphas), float(loss.detach())

        # The virtual step w' = w - xi * grad_w L_train(w, alpha).
        train_loss = _loss(supernet, train_batch, temperature, edge_masks)
        train_grads = _grads_or_zeros(train_loss, weights)
        with torch.no_grad():
            for w, g in zip(weights, train_grads):
                w.sub_(xi * g)

        # grad_alpha L_val(w', alpha) and v = grad_w' L_val(w', alpha).
        val_loss = _loss(supernet, val_batch, temperature, edge_masks)
        grads = _grads_or_zeros(val_loss, alphas + weights)
        alpha_grads, v = grads[:len(alphas)], grads[len(alphas):]

        norm = torch.sqrt(sum((g * g).sum() for g in v))
        if not bool(norm > 0) or xi == 0.0:
            return alpha_grads, float(val_loss.detach())
        epsilon = HVP_EPSILON_SCALE / norm

        # grad_alpha L_train at w+ = w + epsilon * v and at w- = w - epsilon * v.
        sided = []
        for sign in (1.0, -1.0):
            with torch.no_grad():
                for w, w0, g in zip(weights, saved_weights, v):
                    w.copy_(w0 + sign * epsilon * g)
            sided.append(_grads_or_zeros(_loss(supernet, train_batch, temperature, edge_masks),
                                         alphas))
        gradients = [g - xi * (plus - minus) / (2 * epsilon)
                     for g, plus, minus in zip(alpha_grads, *sided)]
        return gradients, float(val_loss.detach())
    finally:
        with torch.no_grad():
            for w, w0 in zip(weights, saved_weights):
                w.copy_(w0)
            for b, b0 in zip(supernet.buffers(), saved_buffers):
                b.copy_(b0)


# --- the search ---------------------------------------------------------------------------


def edge_labels(steps: int) -> tuple[str, ...]:
    """Return a label per edge in supernet order, such as "node 3 <- c_{k-1}".

    Nodes are numbered as in :meth:`Genotype.describe`: c_{k-2} and c_{k-1} are
    the outputs of the previous-but-one and the previous cell, and the
    intermediate nodes are node 2, node 3, ...
    """
    labels = []
    for node in range(2, 2 + steps):
        for source in range(node):
            origin = {0: "c_{k-2}", 1: "c_{k-1}"}.get(source, f"node {source}")
            labels.append(f"node {node} <- {origin}")
    return tuple(labels)


def _read_only(array: np.ndarray) -> np.ndarray:
    array = np.array(array, copy=True)
    array.flags.writeable = False
    return array


@dataclasses.dataclass(frozen=True)
class DartsSnapshot:
    """Render-ready view of a :class:`Darts` search.

    Attributes
    ----------
    step : int
        Steps completed.
    batches_done, total_batches : int
        Training batches done so far and in the whole budget of ``epochs``.
    epoch : int
        Epochs completed.
    order : str
    operations : tuple of str
        Column labels of every (edges, operations) array.
    edge_labels : tuple of str
        Row labels, such as "node 3 <- c_{k-1}", see :func:`edge_labels`.
    weights : dict of str to ndarray, shape (edges, operations)
        softmax(alpha / temperature) per edge for "normal" and "reduce" now,
        with forbidden operations at 0.
    weights_history : dict of str to ndarray, shape (step + 1, edges, operations)
        The same after every step; index 0 is before the first step.
    genotype : Genotype
        Derived from the current logits and masks.
    genotype_history : tuple of Genotype
        The genotype after every step, index 0 before the first step.
    final_genotype : Genotype or None
        Recorded once the search is done.
    history : tuple of dict
        Per step: ``step``, ``epoch``, ``batches``, ``train_loss``,
        ``train_accuracy`` (means over the step's training batches),
        ``search_val_loss`` (mean over the architecture batches), ``val_loss``,
        ``val_accuracy`` (on the fixed validation subset, with batch statistics),
        ``weight_lr``, ``arch_lr``, ``xi``, ``temperature`` and ``seconds``.
    train_loss, train_accuracy, val_loss, val_accuracy : ndarray, shape (step,)
        The curves of ``history``.
    parameter_free_share : dict of str to float
        Per cell type, the mean over edges of the summed weight of the
        parameter-free operations (none, skip_connect, max_pool_3x3, avg_pool_3x3).
    parameter_free_baseline : dict of str to float
        The same share for uniform weights over the allowed operations.
    skip_connect_edges : int
        Kept edges of the normal genotype that use skip_connect.
    collapse_warning : bool
        True when skip_connect is on more than half of the normal genotype's
        kept edges, or the normal cell's parameter-free share exceeds
        max(COLLAPSE_SHARE, its uniform baseline) + COLLAPSE_MARGIN.
    pinned : dict of str to tuple of (str or None)
        Per cell type and edge, the pinned operation or None.
    forbidden : dict of str to ndarray of bool, shape (edges, operations)
        True where an operation is forbidden.
    masks : dict of str to ndarray of bool, shape (edges, operations)
        What forward and genotype derivation use: True allows an operation.
    temperature, arch_lr, weight_lr : float
        Current settings; ``weight_lr`` is the cosine-scheduled value of the
        next batch.
    nan : dict or None
        ``step``, ``batch`` (1-based, within the step), ``phase``
        ("architecture" or "weights") and ``loss`` of the batch whose loss or
        gradient became NaN or infinite. The state from before that batch is
        kept. Phase "validation" means every batch of the step stayed finite
        but the validation loss after it did not; the state after the step
        is kept then, and ``batch`` is the step's last batch.
    stop_reason : str or None
        "epochs", "stopped" or "nan" once done.
    """

    step: int
    batches_done: int
    total_batches: int
    epoch: int
    order: str
    operations: tuple[str, ...]
    edge_labels: tuple[str, ...]
    weights: dict[str, np.ndarray]
    weights_history: dict[str, np.ndarray]
    genotype: Genotype
    genotype_history: tuple[Genotype, ...]
    final_genotype: Genotype | None
    history: tuple[dict[str, float], ...]
    train_loss: np.ndarray
    train_accuracy: np.ndarray
    val_loss: np.ndarray
    val_accuracy: np.ndarray
    parameter_free_share: dict[str, float]
    parameter_free_baseline: dict[str, float]
    skip_connect_edges: int
    collapse_warning: bool
    pinned: dict[str, tuple[str | None, ...]]
    forbidden: dict[str, np.ndarray]
    masks: dict[str, np.ndarray]
    temperature: float
    arch_lr: float
    weight_lr: float
    nan: dict[str, Any] | None
    stop_reason: str | None


class _BatchFailed(Exception):
    """A loss or gradient of one batch became NaN or infinite."""

    def __init__(self, phase: str, loss: float) -> None:
        super().__init__(phase, loss)
        self.phase = phase
        self.loss = loss


class Darts(Search):
    """DARTS: search a cell architecture by gradient descent on a supernet.

    Parameters
    ----------
    x_train : torch.Tensor or ImageSplit
        Training images, float (n, channels, H, W). Or an :class:`ImageSplit`
        (from :func:`digits_split` or :func:`mnist_split`), in which case
        ``y_train``, ``x_val`` and ``y_val`` stay None.
    y_train : torch.Tensor
        int labels (n,).
    x_val, y_val : torch.Tensor
        The search-validation split that trains alpha, same image shape.
    operations : "cpu", "darts" or sequence of str, default "cpu"
        Candidate operations: ``CPU_OPERATIONS``, ``DARTS_OPERATIONS`` or a list.
    C, layers, steps, multiplier, stem_multiplier : int
        Supernet size, see :class:`~workbench.nas.Supernet`.
    batch_size : int, default 64
    batches_per_step : int or None, default None
        Batch pairs (architecture then weights) per step; None is one epoch.
    epochs : int, default 10
        Budget. One epoch is ceil(n_train / batch_size) batches.
    order : {"first", "second"}, default "first"
    weight_lr : float, default 0.025
        Initial SGD learning rate of w, annealed to 0 by a cosine schedule over
        the epochs (constant within an epoch).
    arch_lr : float, default 3e-4
        Adam learning rate of alpha.
    grad_clip : float or None, default 5.0
        Maximum norm of the weight gradient; None disables clipping.
    unrolled_xi : float or None, default None
        xi of the second-order virtual step; None uses the current weight learning rate.
    temperature : float, default 1.0
        Mixing weights are softmax(alpha / temperature).
    eval_size : int, default 512
        Size of the fixed random validation subset scored after every step.
    num_classes : int or None
        None uses one more than the largest label.
    device : str or torch.device, default "cpu"
    seed : int, default 0
        Seeds the supernet and the batch order, so a seed repeats a run exactly on the CPU.

    Example
    -------
    >>> search = Darts(digits_split(0), C=4, layers=3, steps=2, multiplier=2, epochs=1,
    ...                batches_per_step=2)                          # doctest: +SKIP
    >>> while not search.done:                                      # doctest: +SKIP
    ...     _ = search.step()
    >>> print(search.snapshot().final_genotype.describe())          # doctest: +SKIP
    """

    def __init__(self, x_train: Any, y_train: Any = None, x_val: Any = None, y_val: Any = None,
                 *, operations: str | Sequence[str] = "cpu", C: int = 8, layers: int = 5,
                 steps: int = 4, multiplier: int = 4, stem_multiplier: int = 3,
                 batch_size: int = 64, batches_per_step: int | None = None, epochs: int = 10,
                 order: str = "first", weight_lr: float = 0.025, arch_lr: float = 3e-4,
                 grad_clip: float | None = 5.0, unrolled_xi: float | None = None,
                 temperature: float = 1.0, eval_size: int = 512, num_classes: int | None = None,
                 device: str | torch.device = "cpu", seed: int = 0) -> None:
        super().__init__()
        x_train, y_train, x_val, y_val = self._unpack_data(x_train, y_train, x_val, y_val)
        self.operations = resolve_operations(operations)
        self.order = check_choice("order", order, ORDERS)
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.epochs = check_int("epochs", epochs, minimum=1)
        self.weight_lr = check_float("weight_lr", weight_lr, minimum=0.0, exclusive_minimum=True)
        self.arch_lr = check_float("arch_lr", arch_lr, minimum=0.0, maximum=MAX_ARCH_LR)
        self.grad_clip = None if grad_clip is None else check_float(
            "grad_clip", grad_clip, minimum=0.0, exclusive_minimum=True)
        self.unrolled_xi = None if unrolled_xi is None else check_float(
            "unrolled_xi", unrolled_xi, minimum=0.0)
        self.temperature = check_float("temperature", temperature, minimum=0.0,
                                       exclusive_minimum=True)
        eval_size = check_int("eval_size", eval_size, minimum=1)
        seed = check_seed("seed", seed)
        self.seed = 0 if seed is None else seed
        self.device = check_device(device)

        labels_max = max(int(y_train.max()), int(y_val.max()))
        if num_classes is None:
            num_classes = max(2, labels_max + 1)
        self.num_classes = check_int("num_classes", num_classes, minimum=2)
        if labels_max >= self.num_classes:
            raise ValueError(f"the labels go up to {labels_max} but num_classes is "
                             f"{self.num_classes}; pass num_classes={labels_max + 1} or more.")

        self.supernet = Supernet(C=C, num_classes=self.num_classes, layers=layers, steps=steps,
                                 multiplier=multiplier, stem_multiplier=stem_multiplier,
                                 operations=self.operations, in_channels=x_train.shape[1],
                                 seed=self.seed).to(self.device)
        self.supernet.check_input(x_train[:1])
        self.num_edges = self.supernet.num_edges
        self.edge_labels = edge_labels(self.supernet.steps)

        self._x_train, self._y_train = x_train.to(self.device), y_train.to(self.device)
        self._x_val, self._y_val = x_val.to(self.device), y_val.to(self.device)
        self.n_train, self.n_val = len(y_train), len(y_val)
        self.batches_per_epoch = math.ceil(self.n_train / self.batch_size)
        self.batches_per_step = (self.batches_per_epoch if batches_per_step is None else
                                 check_int("batches_per_step", batches_per_step, minimum=1))
        self.total_batches = self.epochs * self.batches_per_epoch

        self.weight_optimizer = torch.optim.SGD(self.supernet.weights(), lr=self.weight_lr,
                                                momentum=WEIGHT_MOMENTUM,
                                                weight_decay=WEIGHT_DECAY)
        self.arch_optimizer = torch.optim.Adam(self.supernet.arch_parameters(), lr=self.arch_lr,
                                               betas=ARCH_BETAS, weight_decay=ARCH_WEIGHT_DECAY)

        # Independent generators for the training order, the validation order and the subset.
        train_seed, val_seed, subset_seed = (
            int(s.generate_state(1)[0]) for s in np.random.SeedSequence(self.seed).spawn(3))
        self._train_generator = torch.Generator().manual_seed(train_seed)
        self._val_generator = torch.Generator().manual_seed(val_seed)
        subset = torch.randperm(self.n_val, generator=torch.Generator().manual_seed(subset_seed))
        self._eval_rows = subset[:eval_size].to(self.device)
        self._train_order = torch.randperm(self.n_train, generator=self._train_generator)
        self._val_order = torch.randperm(self.n_val, generator=self._val_generator)
        self._val_position = 0

        shape = (self.num_edges, len(self.operations))
        self._forbidden = {cell: np.zeros(shape, dtype=bool) for cell in CELL_TYPES}
        self._pins = {cell: [None] * self.num_edges for cell in CELL_TYPES}

        self.batches_done = 0
        self.history: list[dict[str, float]] = []
        self._weights_history: list[dict[str, np.ndarray]] = []
        self._genotype_history: list[Genotype] = []
        self.final_genotype: Genotype | None = None
        self.nan: dict[str, Any] | None = None
        self.stop_reason: str | None = None
        self._record_architecture()

    @staticmethod
    def _unpack_data(x_train: Any, y_train: Any, x_val: Any,
                     y_val: Any) -> tuple[torch.Tensor, ...]:
        if isinstance(x_train, ImageSplit):
            if not (y_train is None and x_val is None and y_val is None):
                raise TypeError("pass either an ImageSplit alone or the four tensors x_train, "
                                "y_train, x_val, y_val, not both.")
            split = x_train
            x_train, y_train, x_val, y_val = split.x_train, split.y_train, split.x_val, split.y_val
        missing = [name for name, value in (("y_train", y_train), ("x_val", x_val),
                                            ("y_val", y_val)) if value is None]
        if missing:
            raise TypeError(f"missing {missing}; pass x_train, y_train, x_val and y_val, or one "
                            f"ImageSplit from digits_split or mnist_split.")
        x_train = check_images("x_train", x_train)
        x_val = check_images("x_val", x_val)
        if x_val.shape[1:] != x_train.shape[1:]:
            raise ValueError(f"x_val has images of shape {tuple(x_val.shape[1:])} but x_train "
                             f"has {tuple(x_train.shape[1:])}; both splits need the same "
                             f"(channels, H, W).")
        y_train = check_labels("y_train", y_train, len(x_train))
        y_val = check_labels("y_val", y_val, len(x_val))
        return x_train, y_train, x_val, y_val

    # ----- training -------------------------------------------------------

    @property
    def done(self) -> bool:
        return self.stop_reason is not None

    def continue_hint(self) -> str:
        return ("a finished DARTS search does not continue; read final_genotype (pins and "
                "forbids still re-derive it), or build a new Darts search with more epochs.")

    @property
    def epoch(self) -> int:
        """Epochs completed."""
        return self.batches_done // self.batches_per_epoch

    def scheduled_weight_lr(self, batch: int | None = None) -> float:
        """Return the cosine-annealed weight learning rate of training batch ``batch``.

        lr = weight_lr * (1 + cos(pi * e / epochs)) / 2 for a batch of epoch e
        (0-based); ``batch`` defaults to the next batch.
        """
        batch = self.batches_done if batch is None else batch
        epoch = min(batch // self.batches_per_epoch, self.epochs - 1)
        return self.weight_lr * 0.5 * (1.0 + math.cos(math.pi * epoch / self.epochs))

    def edge_masks(self) -> dict[str, np.ndarray]:
        """Return the allowed operations per cell type, bool (edges, operations)."""
        masks = {}
        for cell in CELL_TYPES:
            mask = ~self._forbidden[cell]
            for edge, operation in enumerate(self._pins[cell]):
                if operation is not None:
                    mask[edge] = False
                    mask[edge, self.operations.index(operation)] = True
            masks[cell] = mask
        return masks

    def _torch_masks(self) -> dict[str, torch.Tensor]:
        return {cell: torch.from_numpy(mask).to(self.device)
                for cell, mask in self.edge_masks().items()}

    def _step(self) -> dict[str, Any]:
        started = time.perf_counter()
        masks = self._torch_masks()
        batches = min(self.batches_per_step, self.total_batches - self.batches_done)
        train_losses, train_correct, train_seen, search_val_losses = [], 0, 0, []
        weight_lr = xi = self.scheduled_weight_lr()

        for batch in range(1, batches + 1):
            weight_lr = self.scheduled_weight_lr()
            xi = weight_lr if self.unrolled_xi is None else self.unrolled_xi
            for group in self.weight_optimizer.param_groups:
                group["lr"] = weight_lr
            train_batch = self._next_train_batch()
            val_batch = self._next_val_batch()
            saved = self._save_state()
            try:
                search_val_losses.append(self._arch_update(train_batch, val_batch, xi, masks))
                loss, correct = self._weight_update(train_batch, masks)
            except _BatchFailed as failure:
                self._restore_state(saved)
                self.nan = {"step": self.n_steps + 1, "batch": batch, "phase": failure.phase,
                            "loss": failure.loss}
                logger.warning("DARTS stopped: the %s update of step %d, batch %d gave a "
                               "non-finite loss or gradient (loss %s); keeping the state from "
                               "before that batch", failure.phase, self.n_steps + 1, batch,
                               failure.loss)
                break
            self.batches_done += 1
            train_losses.append(loss)
            train_correct += correct
            train_seen += len(train_batch[1])

        record = None
        if train_losses:
            val_loss, val_accuracy = self._evaluate()
            record = {"step": self.n_steps + 1, "epoch": self.epoch,
                      "batches": len(train_losses), "train_loss": float(np.mean(train_losses)),
                      "train_accuracy": train_correct / train_seen,
                      "search_val_loss": float(np.mean(search_val_losses)),
                      "val_loss": val_loss, "val_accuracy": val_accuracy,
                      "weight_lr": weight_lr, "arch_lr": self.arch_lr, "xi": xi,
                      "temperature": self.temperature,
                      "seconds": time.perf_counter() - started}
            self.history.append(record)
            self._record_architecture()
            if self.nan is None and not math.isfinite(val_loss):
                # Training stayed finite but the weights no longer give finite
                # validation outputs: stop before the next step can make it worse.
                self.nan = {"step": self.n_steps + 1, "batch": len(train_losses),
                            "phase": "validation", "loss": val_loss}
                logger.warning("DARTS stopped: the validation loss after step %d is %s",
                               self.n_steps + 1, val_loss)

        if self.nan is not None:
            self._finish("nan")
        elif self.batches_done >= self.total_batches:
            self._finish("epochs")
        return {"record": record, "nan": self.nan, "stop_reason": self.stop_reason}

    def _next_train_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the next training batch; batch b of an epoch takes rows b * batch_size ...."""
        position = (self.batches_done % self.batches_per_epoch) * self.batch_size
        if position == 0 and self.batches_done > 0:
            self._train_order = torch.randperm(self.n_train, generator=self._train_generator)
        rows = self._train_order[position:position + self.batch_size].to(self.device)
        return self._x_train[rows], self._y_train[rows]

    def _next_val_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the next validation batch; the validation order cycles on its own."""
        if self._val_position >= self.n_val:
            self._val_order = torch.randperm(self.n_val, generator=self._val_generator)
            self._val_position = 0
        rows = self._val_order[self._val_position:self._val_position + self.batch_size]
        self._val_position += self.batch_size
        rows = rows.to(self.device)
        return self._x_val[rows], self._y_val[rows]

    def _arch_update(self, train_batch: tuple[torch.Tensor, torch.Tensor],
                     val_batch: tuple[torch.Tensor, torch.Tensor], xi: float,
                     masks: dict[str, torch.Tensor]) -> float:
        """Take one Adam step on alpha and return the validation loss."""
        gradients, val_loss = arch_gradient(self.supernet, train_batch, val_batch,
                                            order=self.order, xi=xi,
                                            temperature=self.temperature, edge_masks=masks)
        if not math.isfinite(val_loss) or not all(bool(torch.isfinite(g).all())
                                                  for g in gradients):
            raise _BatchFailed("architecture", val_loss)
        for alpha, gradient in zip(self.supernet.arch_parameters(), gradients):
            alpha.grad = gradient
        self.arch_optimizer.step()
        self.arch_optimizer.zero_grad(set_to_none=True)
        return val_loss

    def _weight_update(self, batch: tuple[torch.Tensor, torch.Tensor],
                       masks: dict[str, torch.Tensor]) -> tuple[float, int]:
        """Take one SGD step on w with alpha fixed; return the loss and the correct count."""
        self.supernet.train()
        x, y = batch
        logits = self.supernet(x, self.temperature, masks)               # (batch, classes)
        loss = F.cross_entropy(logits, y)
        if not bool(torch.isfinite(loss)):
            raise _BatchFailed("weights", float(loss.detach()))
        weights = self.supernet.weights()
        # Weights of masked operations get no gradient, so SGD leaves them alone.
        gradients = torch.autograd.grad(loss, weights, allow_unused=True)
        used = []
        for w, g in zip(weights, gradients):
            w.grad = g
            if g is not None:
                used.append(w)
        if self.grad_clip is not None:
            norm = torch.nn.utils.clip_grad_norm_(used, self.grad_clip)
        else:
            norm = torch.sqrt(sum((w.grad * w.grad).sum() for w in used))
        if not bool(torch.isfinite(norm)):
            raise _BatchFailed("weights", float(loss.detach()))
        self.weight_optimizer.step()
        self.weight_optimizer.zero_grad(set_to_none=True)
        correct = int((logits.detach().argmax(dim=1) == y).sum())
        return float(loss.detach()), correct

    def _save_state(self) -> dict[str, Any]:
        return {"supernet": {k: v.detach().clone()
                             for k, v in self.supernet.state_dict().items()},
                "weights": copy.deepcopy(self.weight_optimizer.state_dict()),
                "arch": copy.deepcopy(self.arch_optimizer.state_dict())}

    def _restore_state(self, saved: dict[str, Any]) -> None:
        self.supernet.load_state_dict(saved["supernet"])
        self.weight_optimizer.load_state_dict(saved["weights"])
        self.arch_optimizer.load_state_dict(saved["arch"])

    def _evaluate(self) -> tuple[float, float]:
        """Return the loss and accuracy on the fixed validation subset.

        The supernet runs as during the search, with BatchNorm on the statistics
        of each chunk of at most EVAL_CHUNK images, and its running statistics are left
        unchanged. NOTE: evaluation mode would use the running statistics, which
        lag far behind early in a search. On digits with the CPU preset they gave
        10% accuracy after the first epoch, where batch statistics gave 83%.
        """
        masks = self._torch_masks()
        buffers = [b.detach().clone() for b in self.supernet.buffers()]
        self.supernet.train()
        total_loss, correct = 0.0, 0
        with torch.no_grad():
            # Equal chunks, so that no chunk is left with a few images' statistics.
            for rows in torch.tensor_split(self._eval_rows,
                                           math.ceil(len(self._eval_rows) / EVAL_CHUNK)):
                logits = self.supernet(self._x_val[rows], self.temperature, masks)
                y = self._y_val[rows]
                total_loss += float(F.cross_entropy(logits, y, reduction="sum"))
                correct += int((logits.argmax(dim=1) == y).sum())
            for b, b0 in zip(self.supernet.buffers(), buffers):
                b.copy_(b0)
        n = len(self._eval_rows)
        return total_loss / n, correct / n

    def _record_architecture(self) -> None:
        self._weights_history.append(self._mixing_weights())
        self._genotype_history.append(self.genotype())

    def _mixing_weights(self) -> dict[str, np.ndarray]:
        with torch.no_grad():
            weights = self.supernet.mixing_weights(self.temperature, self._torch_masks())
        return {cell: value.detach().cpu().double().numpy() for cell, value in weights.items()}

    def genotype(self) -> Genotype:
        """Derive the genotype from the current logits; pins and forbids are respected."""
        return self.supernet.genotype(self._torch_masks())

    def _finish(self, reason: str) -> None:
        self.stop_reason = reason
        self.final_genotype = self.genotype()
        logger.info("DARTS finished (%s) after %d of %d batches; genotype %s", reason,
                    self.batches_done, self.total_batches, self.final_genotype.to_dict())

    # ----- inspection -----------------------------------------------------

    def snapshot(self) -> DartsSnapshot:
        weights = self._mixing_weights()
        masks = self.edge_masks()
        genotype = self.genotype()
        free = np.array([operation in PARAMETER_FREE for operation in self.operations])
        share = {cell: float(weights[cell][:, free].sum(axis=1).mean()) for cell in CELL_TYPES}
        baseline = {cell: float((masks[cell][:, free].sum(axis=1) / masks[cell].sum(axis=1))
                                .mean()) for cell in CELL_TYPES}
        skip_edges = sum(operation == "skip_connect" for operation, _ in genotype.normal)
        # NOTE: the share threshold is raised to the uniform share, because with
        # CPU_OPERATIONS 4 of 6 operations are parameter-free and uniform weights
        # already give 0.67.
        threshold = max(COLLAPSE_SHARE, baseline["normal"]) + COLLAPSE_MARGIN
        collapse = skip_edges > len(genotype.normal) / 2 or share["normal"] > threshold

        def curve(key: str) -> np.ndarray:
            return _read_only(np.array([record[key] for record in self.history], dtype=float))

        return DartsSnapshot(
            step=self.n_steps, batches_done=self.batches_done, total_batches=self.total_batches,
            epoch=self.epoch, order=self.order, operations=self.operations,
            edge_labels=self.edge_labels,
            weights={cell: _read_only(value) for cell, value in weights.items()},
            weights_history={cell: _read_only(np.stack([h[cell] for h in self._weights_history]))
                             for cell in CELL_TYPES},
            genotype=genotype, genotype_history=tuple(self._genotype_history),
            final_genotype=self.final_genotype, history=tuple(dict(r) for r in self.history),
            train_loss=curve("train_loss"), train_accuracy=curve("train_accuracy"),
            val_loss=curve("val_loss"), val_accuracy=curve("val_accuracy"),
            parameter_free_share=share, parameter_free_baseline=baseline,
            skip_connect_edges=int(skip_edges), collapse_warning=bool(collapse),
            pinned={cell: tuple(self._pins[cell]) for cell in CELL_TYPES},
            forbidden={cell: _read_only(value) for cell, value in self._forbidden.items()},
            masks={cell: _read_only(value) for cell, value in masks.items()},
            temperature=self.temperature, arch_lr=self.arch_lr,
            weight_lr=self.scheduled_weight_lr(), nan=None if self.nan is None else dict(self.nan),
            stop_reason=self.stop_reason)

    # ----- steering -------------------------------------------------------

    def _check_cell(self, cell: Any) -> str:
        if not isinstance(cell, str) or cell not in CELL_TYPES:
            raise ValueError(f"cell {cell!r} is not a cell type; pass 'normal' or 'reduce'.")
        return cell

    def _check_edge(self, edge: Any) -> int:
        if isinstance(edge, bool) or not isinstance(edge, (int, np.integer)):
            raise TypeError(f"edge must be an integer edge index, got {edge!r} of type "
                            f"{type(edge).__name__}.")
        if not 0 <= edge < self.num_edges:
            raise ValueError(f"edge {edge} is out of range; a cell has {self.num_edges} edges, "
                             f"numbered 0 to {self.num_edges - 1}.")
        return int(edge)

    def _check_operation(self, operation: Any) -> int:
        if not isinstance(operation, str) or operation not in self.operations:
            raise ValueError(f"operation {operation!r} is not a candidate operation of this "
                             f"search; pass one of {self.operations}.")
        return self.operations.index(operation)

    def _apply_masks(self, forbidden: dict[str, np.ndarray],
                     pins: dict[str, list[str | None]], action: str) -> None:
        """Replace the masks after checking that a genotype can still be derived."""
        old = self._forbidden, self._pins
        self._forbidden, self._pins = forbidden, pins
        try:
            genotype = self.genotype()
        except ValueError as error:
            self._forbidden, self._pins = old
            raise ValueError(f"{action} would leave no valid genotype: {error}") from error
        if self.done:
            # After the stop, a pin or forbid edits the result rather than the search.
            self.final_genotype = genotype

    @steering
    def pin_operation(self, cell: str, edge: int, operation: str) -> None:
        """Allow only ``operation`` on ``edge`` of ``cell`` from the next step on."""
        cell = self._check_cell(cell)
        edge = self._check_edge(edge)
        column = self._check_operation(operation)
        if self._forbidden[cell][edge, column]:
            raise ValueError(f"operation {operation!r} is forbidden on edge {edge} "
                             f"({self.edge_labels[edge]}) of the {cell} cell, so it cannot be "
                             f"pinned; reset_edge({cell!r}, {edge}) first.")
        pins = copy.deepcopy(self._pins)
        pins[cell][edge] = operation
        self._apply_masks(self._forbidden, pins, f"pinning {operation!r} on {cell} edge {edge}")

    @steering
    def forbid_operation(self, operation: str, cell: str | None = None,
                         edge: int | None = None) -> None:
        """Forbid ``operation`` from the next step on.

        ``cell`` None means both cell types and ``edge`` None means every edge.
        """
        column = self._check_operation(operation)
        cells = CELL_TYPES if cell is None else (self._check_cell(cell),)
        edges = range(self.num_edges) if edge is None else (self._check_edge(edge),)
        forbidden = {name: mask.copy() for name, mask in self._forbidden.items()}
        masks = self.edge_masks()
        for name in cells:
            for index in edges:
                allowed = masks[name][index].copy()
                allowed[column] = False
                if not allowed.any():
                    raise ValueError(f"forbidding {operation!r} would leave no operation on "
                                     f"edge {index} ({self.edge_labels[index]}) of the {name} "
                                     f"cell; reset_edge({name!r}, {index}) or allow another "
                                     f"operation first.")
                forbidden[name][index, column] = True
        self._apply_masks(forbidden, self._pins, f"forbidding {operation!r}")

    @steering
    def reset_edge(self, cell: str, edge: int) -> None:
        """Set the logits of ``edge`` back to zeros and remove its pin and forbids."""
        cell = self._check_cell(cell)
        edge = self._check_edge(edge)
        alpha = self.supernet.alpha_normal if cell == "normal" else self.supernet.alpha_reduce
        with torch.no_grad():
            alpha[edge] = 0.0
            # Adam's moment estimates of the old logits would push the edge back.
            for moment in self.arch_optimizer.state.get(alpha, {}).values():
                if isinstance(moment, torch.Tensor) and moment.shape == alpha.shape:
                    moment[edge] = 0.0
        self._forbidden[cell][edge] = False
        self._pins[cell][edge] = None
        if self.done:
            self.final_genotype = self.genotype()

    @steering
    def set_arch_lr(self, value: float) -> None:
        """Set Adam's learning rate for alpha; 0 freezes the architecture."""
        self.arch_lr = check_float("value", value, minimum=0.0, maximum=MAX_ARCH_LR)
        for group in self.arch_optimizer.param_groups:
            group["lr"] = self.arch_lr

    @steering
    def set_temperature(self, value: float) -> None:
        """Set the softmax temperature of the mixing weights; below 1 sharpens them."""
        self.temperature = check_float("value", value, minimum=0.0, exclusive_minimum=True)

    @steering
    def stop_and_derive(self) -> Genotype:
        """Stop the search and record the genotype of the current logits."""
        if not self.done:
            self._finish("stopped")
        return self.final_genotype
