"""Panel overhead: a search's steps per second headless versus with a live panel.

Two searches are timed, each in both modes, interleaved over several rounds
in one process so that machine noise hits both modes alike:

- ``empty``: a step that does no work, the worst case for overhead;
- ``random``: RandomSearch on an in-memory Optuna study with a cheap
  objective, a realistic step of a few milliseconds.

"panel" means a StudyPanel (or a minimal scatter panel for the empty search)
subscribed to the runner and redrawing at its default rate. With no browser
attached, a redraw still builds and serializes every plotly trace update.

Run: ``python tests/benchmarks/bench_panel_overhead.py [--rounds 5] [--scale 1.0]``
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import optuna
import plotly.graph_objects as go
from optuna.distributions import FloatDistribution

from widgets import Panel, StudyPanel
from workbench.core import Runner, Search
from workbench.hpo import RandomSearch


WINDOW = 500  # values the empty search's snapshot carries, like a panel's recent-history window
DEFAULT_STEPS = {"empty": 400_000, "random": 4_000}  # about one to two seconds per headless run


class EmptySearch(Search):
    """A search whose step only counts, so the runner and panel costs dominate."""

    def __init__(self, n_steps: int) -> None:
        super().__init__()
        self.target = n_steps
        self.values: list[float] = []

    def _step(self):
        self.values.append(float(len(self.values) % 7))
        return {}

    @property
    def done(self):
        return len(self.values) >= self.target

    def snapshot(self):
        return tuple(self.values[-WINDOW:])


class ValuesPanel(Panel):
    def build_figures(self):
        self.figure = go.FigureWidget()
        self.figure.add_scatter(y=[], mode="markers")
        return [self.figure]

    def render(self, snapshot):
        self.figure.data[0].y = snapshot


def build(kind: str, n_steps: int, with_panel: bool):
    if kind == "empty":
        runner = Runner(EmptySearch(n_steps))
        panel = ValuesPanel(runner) if with_panel else None
    else:
        search = RandomSearch(lambda p: -(p["x"] - 1.0) ** 2 - (p["y"] + 2.0) ** 2,
                              {"x": FloatDistribution(-5, 5), "y": FloatDistribution(-5, 5)},
                              n_trials=n_steps, storage=optuna.storages.InMemoryStorage())
        runner = Runner(search)
        panel = StudyPanel(runner) if with_panel else None
    return runner, panel


def steps_per_second(kind: str, n_steps: int, with_panel: bool) -> tuple[float, int]:
    runner, panel = build(kind, n_steps, with_panel)
    started = time.perf_counter()
    runner.run()
    elapsed = time.perf_counter() - started
    redraws = panel.n_redraws if panel else 0
    if panel is not None:
        assert not panel.errors, panel.errors
        panel.close()
    return n_steps / elapsed, redraws


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply the default steps per run (empty 400,000; random 4,000)")
    arguments = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    print(f"# {time.strftime('%Y-%m-%d')} · {platform.processor() or platform.machine()} · "
          f"python {platform.python_version()} · rounds {arguments.rounds} · "
          f"scale {arguments.scale}")
    print("| search | headless steps/s (median) | with panel steps/s (median) "
          "| panel/headless | redraws per run |")
    print("|---|---|---|---|---|")
    for kind in ("empty", "random"):
        n_steps = max(1, int(DEFAULT_STEPS[kind] * arguments.scale))
        headless, panel, redraws = [], [], []
        for _ in range(arguments.rounds):
            headless.append(steps_per_second(kind, n_steps, False)[0])
            rate, count = steps_per_second(kind, n_steps, True)
            panel.append(rate)
            redraws.append(count)
        ratios = [p / h for p, h in zip(panel, headless)]
        print(f"| {kind} | {statistics.median(headless):,.0f} | {statistics.median(panel):,.0f} "
              f"| {statistics.median(ratios):.2f} (min {min(ratios):.2f}, max {max(ratios):.2f}) "
              f"| {statistics.median(redraws):.0f} |")


if __name__ == "__main__":
    main()
