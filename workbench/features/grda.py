"""The generalized regularized dual averaging (GRDA) optimizer.

GRDA (Chao and Cheng, "A generalization of regularized dual averaging and
its applications", 2019) keeps, for every weight, the sum of all past
gradients and sets the weight to a soft-thresholded copy of that sum. The
threshold grows with the step count, so a weight whose gradients only wander
around zero ends up exactly 0, while a weight with a steady gradient keeps a
value. AutoFIS (Liu et al., KDD 2020) trains its gate
parameters with GRDA for that reason.

The update, with learning rate ``lr`` (gamma), step ``t = 1, 2, ...``,
initial weight ``w_0`` and stochastic gradient ``grad_t``:

    accumulator_t = w_0 - lr * sum_{i=1..t} grad_i
    g(t)          = c * lr^(1/2) * (t * lr)^mu      (= c * lr^(1/2 + mu) * t^mu)
    w_t           = sign(accumulator_t) * max(|accumulator_t| - g(t), 0)

This is the closed-form minimizer of the regularized dual averaging objective
``w . (lr * sum grad_i - w_0) + g(t) * ||w||_1 + 1/2 ||w||^2``. The formula
and the accumulator's start at ``w_0`` follow the AutoFIS authors'
TensorFlow optimizer ``grda_tensorflow.py`` in
https://github.com/zhuchenxv/AutoFIS and the GRDA authors' PyTorch version
in https://github.com/donlan2710/gRDA-Optimizer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch

from workbench.core.validation import check_float


def threshold_increment(lr: float, c: float, mu: float, step: int) -> float:
    """Return ``g(step) - g(step - 1)`` for ``g(t) = c * lr^(1/2 + mu) * t^mu``.

    The optimizer adds these increments instead of evaluating ``g(t)`` at
    once, so that changing ``c``, ``mu`` or ``lr`` during training (steering)
    moves the threshold on from its current value instead of making it jump.
    With constant settings the sum over steps 1..t equals ``g(t)`` exactly.
    """
    return c * lr ** (0.5 + mu) * (step ** mu - (step - 1) ** mu)


def check_grda_settings(lr: Any, c: Any, mu: Any, *,
                        prefix: str = "") -> tuple[float, float, float]:
    """Return ``(lr, c, mu)`` as floats after checking their types and ranges.

    ``prefix`` goes before each argument name in error messages, such as
    ``"grda_"`` for a caller whose arguments are ``grda_lr``, ``grda_c`` and ``grda_mu``.
    """
    lr = check_float(f"{prefix}lr", lr, minimum=0.0, exclusive_minimum=True)
    c = check_float(f"{prefix}c", c, minimum=0.0)
    mu = check_float(f"{prefix}mu", mu, minimum=0.0, maximum=1.0)
    return lr, c, mu


class GRDA(torch.optim.Optimizer):
    """Generalized regularized dual averaging: sparse weights by a growing soft threshold.

    Parameters
    ----------
    params : iterable of tensors or of dicts
        The parameters to optimize, or parameter groups as for any
        ``torch.optim.Optimizer``.
    lr : float, default 0.01
        Learning rate gamma (> 0). It scales both the gradient sum and the
        threshold ``g(t)``.
    c : float, default 0.005
        Strength of the L1 threshold (>= 0). ``c = 0`` makes GRDA plain SGD.
    mu : float, default 0.7
        Growth exponent of the threshold, in [0, 1]. With ``mu > 0.5`` the
        threshold grows faster than the random walk ``sqrt(t)`` of a
        weight whose gradients average zero, so such weights reach exactly 0.
        ``mu = 0`` keeps the threshold constant at ``c * lr^(1/2)``.

    State per parameter
    -------------------
    ``step`` (int), ``accumulator`` (tensor, the ``w_0 - lr * sum grad``
    above) and ``threshold`` (float, the current ``g(t)``).

    Example
    -------
    >>> weight = torch.nn.Parameter(torch.tensor([1.0, 0.01]))
    >>> optimizer = GRDA([weight], lr=0.1, c=0.1, mu=0.6)
    >>> for _ in range(20):
    ...     optimizer.zero_grad()
    ...     loss = (weight[0] - 2.0) ** 2     # only the first weight matters
    ...     loss.backward()
    ...     optimizer.step()
    >>> bool(weight[0] > 1.0), weight[1].item()
    (True, 0.0)
    """

    def __init__(self, params: Iterable[Any], lr: float = 0.01, c: float = 0.005,
                 mu: float = 0.7) -> None:
        lr, c, mu = check_grda_settings(lr, c, mu)
        super().__init__(params, dict(lr=lr, c=c, mu=mu))

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor] | None = None) -> torch.Tensor | None:
        """Do one GRDA update of every parameter that has a gradient."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()

        for group in self.param_groups:
            lr, c, mu = group["lr"], group["c"], group["mu"]
            for parameter in group["params"]:
                if parameter.grad is None:
                    continue
                if parameter.grad.is_sparse:
                    raise RuntimeError("GRDA does not support sparse gradients; build the "
                                       "embedding with sparse=False.")
                state = self.state[parameter]
                if not state:
                    state["step"] = 0
                    state["accumulator"] = parameter.detach().clone()
                    state["threshold"] = 0.0
                state["step"] += 1
                state["threshold"] += threshold_increment(lr, c, mu, state["step"])

                accumulator = state["accumulator"]
                accumulator.add_(parameter.grad, alpha=-lr)
                shrunk = (accumulator.abs() - state["threshold"]).clamp_(min=0.0)
                parameter.copy_(accumulator.sign() * shrunk)
        return loss

    @torch.no_grad()
    def assign(self, parameter: torch.Tensor, index: Any, value: float) -> None:
        """Set ``parameter[index] = value`` and move its accumulator so the next step starts there.

        The accumulator is set to ``sign(value) * (|value| + g(t))``, the
        point whose soft threshold is ``value``. ``value = 0`` sets the
        accumulator to 0, so the weight stays 0 until its gradients sum past
        the threshold.
        """
        value = check_float("value", value)
        if not any(parameter is member for group in self.param_groups
                   for member in group["params"]):
            raise ValueError("parameter is not optimized by this GRDA optimizer; pass one of "
                             "the tensors given to its constructor.")
        parameter[index] = value
        state = self.state[parameter]
        if state:
            magnitude = abs(value) + state["threshold"] if value != 0.0 else 0.0
            state["accumulator"][index] = magnitude * (1.0 if value >= 0.0 else -1.0)

    def set_settings(self, *, lr: float | None = None, c: float | None = None,
                     mu: float | None = None) -> None:
        """Change ``lr``, ``c`` or ``mu`` of every parameter group from the next step on."""
        for group in self.param_groups:
            new_lr, new_c, new_mu = check_grda_settings(
                group["lr"] if lr is None else lr, group["c"] if c is None else c,
                group["mu"] if mu is None else mu)
            group.update(lr=new_lr, c=new_c, mu=new_mu)
