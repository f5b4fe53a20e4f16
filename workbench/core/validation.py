"""Argument checks shared by public entry points.

Each check raises ``TypeError`` for a value of the wrong type and ``ValueError``
for a value out of range, and the message names the argument, shows the bad
value and states what to pass instead.
"""

from __future__ import annotations

import numbers
import reprlib
from collections.abc import Iterable
from typing import Any


def check_int(name: str, value: Any, *, minimum: int | None = None,
              maximum: int | None = None) -> int:
    """Return ``value`` as an ``int`` after checking its type and range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {reprlib.repr(value)} "
                        f"of type {type(value).__name__}; pass a whole number.")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}; "
                         f"pass a value of at least {minimum}.")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}; "
                         f"pass a value of at most {maximum}.")
    return value


def check_float(name: str, value: Any, *, minimum: float | None = None,
                maximum: float | None = None, exclusive_minimum: bool = False) -> float:
    """Return ``value`` as a finite ``float`` after checking its type and range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {reprlib.repr(value)} "
                        f"of type {type(value).__name__}.")
    value = float(value)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"{name} must be finite, got {value}; pass a finite number.")
    if minimum is not None:
        too_small = value <= minimum if exclusive_minimum else value < minimum
        if too_small:
            bound = ">" if exclusive_minimum else ">="
            raise ValueError(f"{name} must be {bound} {minimum}, got {value}; pass a value "
                             f"{'above' if exclusive_minimum else 'of at least'} {minimum}.")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}; pass a value of at most "
                         f"{maximum}.")
    return value


def _same_choice(value: Any, choice: Any) -> bool:
    """Return ``value == choice`` as a bool, False where the comparison is not a bool (arrays)."""
    try:
        return bool(value == choice)
    except (TypeError, ValueError):
        return False


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``choices``."""
    choices = tuple(choices)
    if not any(_same_choice(value, choice) for choice in choices):
        options = ", ".join(repr(choice) for choice in choices)
        raise ValueError(f"{name} must be one of {options}; got {reprlib.repr(value)}.")
    return value


def check_seed(name: str, value: Any) -> int | None:
    """Return a seed in [0, 2**32 - 1], or ``None`` for an unseeded run."""
    if value is None:
        return None
    return check_int(name, value, minimum=0, maximum=2**32 - 1)
