"""Standard test functions of the Bayesian-optimization literature, with known optima.

Each function takes a configuration dict and returns the value to minimize.
Definitions and optima follow Surjanovic & Bingham, *Virtual Library of
Simulation Experiments* (Simon Fraser University), and Dixon & Szego (1978).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from optuna.distributions import FloatDistribution


@dataclasses.dataclass(frozen=True)
class TestFunction:
    """A benchmark function, its search space and its global minimum.

    Attributes
    ----------
    name : str
    function : callable
        ``function(params) -> float``, to minimize.
    space : dict of str to FloatDistribution
    minimum : float
        Global minimum value; simple regret is ``best_found - minimum``.
    """

    __test__ = False  # not a pytest test class despite its name

    name: str
    function: Callable[[dict[str, Any]], float]
    space: dict[str, FloatDistribution]
    minimum: float

    def __call__(self, params: dict[str, Any]) -> float:
        return self.function(params)

    def regret(self, value: float) -> float:
        return value - self.minimum


def _branin(params: dict[str, Any]) -> float:
    x1, x2 = params["x1"], params["x2"]
    b, c = 5.1 / (4 * math.pi**2), 5 / math.pi
    r, s, t = 6.0, 10.0, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - r) ** 2 + s * (1 - t) * math.cos(x1) + s


_HARTMANN6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
_HARTMANN6_A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
                         [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]])
_HARTMANN6_P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886],
                                [2329, 4135, 8307, 3736, 1004, 9991],
                                [2348, 1451, 3522, 2883, 3047, 6650],
                                [4047, 8828, 8732, 5743, 1091, 381]])


def _hartmann6(params: dict[str, Any]) -> float:
    x = np.array([params[f"x{i}"] for i in range(1, 7)])
    inner = (_HARTMANN6_A * (x - _HARTMANN6_P) ** 2).sum(1)
    return float(-(_HARTMANN6_ALPHA * np.exp(-inner)).sum())


def _six_hump_camel(params: dict[str, Any]) -> float:
    x1, x2 = params["x1"], params["x2"]
    return (4 - 2.1 * x1**2 + x1**4 / 3) * x1**2 + x1 * x2 + (-4 + 4 * x2**2) * x2**2


def _goldstein_price(params: dict[str, Any]) -> float:
    x1, x2 = params["x1"], params["x2"]
    a = 1 + (x1 + x2 + 1) ** 2 * (19 - 14 * x1 + 3 * x1**2 - 14 * x2 + 6 * x1 * x2 + 3 * x2**2)
    b = 30 + (2 * x1 - 3 * x2) ** 2 * (18 - 32 * x1 + 12 * x1**2 + 48 * x2 - 36 * x1 * x2
                                      + 27 * x2**2)
    return a * b


def _levy(params: dict[str, Any]) -> float:
    x = np.array([params[name] for name in sorted(params)])
    w = 1 + (x - 1) / 4
    body = ((w[:-1] - 1) ** 2 * (1 + 10 * np.sin(math.pi * w[:-1] + 1) ** 2)).sum()
    tail = (w[-1] - 1) ** 2 * (1 + math.sin(2 * math.pi * w[-1]) ** 2)
    return float(math.sin(math.pi * w[0]) ** 2 + body + tail)


def _box(names: list[str], low: float, high: float) -> dict[str, FloatDistribution]:
    return {name: FloatDistribution(low, high) for name in names}


BRANIN = TestFunction("branin", _branin, {"x1": FloatDistribution(-5.0, 10.0),
                                          "x2": FloatDistribution(0.0, 15.0)},
                      0.397887357729738)
HARTMANN6 = TestFunction("hartmann6", _hartmann6, _box([f"x{i}" for i in range(1, 7)], 0.0, 1.0),
                         -3.32236801141551)
SIX_HUMP_CAMEL = TestFunction("six_hump_camel", _six_hump_camel,
                              {"x1": FloatDistribution(-3.0, 3.0),
                               "x2": FloatDistribution(-2.0, 2.0)}, -1.031628453489877)
GOLDSTEIN_PRICE = TestFunction("goldstein_price", _goldstein_price, _box(["x1", "x2"], -2.0, 2.0),
                               3.0)
LEVY4 = TestFunction("levy4", _levy, _box([f"x{i}" for i in range(1, 5)], -10.0, 10.0), 0.0)

TEST_FUNCTIONS = {f.name: f for f in (BRANIN, HARTMANN6, SIX_HUMP_CAMEL, GOLDSTEIN_PRICE, LEVY4)}
