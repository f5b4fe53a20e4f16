"""A live view of successive halving and Hyperband: the bracket board and learning curves."""

from __future__ import annotations

import ipywidgets as w
import numpy as np
import plotly.graph_objects as go

from widgets.base import Panel
from workbench.core import Runner
from workbench.hpo.bandits import BanditSearch, BanditSnapshot, Hyperband

BRACKET_COLORS = ["#0969da", "#1a7f37", "#9a6700", "#cf222e", "#8250df", "#bf3989", "#1b7c83",
                  "#57606a"]
RACING_STATES = ("alive", "promoted-by-hand")


class HyperbandPanel(Panel):
    """Bracket x rung board and learning curves of a bandit search, with stop and promote.

    The board has one cell per (bracket, rung): evaluated / scheduled
    configurations and the rung's budget, shaded by progress. Learning curves
    (value against budget) are colored by bracket; pruned configurations are
    faded and stopped ones dashed.

    Parameters
    ----------
    runner : Runner
        A runner whose search is a :class:`~workbench.hpo.bandits.SuccessiveHalving`
        or :class:`~workbench.hpo.bandits.Hyperband`.
    """

    def __init__(self, runner: Runner, *, title: str = "",
                 max_redraws_per_second: float = 4.0) -> None:
        if not isinstance(runner, Runner) or not isinstance(runner.search, BanditSearch):
            raise TypeError("runner must be a Runner whose search is SuccessiveHalving or "
                            f"Hyperband, got {type(getattr(runner, 'search', runner)).__name__}.")
        self.search = runner.search
        self.config_choice = w.Dropdown(options=[], description="configuration")
        self.eta_input = w.BoundedIntText(value=self.search.eta, min=2, max=10, description="eta",
                                          layout=w.Layout(width="160px"))
        self.info = w.HTML()
        self._curve_ids: list[int] = []
        super().__init__(runner, title=title or f"{type(self.search).__name__}: brackets and "
                         "learning curves", max_redraws_per_second=max_redraws_per_second)
        self.redraw(self.search.snapshot())

    def build_figures(self) -> list[go.FigureWidget]:
        self.board = go.FigureWidget(layout=go.Layout(
            title="bracket x rung board", height=260, margin=dict(l=60, r=20, t=40, b=40),
            xaxis=dict(title="rung", dtick=1), yaxis=dict(title="bracket", dtick=1)))
        self.board.add_heatmap(z=[[0.0]], x=[0], y=[0], colorscale="Blues", zmin=0, zmax=1,
                               showscale=False, texttemplate="%{text}", text=[[""]],
                               hovertemplate="%{text}<extra></extra>")
        self.curves = go.FigureWidget(layout=go.Layout(
            title="learning curves", height=320, margin=dict(l=60, r=20, t=40, b=40),
            xaxis=dict(title="budget", type="log"), yaxis=dict(title="value"), showlegend=False))
        return [self.board, self.curves]

    def build_controls(self) -> w.Widget:
        stop = w.Button(description="Stop configuration", layout=w.Layout(width="auto"))
        stop.on_click(self.guarded(self.stop_selected, context="stop"))
        promote = w.Button(description="Promote at rung end", layout=w.Layout(width="auto"))
        promote.on_click(self.guarded(self.promote_selected, context="promote"))
        rows = [w.HBox([self.config_choice, stop, promote])]
        if isinstance(self.search, Hyperband):
            set_eta = w.Button(description="Set eta for next brackets", layout=w.Layout(width="auto"))
            set_eta.on_click(self.guarded(lambda: self.search.set_eta(int(self.eta_input.value)),
                                          context="eta"))
            rows.append(w.HBox([self.eta_input, set_eta]))
        return w.VBox(rows + [self.info])

    def _selected(self) -> int:
        if self.config_choice.value is None:
            raise ValueError("no racing configuration is selected; wait for a bracket to start.")
        return int(self.config_choice.value)

    def stop_selected(self) -> None:
        self.search.stop_config(self._selected())

    def promote_selected(self) -> None:
        self.search.promote(self._selected())

    def render(self, snapshot: BanditSnapshot) -> None:
        if not isinstance(snapshot, BanditSnapshot):
            raise TypeError(f"HyperbandPanel renders BanditSnapshot, got {type(snapshot).__name__}.")
        self._render_board(snapshot)
        self._render_curves(snapshot)
        configs = snapshot.configurations
        racing = configs[configs["state"].isin(RACING_STATES)] if not configs.empty else configs
        options = [(f"#{int(row.config_id)} (bracket {int(row.bracket)}, rung {int(row.rung)}, "
                    f"value {row.last_value:.4g})", int(row.config_id))
                   for row in racing.itertuples()]
        if [value for _, value in options] != [value for _, value in self.config_choice.options]:
            current = self.config_choice.value
            self.config_choice.options = options
            if current in [value for _, value in options]:
                self.config_choice.value = current
        best = "none yet" if snapshot.best_value is None else f"{snapshot.best_value:.5g}"
        counts = configs["state"].value_counts().to_dict() if not configs.empty else {}
        self.info.value = (f"best at the largest budget so far: {best} · budget spent "
                           f"{snapshot.budget_spent:g} · eta {snapshot.eta} · "
                           + ", ".join(f"{state} {count}" for state, count in counts.items()))

    def _render_board(self, snapshot: BanditSnapshot) -> None:
        schedule = snapshot.schedule
        brackets = sorted(schedule["bracket"].unique(), reverse=True)
        n_rungs = int(schedule["rung"].max()) + 1
        z = np.full((len(brackets), n_rungs), np.nan)
        text = [[""] * n_rungs for _ in brackets]
        for row in schedule.itertuples():
            i = brackets.index(row.bracket)
            # More than scheduled when configurations were promoted by hand.
            z[i, row.rung] = min(row.n_evaluated / max(row.n_configs, 1), 1.0)
            marker = {"running": " ▶", "done": " ✓"}.get(row.status, "")
            text[i][row.rung] = f"{row.n_evaluated}/{row.n_configs} @ {row.budget:.3g}{marker}"
        heatmap = self.board.data[0]
        # JSON has no NaN: cells outside a bracket's rungs are sent as null.
        heatmap.z = [[None if np.isnan(value) else float(value) for value in row] for row in z]
        heatmap.text = text
        heatmap.x = list(range(n_rungs))
        heatmap.y = [f"s={b}" for b in brackets]

    def _render_curves(self, snapshot: BanditSnapshot) -> None:
        configs = snapshot.configurations
        ids = [int(c) for c in configs["config_id"]] if not configs.empty else []
        if ids[: len(self._curve_ids)] != self._curve_ids:
            self.curves.data = []
            self._curve_ids = []
        for config_id in ids[len(self._curve_ids):]:
            self.curves.add_scatter(x=[], y=[], mode="lines+markers", name=f"#{config_id}")
            self._curve_ids.append(config_id)
        states = dict(zip(ids, configs["state"])) if ids else {}
        brackets = dict(zip(ids, configs["bracket"])) if ids else {}
        for trace, config_id in zip(self.curves.data, self._curve_ids):
            curve = snapshot.curves.get(config_id, np.empty((0, 2)))
            state = states[config_id]
            color = BRACKET_COLORS[int(brackets[config_id]) % len(BRACKET_COLORS)]
            trace.x = curve[:, 0] if len(curve) else []
            trace.y = curve[:, 1] if len(curve) else []
            trace.opacity = 0.2 if state in ("pruned", "failed") else 1.0
            trace.line = dict(color=color, dash="dash" if state == "stopped" else "solid",
                              width=3 if state == "complete" else 1.5)
            trace.marker = dict(color=color, size=5)
