"""Successive-halving and Hyperband schedules (pure arithmetic, no search state).

Formulas from Li, Jamieson, DeSalvo, Rostamizadeh & Talwalkar, "Hyperband: A
Novel Bandit-Based Approach to Hyperparameter Optimization", JMLR 18 (2018),
Algorithm 1: with maximum budget R and reduction factor eta,
``s_max = floor(log_eta R)``, ``B = (s_max + 1) R``, and bracket ``s`` starts
``n = ceil(B / R * eta^s / (s + 1))`` configurations at budget ``r = R eta^-s``;
rung ``i`` of a bracket evaluates ``n_i = floor(n eta^-i)`` configurations at
budget ``r_i = r eta^i`` and keeps the best ``floor(n_i / eta)``.
"""

from __future__ import annotations

import dataclasses
import math

import pandas as pd

from workbench.core.validation import check_float, check_int

# Relative tolerance for budgets that should be exact powers of eta (R = 81, eta = 3).
_TOLERANCE = 1e-9


@dataclasses.dataclass(frozen=True)
class Rung:
    """One rung of a bracket: ``n_configs`` configurations evaluated at ``budget``."""

    index: int
    n_configs: int
    budget: float
    n_promoted: int


def check_eta(eta: int) -> int:
    return check_int("eta", eta, minimum=2)


def floor_log(value: float, eta: int) -> int:
    """Return floor(log_eta(value)) for value >= 1, computed without floating-point log."""
    power = 0
    while eta ** (power + 1) <= value * (1 + _TOLERANCE):
        power += 1
    return power


def successive_halving_rungs(n_configs: int, min_budget: float, eta: int = 2,
                             max_budget: float | None = None) -> list[Rung]:
    """Return the rungs of one successive-halving run.

    Rung ``i`` has ``floor(n eta^-i)`` configurations at budget
    ``min_budget * eta^i`` and promotes ``floor(n_i / eta)`` of them. The run
    has ``s + 1`` rungs with ``s = floor(log_eta n)``, capped so that no rung
    exceeds ``max_budget``. With ``n < eta`` this gives a single rung.
    """
    n_configs = check_int("n_configs", n_configs, minimum=1)
    min_budget = check_float("min_budget", min_budget, minimum=0.0, exclusive_minimum=True)
    eta = check_eta(eta)
    s = floor_log(n_configs, eta)
    if max_budget is not None:
        max_budget = check_float("max_budget", max_budget, minimum=min_budget)
        s = min(s, floor_log(max_budget / min_budget, eta))
    rungs = []
    for i in range(s + 1):
        n_i = n_configs // eta**i
        promoted = n_i // eta if i < s else 0
        rungs.append(Rung(index=i, n_configs=n_i, budget=min_budget * eta**i, n_promoted=promoted))
    return rungs


def hyperband_brackets(max_budget: float, eta: int = 3,
                       min_budget: float = 1.0) -> list[tuple[int, list[Rung]]]:
    """Return Hyperband's brackets ``[(s, rungs), ...]`` for s = s_max .. 0.

    Budgets are in units of ``min_budget`` as in Li et al. (2018): the
    algorithm runs with ``R = max_budget / min_budget`` and every budget is
    multiplied back by ``min_budget``.
    """
    max_budget = check_float("max_budget", max_budget, minimum=0.0, exclusive_minimum=True)
    min_budget = check_float("min_budget", min_budget, minimum=0.0, exclusive_minimum=True)
    eta = check_eta(eta)
    R = max_budget / min_budget
    if R < 1 - _TOLERANCE:
        raise ValueError(f"max_budget must be >= min_budget, got max_budget={max_budget}, "
                         f"min_budget={min_budget}.")
    s_max = floor_log(R, eta)
    total = (s_max + 1) * R
    brackets = []
    for s in range(s_max, -1, -1):
        n = math.ceil(total / R * eta**s / (s + 1) - _TOLERANCE)
        r = R * eta ** (-s)
        rungs = []
        for i in range(s + 1):
            n_i = n // eta**i
            rungs.append(Rung(index=i, n_configs=n_i, budget=r * eta**i * min_budget,
                              n_promoted=n_i // eta if i < s else 0))
        brackets.append((s, rungs))
    return brackets


def schedule_frame(brackets: list[tuple[int, list[Rung]]]) -> pd.DataFrame:
    """Return the schedule as a table: one row per (bracket, rung)."""
    rows = [{"bracket": s, "rung": rung.index, "n_configs": rung.n_configs,
             "budget": rung.budget, "n_promoted": rung.n_promoted}
            for s, rungs in brackets for rung in rungs]
    return pd.DataFrame(rows, columns=["bracket", "rung", "n_configs", "budget", "n_promoted"])
