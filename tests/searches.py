"""Small real searches used by the core and widget tests."""

from __future__ import annotations

import threading
import time

import numpy as np

from workbench.core import Search, make_rng, steering


class NoisyQuadratic(Search):
    """Random search on f(x) = -(x - center)^2 over [low, high].

    One step draws one x and records its value. ``step_seconds`` makes a step
    last long enough for a test to act while it runs, and ``fail_at`` makes
    the step with that index raise once the search reaches it.
    """

    def __init__(self, n_trials=20, *, low=-5.0, high=5.0, center=1.0, seed=0,
                 step_seconds=0.0, fail_at=None):
        super().__init__()
        self.n_trials = n_trials
        self.low, self.high, self.center = low, high, center
        self.rng = make_rng(seed)
        self.step_seconds = step_seconds
        self.fail_at = fail_at
        self.xs: list[float] = []
        self.values: list[float] = []
        self.in_step = threading.Event()
        self.overlaps = 0  # steering calls that ran while a step was running

    def _step(self):
        self.in_step.set()
        try:
            if self.fail_at is not None and len(self.xs) == self.fail_at:
                raise RuntimeError(f"injected failure at trial {self.fail_at}")
            x = float(self.rng.uniform(self.low, self.high))
            if self.step_seconds:
                time.sleep(self.step_seconds)
            value = -(x - self.center) ** 2
            self.xs.append(x)
            self.values.append(value)
            return {"x": x, "value": value}
        finally:
            self.in_step.clear()

    @property
    def done(self):
        return len(self.xs) >= self.n_trials

    def snapshot(self):
        return {"xs": np.array(self.xs), "values": np.array(self.values),
                "low": self.low, "high": self.high}

    def _check_not_in_step(self):
        if self.in_step.is_set():
            self.overlaps += 1

    @steering
    def narrow(self, low: float, high: float):
        self._check_not_in_step()
        if not low < high:
            raise ValueError(f"low must be < high, got low={low}, high={high}.")
        self.low, self.high = low, high

    @steering
    def set_n_trials(self, n_trials: int):
        self._check_not_in_step()
        self.n_trials = n_trials

    @steering
    def clear_failure(self):
        self.fail_at = None
