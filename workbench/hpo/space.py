"""Search spaces as dicts of Optuna distributions, and uniform sampling from them."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from optuna.distributions import (BaseDistribution, CategoricalDistribution, FloatDistribution,
                                  IntDistribution)


def check_space(space: Any) -> dict[str, BaseDistribution]:
    """Return ``space`` as a dict after checking it maps names to Optuna distributions."""
    if not isinstance(space, Mapping) or not space:
        raise ValueError(f"space must be a non-empty dict of parameter name -> Optuna "
                         f"distribution, got {space!r}; for example "
                         f"{{'learning_rate': FloatDistribution(1e-3, 1.0, log=True)}}.")
    for name, distribution in space.items():
        if not isinstance(name, str):
            raise TypeError(f"space keys must be parameter names (str), got {name!r}.")
        if not isinstance(distribution, (FloatDistribution, IntDistribution,
                                         CategoricalDistribution)):
            raise TypeError(f"space[{name!r}] must be an optuna FloatDistribution, "
                            f"IntDistribution or CategoricalDistribution, got "
                            f"{type(distribution).__name__}.")
    return dict(space)


def sample_uniform(distribution: BaseDistribution, rng: np.random.Generator) -> Any:
    """Draw one value uniformly (log-uniformly for ``log=True``) from ``distribution``."""
    if isinstance(distribution, CategoricalDistribution):
        return distribution.choices[int(rng.integers(len(distribution.choices)))]
    low, high = distribution.low, distribution.high
    if isinstance(distribution, IntDistribution):
        if distribution.log:
            # Draw on [log(low - 0.5), log(high + 0.5)) so each integer gets its log-width share.
            value = math.exp(rng.uniform(math.log(low - 0.5), math.log(high + 0.5)))
            return int(min(max(round(value), low), high))
        n_values = (high - low) // distribution.step + 1
        return int(low + distribution.step * int(rng.integers(n_values)))
    if distribution.log:
        return float(math.exp(rng.uniform(math.log(low), math.log(high))))
    if distribution.step is not None:
        n_values = int(round((high - low) / distribution.step)) + 1
        return float(low + distribution.step * int(rng.integers(n_values)))
    return float(rng.uniform(low, high))


def sample_params(space: Mapping[str, BaseDistribution], rng: np.random.Generator) -> dict[str, Any]:
    """Draw one configuration: a value for every parameter of ``space``."""
    return {name: sample_uniform(distribution, rng) for name, distribution in space.items()}


def check_params(space: Mapping[str, BaseDistribution], params: Any) -> dict[str, Any]:
    """Return ``params`` after checking it gives a valid value for every parameter of ``space``."""
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a dict of parameter name -> value, got "
                        f"{type(params).__name__}.")
    missing = sorted(set(space) - set(params))
    unknown = sorted(set(params) - set(space))
    if missing or unknown:
        raise ValueError(f"params must set exactly the space's parameters; missing {missing}, "
                         f"unknown {unknown}.")
    checked = {}
    for name, value in params.items():
        distribution = space[name]
        numeric = isinstance(distribution, (FloatDistribution, IntDistribution))
        if numeric and (isinstance(value, bool) or not isinstance(value, (int, float, np.number))):
            raise TypeError(f"params[{name!r}] must be a number, got {value!r} of type "
                            f"{type(value).__name__}.")
        if isinstance(distribution, IntDistribution):
            if float(value) != int(value):
                raise ValueError(f"params[{name!r}] must be a whole number for an integer "
                                 f"parameter, got {value!r}.")
            value = int(value)
        checked[name] = value
        try:
            internal = distribution.to_internal_repr(value)
            valid = distribution._contains(internal)
        except (ValueError, TypeError):
            valid = False
        if not valid:
            raise ValueError(f"params[{name!r}] = {value!r} is outside {distribution}; "
                             f"pass a value inside the distribution.")
    return checked
