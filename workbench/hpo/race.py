"""Race several searches on one task under the same total budget."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from workbench.core import Search, steering
from workbench.core.validation import check_choice, check_float


def default_cost(event: dict[str, Any]) -> float:
    """Return an event's budget (bandit evaluations) or 1 (one full trial)."""
    return float(event.get("budget", 1.0))


@dataclasses.dataclass(frozen=True)
class RaceSnapshot:
    """Best-so-far curves of the racing searches.

    Attributes
    ----------
    curves : dict of str to ndarray, shape (k, 2)
        Per search, rows of ``(budget spent, best value so far)`` after each step.
    spent : dict of str to float
    total_budget : float
    direction : str
    """

    curves: dict[str, np.ndarray]
    spent: dict[str, float]
    total_budget: float
    direction: str


def _common_direction(searches: Mapping[str, Search], direction: str | None) -> str:
    found = {name: getattr(search, "direction", None) for name, search in searches.items()}
    known = {value for value in found.values() if value is not None}
    if direction is None:
        if len(known) != 1:
            raise ValueError(f"the searches' directions are {found}; pass direction='maximize' "
                             f"or 'minimize' explicitly.")
        return known.pop()
    check_choice("direction", direction, ("maximize", "minimize"))
    if known and known != {direction}:
        raise ValueError(f"direction={direction!r} does not match the searches' directions "
                         f"{found}; race searches that optimize the same way.")
    return direction


def _cost_functions(searches: Mapping[str, Search], cost: Any) -> dict[str, Callable]:
    if cost is None:
        return {name: default_cost for name in searches}
    if isinstance(cost, Mapping):
        unknown = sorted(set(cost) - set(searches))
        if unknown:
            raise ValueError(f"cost has keys {unknown} that are not search names; use names "
                             f"from {sorted(searches)}.")
        functions = {name: cost.get(name, default_cost) for name in searches}
    else:
        functions = {name: cost for name in searches}
    for name, function in functions.items():
        if not callable(function):
            raise TypeError(f"the cost of {name!r} must be callable as cost(event) -> float, "
                            f"got {function!r}.")
    return functions


class Race(Search):
    """Step several searches in turn, each up to the same total budget.

    Each step advances the search that has spent the least so far, so the
    best-so-far curves are compared at equal cost. A step's cost is
    ``cost(event)``: by default the ``budget`` of a bandit evaluation, or 1 for
    a full trial; pass ``cost=lambda event: 27.0`` when a full trial trains 27
    epochs and the bandits count epochs.

    Parameters
    ----------
    searches : dict of str to Search
        Searches whose events carry a ``value`` (None for a failed trial).
    total_budget : float
    direction : {"maximize", "minimize"}, optional
        Defaults to the searches' common ``direction`` attribute.
    cost : callable, optional
        ``cost(event) -> float``, or a dict of such callables per search name.
    """

    def __init__(self, searches: Mapping[str, Search], total_budget: float, *,
                 direction: str | None = None,
                 cost: Callable[[dict[str, Any]], float]
                 | Mapping[str, Callable[[dict[str, Any]], float]] | None = None) -> None:
        super().__init__()
        if not isinstance(searches, Mapping) or not searches:
            raise ValueError(f"searches must be a non-empty dict of name -> Search, got "
                             f"{searches!r}.")
        for name, search in searches.items():
            if not isinstance(search, Search):
                raise TypeError(f"searches[{name!r}] must be a Search, got {type(search).__name__}.")
        self.searches = dict(searches)
        self.total_budget = check_float("total_budget", total_budget, minimum=0.0,
                                        exclusive_minimum=True)
        self.direction = _common_direction(self.searches, direction)
        self.costs = _cost_functions(self.searches, cost)
        self.spent = {name: 0.0 for name in self.searches}
        self.best = {name: np.nan for name in self.searches}
        self.curves: dict[str, list[tuple[float, float]]] = {name: [] for name in self.searches}
        self.retired: set[str] = set()

    def _active(self) -> list[str]:
        return [name for name, search in self.searches.items()
                if name not in self.retired and not search.done
                and self.spent[name] < self.total_budget]

    @property
    def done(self) -> bool:
        return not self._active()

    def _step(self) -> dict[str, Any]:
        name = min(self._active(), key=lambda candidate: self.spent[candidate])
        event = self.searches[name].step()
        cost = float(self.costs[name](event))
        if not np.isfinite(cost) or cost < 0:
            raise ValueError(f"the cost of a step of {name!r} is {cost}; a cost function must "
                             f"return a finite number >= 0.")
        self.spent[name] += cost
        value = event.get("value")
        if value is not None and np.isfinite(value):
            better = max if self.direction == "maximize" else min
            self.best[name] = value if np.isnan(self.best[name]) else better(self.best[name], value)
        self.curves[name].append((self.spent[name], self.best[name]))
        return {"search": name, "spent": self.spent[name], "best": self.best[name], **event}

    def snapshot(self) -> RaceSnapshot:
        return RaceSnapshot(curves={name: np.array(points).reshape(-1, 2)
                                    for name, points in self.curves.items()},
                            spent=dict(self.spent), total_budget=self.total_budget,
                            direction=self.direction)

    @steering
    def retire(self, name: str) -> None:
        """Take search ``name`` out of the race."""
        check_choice("name", name, list(self.searches))
        self.retired.add(name)
