"""The steerable-search protocol.

A :class:`Search` does its work in steps. ``step()`` does one unit of work (a
trial, a rung, an epoch, a meta-batch) and returns an event record. ``done``
is true once the search has finished. ``snapshot()`` returns an immutable,
render-ready view of the state. Methods decorated with
:func:`~workbench.core.steering.steering` change the search between steps and
are recorded in its steering log.

Example
-------
>>> class CountTo(Search):
...     def __init__(self, n):
...         super().__init__()
...         self.n, self.value = n, 0
...     def _step(self):
...         self.value += 1
...         return {"value": self.value}
...     @property
...     def done(self):
...         return self.value >= self.n
...     def snapshot(self):
...         return {"value": self.value}
...     @steering
...     def set_n(self, n):
...         self.n = n
>>> search = CountTo(3)
>>> search.set_n(5)
>>> while not search.done:
...     _ = search.step()
>>> search.snapshot(), len(search.steering_log)
({'value': 5}, 1)
"""

from __future__ import annotations

import abc
import time
from typing import TYPE_CHECKING, Any

from workbench.core.steering import SteeringLog, SteeringRecord, steering

if TYPE_CHECKING:
    from workbench.core.runner import Runner

__all__ = ["Search", "steering"]


class Search(abc.ABC):
    """Base class of every steerable search.

    Subclasses implement :meth:`_step`, :attr:`done` and :meth:`snapshot`, and
    decorate their steering methods with :func:`steering`. A subclass must
    leave its state consistent when ``_step`` raises, so that a failed step can
    be retried once its cause is fixed.

    Attributes
    ----------
    n_steps : int
        Number of steps completed without error.
    steering_log : SteeringLog
        Every steering call applied so far, in order.
    """

    def __init__(self) -> None:
        self.n_steps = 0
        self.steering_log = SteeringLog()
        self._runner: Runner | None = None

    @abc.abstractmethod
    def _step(self) -> dict[str, Any]:
        """Do one unit of work and return an event record."""

    @property
    @abc.abstractmethod
    def done(self) -> bool:
        """Return True once the search has finished."""

    @abc.abstractmethod
    def snapshot(self) -> Any:
        """Return an immutable view of the state, cheap enough for live redraws."""

    def step(self) -> dict[str, Any]:
        """Do one unit of work; raise ``RuntimeError`` if the search is done."""
        if self.done:
            raise RuntimeError(f"{type(self).__name__} is done after {self.n_steps} steps; "
                               f"{self.continue_hint()}")
        event = self._step()
        self.n_steps += 1
        return event

    def continue_hint(self) -> str:
        """Return the advice that ``step`` gives once the search is done."""
        return "steer it to continue (for example raise its budget) or build a new search."

    def apply_steering(self, action: str, arguments: dict[str, Any]) -> Any:
        """Run steering method ``action`` now and record it in the steering log.

        Callers normally call the steering method itself; a :class:`Runner`
        uses this to apply a queued call at a step boundary.
        """
        method = getattr(type(self), action, None)
        if method is None or not getattr(method, "is_steering_action", False):
            raise ValueError(f"{action!r} is not a steering action of {type(self).__name__}; "
                             f"choose one of {sorted(self.steering_actions())}.")
        result = method.unwrapped(self, **arguments)
        self.steering_log.append(SteeringRecord(step=self.n_steps, action=action,
                                                arguments=arguments, time=time.time()))
        return result

    @classmethod
    def steering_actions(cls) -> list[str]:
        """Return the names of this search's steering methods."""
        return [name for name in dir(cls)
                if getattr(getattr(cls, name, None), "is_steering_action", False)]
