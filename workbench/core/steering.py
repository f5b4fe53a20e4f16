"""Steering actions and the steering log.

A steering action is a method of a :class:`~workbench.core.Search` decorated
with :func:`steering`. Each call is recorded as a :class:`SteeringRecord` with
the wall time, the step index it was applied before, the action name and its
arguments. A run's log can be saved to JSON, read to explain a result, and
replayed onto a fresh search built with the same seed.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import json
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from workbench.core.search import Search

LOG_FORMAT_VERSION = 1


@dataclasses.dataclass(frozen=True)
class SteeringRecord:
    """One applied steering call.

    Attributes
    ----------
    step : int
        Number of steps the search had completed when the call was applied;
        a replay applies it after that many steps.
    action : str
        Name of the steering method.
    arguments : dict
        Keyword arguments of the call, as JSON-compatible values.
    time : float
        Wall-clock time of application, in seconds since the Unix epoch.
    """

    step: int
    action: str
    arguments: dict[str, Any]
    time: float


def to_json_value(name: str, value: Any) -> Any:
    """Convert ``value`` to a JSON-compatible value, or raise ``TypeError``.

    numpy scalars and arrays become Python numbers and lists and tuples become
    lists, so a steering log written to JSON reads back to equal arguments.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"steering argument {name!r} must be finite, got {value}.")
        return value
    if isinstance(value, np.ndarray):
        return [to_json_value(name, item) for item in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [to_json_value(name, item) for item in value]
    if isinstance(value, dict):
        return {str(key): to_json_value(f"{name}[{key!r}]", item) for key, item in value.items()}
    raise TypeError(
        f"steering argument {name!r} has type {type(value).__name__}, which a steering "
        f"log cannot store; pass numbers, strings, booleans, None, lists or dicts of them."
    )


class SteeringLog:
    """Ordered record of the steering calls applied to one search."""

    def __init__(self, records: list[SteeringRecord] | None = None) -> None:
        self._records: list[SteeringRecord] = list(records or [])

    def append(self, record: SteeringRecord) -> None:
        self._records.append(record)

    @property
    def records(self) -> tuple[SteeringRecord, ...]:
        return tuple(self._records)

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[SteeringRecord]:
        return iter(tuple(self._records))

    def to_dict(self) -> dict[str, Any]:
        return {"version": LOG_FORMAT_VERSION,
                "records": [dataclasses.asdict(record) for record in self._records]}

    def save(self, path: str | Path) -> Path:
        """Write the log as JSON to ``path`` and return the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> SteeringLog:
        """Read a log written by :meth:`save`."""
        if not isinstance(path, (str, Path)):
            raise TypeError(f"path must be a str or Path, got {type(path).__name__}.")
        path = Path(path)
        if path.is_dir():
            raise ValueError(f"steering log path {str(path)!r} is a folder; pass the JSON file "
                             f"that SteeringLog.save wrote.")
        if not path.is_file():
            raise FileNotFoundError(f"steering log {str(path)!r} not found; "
                                    f"pass the path that SteeringLog.save wrote.")
        expected = ('a JSON object {"version": 1, "records": [{"step": int, "action": str, '
                    '"arguments": {...}, "time": float}, ...]}')
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
            version = payload["version"]
            records = [SteeringRecord(step=int(item["step"]), action=str(item["action"]),
                                      arguments=dict(item["arguments"]), time=float(item["time"]))
                       for item in payload["records"]]
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"steering log {str(path)!r} is not a valid log file ({error}); "
                             f"expected {expected}, as written by SteeringLog.save.") from error
        if version != LOG_FORMAT_VERSION:
            raise ValueError(f"steering log {str(path)!r} has format version {version}; "
                             f"this workbench reads version {LOG_FORMAT_VERSION}.")
        return cls(records)

    def replay(self, search: Search, *, max_steps: int | None = None) -> Search:
        """Run ``search`` to the end, applying each record after its step.

        ``search`` must be fresh (no step taken) and built with the same
        arguments and seed as the recorded one, so that the replay takes the
        same steps in the same order. Returns ``search``.
        """
        if search.n_steps != 0:
            raise ValueError(f"search has already taken {search.n_steps} steps; "
                             f"replay onto a freshly built search.")
        pending = sorted(self._records, key=lambda record: record.step)
        for record in pending:
            while search.n_steps < record.step:
                if search.done:
                    raise ValueError(f"the search finished after {search.n_steps} steps but the "
                                     f"log has {record.action!r} at step {record.step}; replay "
                                     f"onto a search built with the same arguments.")
                search.step()
            getattr(search, record.action)(**record.arguments)
        while not search.done and (max_steps is None or search.n_steps < max_steps):
            search.step()
        return search


def steering(method: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a method of a :class:`Search` as a steering action.

    The decorated method checks and records its call. With no runner attached
    it runs at once and returns the method's result. With a runner attached it
    returns a :class:`concurrent.futures.Future`: the call runs at once if the
    runner is between steps, otherwise it is queued and applied at the next
    step boundary. Either way the call is appended to ``search.steering_log``
    only once it has been applied without error.
    """
    signature = inspect.signature(method)
    action = method.__name__

    @functools.wraps(method)
    def wrapper(self: Search, *args: Any, **kwargs: Any) -> Any:
        try:
            bound = signature.bind(self, *args, **kwargs)
        except TypeError as error:
            raise TypeError(f"{type(self).__name__}.{action}: {error}") from None
        bound.apply_defaults()
        arguments = {name: to_json_value(name, value)
                     for name, value in bound.arguments.items() if name != "self"}
        runner = self._runner
        if runner is not None:
            return runner.submit_steering(action, arguments)
        return self.apply_steering(action, arguments)

    wrapper.is_steering_action = True
    wrapper.unwrapped = method
    return wrapper
