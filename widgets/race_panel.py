"""Best-so-far curves of several searches racing under the same budget."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from widgets.base import Panel
from workbench.core import Runner
from workbench.hpo.race import Race, RaceSnapshot

COLORS = ["#0969da", "#cf222e", "#1a7f37", "#9a6700", "#8250df", "#1b7c83"]


class RacePanel(Panel):
    """One best-so-far curve per search against the budget it has spent.

    Parameters
    ----------
    runner : Runner
        A runner whose search is a :class:`~workbench.hpo.race.Race`.
    budget_label : str, default "budget spent"
        x-axis title, for example ``"epochs"``.
    """

    def __init__(self, runner: Runner, *, budget_label: str = "budget spent", title: str = "",
                 max_redraws_per_second: float = 4.0) -> None:
        if not isinstance(runner, Runner) or not isinstance(runner.search, Race):
            raise TypeError("runner must be a Runner whose search is a Race, got "
                            f"{type(getattr(runner, 'search', runner)).__name__}.")
        self.race = runner.search
        self.budget_label = budget_label
        super().__init__(runner, title=title or "Race: best so far at equal budget",
                         max_redraws_per_second=max_redraws_per_second)
        self.redraw(self.race.snapshot())

    def build_figures(self) -> list[go.FigureWidget]:
        self.figure = go.FigureWidget(layout=go.Layout(
            height=340, margin=dict(l=60, r=20, t=40, b=45), xaxis_title=self.budget_label,
            yaxis_title="best value so far", legend=dict(orientation="h", y=1.02,
                                                         yanchor="bottom")))
        for index, name in enumerate(self.race.searches):
            self.figure.add_scatter(x=[], y=[], mode="lines", name=name,
                                    line=dict(shape="hv", width=2,
                                              color=COLORS[index % len(COLORS)]))
        return [self.figure]

    def render(self, snapshot: RaceSnapshot) -> None:
        if not isinstance(snapshot, RaceSnapshot):
            raise TypeError(f"RacePanel renders RaceSnapshot, got {type(snapshot).__name__}.")
        for trace, name in zip(self.figure.data, snapshot.curves):
            curve = snapshot.curves[name]
            curve = curve[~np.isnan(curve[:, 1])]   # no best value before the first success
            trace.x = curve[:, 0]
            trace.y = curve[:, 1]
        self.figure.layout.xaxis.range = [0, snapshot.total_budget]
