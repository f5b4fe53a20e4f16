"""A live view of the explicit feature-interaction searches: FIVES, AutoCross and AutoFIS.

- FIVES: one heatmap of edge probabilities per interaction order, a
  threshold slider per order, edges forced on or off by hand (click a cell
  to select it), and the crosses derived at the current thresholds.
- AutoCross: the candidate scores of every beam-search level, the chosen
  path and the validation AUC after each level.
- AutoFIS: the gate |alpha| of every field pair, the pairs kept for the
  re-train stage, and the stage switch.

For all three, **Evaluate** fits logistic regression on the one-hot fields
plus the derived crosses and shows its validation AUC beside the plain
model's, so a person can judge the crosses with the lightweight model they
are meant for.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ipywidgets as w
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from widgets.base import Panel
from workbench.core import Runner
from workbench.features.autocross import AutoCross
from workbench.features.autofis import AutoFIS
from workbench.features.categorical_table import CategoricalTable
from workbench.features.crosses import cross_name
from workbench.features.fives import Fives
from workbench.features.sparse_lr import logistic_regression_auc

SEARCH_TYPES = (Fives, AutoCross, AutoFIS)
EDGE_STATES = {"learned": None, "forced on": True, "forced off": False}
MAX_LISTED_CROSSES = 40   # crosses shown in the list; the rest are counted


def derived_crosses(snapshot: Any) -> tuple[tuple[str, ...], ...]:
    """Return the crosses a snapshot of FIVES, AutoCross or AutoFIS currently proposes."""
    if hasattr(snapshot, "adjacency"):                      # FIVES
        return tuple(snapshot.crosses)
    if hasattr(snapshot, "gate_matrix"):                    # AutoFIS
        return tuple(snapshot.kept_pairs) + tuple(snapshot.kept_triples)
    return tuple(snapshot.chosen)                           # AutoCross


def crosses_html(crosses: Sequence[Sequence[str]]) -> str:
    """Return an HTML list of the first MAX_LISTED_CROSSES ``crosses`` with their sizes."""
    if not crosses:
        return "<i>no crosses derived yet</i>"
    items = "".join(f"<li>{cross_name(cross)} <small>({len(cross)} fields)</small></li>"
                    for cross in crosses[:MAX_LISTED_CROSSES])
    more = len(crosses) - MAX_LISTED_CROSSES
    tail = f"<li><i>... and {more} more</i></li>" if more > 0 else ""
    return f"<b>{len(crosses)} derived crosses</b><ol>{items}{tail}</ol>"


class AdjacencyPanel(Panel):
    """Adjacency heatmaps (FIVES), beam levels (AutoCross) or gates (AutoFIS), with Evaluate.

    Parameters
    ----------
    runner : Runner
        A runner whose search is a :class:`~workbench.features.Fives`,
        :class:`~workbench.features.AutoCross` or
        :class:`~workbench.features.AutoFIS`.
    train, valid : CategoricalTable or None
        The tables the Evaluate button fits and scores logistic regression
        on, with their 0/1 labels ``y_train`` and ``y_valid``. Without them
        the button is disabled.
    title : str
    max_redraws_per_second : float, default 4.0
    """

    def __init__(self, runner: Runner, *, train: CategoricalTable | None = None,
                 y_train: Any = None, valid: CategoricalTable | None = None, y_valid: Any = None,
                 title: str = "", max_redraws_per_second: float = 4.0) -> None:
        if not isinstance(runner, Runner) or not isinstance(runner.search, SEARCH_TYPES):
            raise TypeError("runner must be a Runner whose search is a Fives, AutoCross or "
                            f"AutoFIS, got {type(getattr(runner, 'search', runner)).__name__}.")
        provided = [value is not None for value in (train, y_train, valid, y_valid)]
        if any(provided) and not all(provided):
            raise ValueError("pass all of train, y_train, valid and y_valid for the Evaluate "
                             "button, or none of them.")
        for name, table in (("train", train), ("valid", valid)):
            if table is not None and not isinstance(table, CategoricalTable):
                raise TypeError(f"{name} must be a CategoricalTable, got "
                                f"{type(table).__name__}; encode it with TableEncoder.")
        snapshot = runner.search.snapshot()
        if all(provided):
            for name, table in (("train", train), ("valid", valid)):
                if tuple(table.field_names) != tuple(snapshot.field_names):
                    raise ValueError(f"{name} has fields {table.field_names} but the search has "
                                     f"{tuple(snapshot.field_names)}; pass the tables the "
                                     f"search was built on.")
            for name, labels, table in (("y_train", y_train, train), ("y_valid", y_valid, valid)):
                if len(labels) != len(table):
                    raise ValueError(f"{name} has {len(labels)} labels but its table has "
                                     f"{len(table)} rows; pass one label per row.")
        self.search = runner.search
        self.kind = type(self.search).__name__
        self._evaluation_data = (train, y_train, valid, y_valid) if all(provided) else None
        self._baseline_auc: float | None = None
        self._last: Any = None
        self._syncing_sliders = False
        self.field_names = tuple(snapshot.field_names)

        self.crosses_list = w.HTML()
        self.evaluation = w.HTML("<i>press Evaluate to score the crosses with logistic "
                                 "regression</i>")
        self.info = w.HTML()
        super().__init__(runner, title=title or f"{self.kind}: feature interactions",
                         max_redraws_per_second=max_redraws_per_second)
        self.redraw(snapshot)

    # ----- layout ---------------------------------------------------------

    def build_figures(self) -> list[go.FigureWidget]:
        if self.kind == "Fives":
            self.main_figure = self._adjacency_figure(len(self.search.thresholds))
        elif self.kind == "AutoFIS":
            self.main_figure = self._square_heatmap("AutoFIS gates |alpha| per field pair")
        else:
            self.main_figure = go.FigureWidget(layout=go.Layout(
                title="AutoCross: candidate scores per level", height=360,
                xaxis=dict(title="level (crosses chosen so far + 1)", dtick=1),
                yaxis=dict(title="field-wise LR score (higher is better)")))
            self.main_figure.add_scatter(x=[], y=[], mode="markers", name="candidates",
                                         marker=dict(color="#8c959f", size=7), text=[],
                                         hovertemplate="%{text}<br>score %{y:.5f}")
            self.main_figure.add_scatter(x=[], y=[], mode="markers+lines+text", name="chosen",
                                         marker=dict(color="#cf222e", size=11), text=[],
                                         textposition="top center")
        self.curves = go.FigureWidget(layout=go.Layout(
            title="validation AUC", height=280, xaxis=dict(title=self._curve_axis()),
            yaxis=dict(title="AUC")))
        self.curves.add_scatter(x=[], y=[], mode="lines+markers", name="validation AUC")
        return [self.main_figure, self.curves]

    def _curve_axis(self) -> str:
        return {"Fives": "step", "AutoFIS": "epoch", "AutoCross": "level"}[self.kind]

    def _adjacency_figure(self, orders: int) -> go.FigureWidget:
        base = make_subplots(rows=1, cols=orders, horizontal_spacing=0.08,
                             subplot_titles=[f"order {k}: crosses of {k + 1} fields"
                                             for k in range(1, orders + 1)])
        figure = go.FigureWidget(base)
        size = len(self.field_names)
        figure.update_layout(title="FIVES edge probabilities (row: target, column: source)",
                             height=260 + 18 * size, margin=dict(l=120, r=20, t=70, b=120))
        for k in range(1, orders + 1):
            figure.add_heatmap(z=[[0.0]], x=[""], y=[""], zmin=0.0, zmax=1.0, name=f"order {k}",
                               colorscale="Blues", showscale=k == orders, row=1, col=k,
                               hovertemplate="%{y} <- %{x}: %{z:.3f}<extra>%{text}</extra>",
                               text=[[""]])
            figure.update_yaxes(autorange="reversed", row=1, col=k)
        for k, trace in enumerate(figure.data, start=1):
            trace.on_click(self._select_edge_callback(k))
        return figure

    def _square_heatmap(self, title: str) -> go.FigureWidget:
        size = len(self.field_names)
        figure = go.FigureWidget(layout=go.Layout(
            title=title, height=260 + 18 * size, margin=dict(l=120, r=20, t=50, b=120),
            yaxis=dict(autorange="reversed")))
        figure.add_heatmap(z=[[0.0]], x=[""], y=[""], colorscale="Reds", name="gates",
                           hovertemplate="%{y} x %{x}: %{z:.4f}<extra></extra>")
        return figure

    def build_controls(self) -> w.Widget:
        self.evaluate_button = self.action_button("Evaluate", self.evaluate, context="Evaluate")
        self.evaluate_button.tooltip = "fit logistic regression with the derived crosses"
        self.evaluate_button.disabled = self._evaluation_data is None
        rows: list[w.Widget] = []
        if self.kind == "Fives":
            rows += self._fives_controls()
        elif self.kind == "AutoFIS":
            rows += self._autofis_controls()
        else:
            rows += self._autocross_controls()
        rows.append(w.HBox([self.evaluate_button, self.evaluation]))
        rows.append(self.info)
        rows.append(self.crosses_list)
        return w.VBox(rows)

    def _field_dropdown(self, description: str, value: int = 0) -> w.Dropdown:
        return w.Dropdown(options=[(name, index) for index, name in enumerate(self.field_names)],
                          value=min(value, len(self.field_names) - 1), description=description,
                          layout=w.Layout(width="260px"))

    def _fives_controls(self) -> list[w.Widget]:
        self.threshold_sliders = []
        for k, value in enumerate(self.search.thresholds, start=1):
            slider = w.FloatSlider(value=value, min=0.0, max=1.0, step=0.01,
                                   description=f"threshold {k}", continuous_update=False,
                                   layout=w.Layout(width="330px"))
            slider.observe(self.guarded(self._threshold_callback(k, slider),
                                        context="set_threshold"), names="value")
            self.threshold_sliders.append(slider)
        self.edge_order = w.Dropdown(options=list(range(1, len(self.search.thresholds) + 1)),
                                     value=1, description="order", layout=w.Layout(width="150px"))
        self.edge_source = self._field_dropdown("source", 0)
        self.edge_target = self._field_dropdown("target", 1)
        self.edge_state = w.ToggleButtons(options=list(EDGE_STATES), value="forced on",
                                          description="edge")
        apply_edge = self.action_button("Set edge", self.set_edge, context="set_edge")
        stop = self.action_button("End search", self.stop_search, context="stop")
        return [w.HBox(self.threshold_sliders),
                w.HBox([self.edge_order, self.edge_source, self.edge_target]),
                w.HBox([self.edge_state, apply_edge, stop])]

    def _autofis_controls(self) -> list[w.Widget]:
        self.pair_first = self._field_dropdown("field", 0)
        self.pair_second = self._field_dropdown("with", 1)
        self.pair_keep = w.ToggleButtons(options=["keep", "drop"], value="keep",
                                         description="pair")
        force = self.action_button("Force pair", self.force_pair, context="force_pair")
        retrain = self.action_button("Start re-train", self.start_retrain,
                                     context="start_retrain")
        stop = self.action_button("End search", self.stop_search, context="stop")
        return [w.HBox([self.pair_first, self.pair_second, self.pair_keep, force]),
                w.HBox([retrain, stop])]

    def _autocross_controls(self) -> list[w.Widget]:
        self.max_crosses_input = w.BoundedIntText(value=self.search.max_crosses, min=1,
                                                  max=10_000, description="max crosses",
                                                  layout=w.Layout(width="200px"))
        set_max = self.action_button("Set", self.set_max_crosses, context="set_max_crosses")
        stop = self.action_button("End search", self.stop_search, context="stop")
        return [w.HBox([self.max_crosses_input, set_max, stop])]

    # ----- steering -------------------------------------------------------

    def _threshold_callback(self, order: int, slider: w.FloatSlider):
        def callback() -> None:
            if self._syncing_sliders:
                return
            self._redraw_after(self.search.set_threshold(order, float(slider.value)))
        return callback

    def _select_edge_callback(self, order: int):
        def callback(trace: Any, points: Any, _state: Any) -> None:
            with self.guard("select edge"):
                if not points.point_inds:
                    return
                target, source = points.point_inds[0]
                self.edge_order.value = order
                self.edge_source.value = int(source)
                self.edge_target.value = int(target)
        return callback

    def set_edge(self) -> None:
        self._redraw_after(self.search.set_edge(self.edge_order.value, self.edge_source.value,
                                                self.edge_target.value,
                                                EDGE_STATES[self.edge_state.value]))

    def force_pair(self) -> None:
        self._redraw_after(self.search.force_pair(self.pair_first.value, self.pair_second.value,
                                                  self.pair_keep.value == "keep"))

    def start_retrain(self) -> None:
        self.search.start_retrain()

    def set_max_crosses(self) -> None:
        self.search.set_max_crosses(int(self.max_crosses_input.value))

    def stop_search(self) -> None:
        self.search.stop()

    def _redraw_after(self, future: Any) -> None:
        """Redraw once the steering call behind ``future`` is applied, even between steps.

        With a runner attached a steering call returns a Future; it completes
        at once when the runner is idle, else at the next step boundary.
        """
        def redraw(done: Any) -> None:
            if done.exception() is None:
                with self.guard("redraw after steering"):
                    self.redraw(self.search.snapshot())

        if hasattr(future, "add_done_callback"):
            future.add_done_callback(redraw)

    def evaluate(self) -> None:
        """Fit logistic regression with and without the derived crosses; show both AUCs."""
        if self._evaluation_data is None:
            raise ValueError("this panel has no evaluation data; build it with train, y_train, "
                             "valid and y_valid.")
        train, y_train, valid, y_valid = self._evaluation_data
        crosses = derived_crosses(self.search.snapshot())
        if self._baseline_auc is None:
            self._baseline_auc = logistic_regression_auc(train, y_train, valid, y_valid)
        auc = logistic_regression_auc(train, y_train, valid, y_valid, crosses)
        self.last_evaluation = {"crosses": crosses, "auc": auc, "baseline_auc": self._baseline_auc}
        gain = (auc - self._baseline_auc) / self._baseline_auc
        self.evaluation.value = (f"validation AUC of LR: <b>{auc:.4f}</b> with {len(crosses)} "
                                 f"crosses, {self._baseline_auc:.4f} without "
                                 f"({gain:+.2%} relative)")

    # ----- drawing --------------------------------------------------------

    def render(self, snapshot: Any) -> None:
        self._last = snapshot
        if self.kind == "Fives":
            self._draw_adjacency(snapshot)
            x = list(range(1, len(snapshot.validation_auc) + 1))
        elif self.kind == "AutoFIS":
            self._draw_gates(snapshot)
            x = list(range(1, len(snapshot.validation_auc) + 1))
        else:
            self._draw_levels(snapshot)
            x = list(range(len(snapshot.validation_auc)))
        self.curves.data[0].update(x=x, y=[float(v) for v in snapshot.validation_auc],
                                   name="validation AUC")
        self.crosses_list.value = crosses_html(derived_crosses(snapshot))
        self.info.value = self._info(snapshot)

    def _draw_adjacency(self, snapshot: Any) -> None:
        names = list(snapshot.field_names)
        marks = {1: "forced on", -1: "forced off", 0: ""}
        for trace, matrix, forced, threshold in zip(self.main_figure.data, snapshot.adjacency,
                                                    snapshot.forced, snapshot.thresholds):
            text = [[marks[int(value)] for value in row] for row in forced]
            trace.update(z=np.asarray(matrix).tolist(), x=names, y=names, text=text,
                         name=trace.name)
        # Follow thresholds set from code, but never overwrite a slider move whose
        # set_threshold call is still queued, and never echo the sync as a new call.
        if self.runner.pending_steering:
            return
        self._syncing_sliders = True
        try:
            for slider, value in zip(self.threshold_sliders, snapshot.thresholds):
                if abs(slider.value - value) > 1e-12:
                    slider.value = value
        finally:
            self._syncing_sliders = False

    def _draw_gates(self, snapshot: Any) -> None:
        names = list(snapshot.field_names)
        matrix = np.asarray(snapshot.gate_matrix, dtype=float)
        z = [[None if np.isnan(value) else float(value) for value in row] for row in matrix]
        self.main_figure.data[0].update(z=z, x=names, y=names, name="gates")

    def _draw_levels(self, snapshot: Any) -> None:
        xs, ys, labels, chosen_x, chosen_y, chosen_labels = [], [], [], [], [], []
        for level, frame in enumerate(snapshot.levels, start=1):
            for _, row in frame.iterrows():
                xs.append(level)
                ys.append(float(row["score"]))
                labels.append(f"{row['candidate']} (survived {int(row['rounds'])} rounds)")
                if bool(row["chosen"]):
                    chosen_x.append(level)
                    chosen_y.append(float(row["score"]))
                    chosen_labels.append(str(row["candidate"]))
        self.main_figure.data[0].update(x=xs, y=ys, text=labels, name="candidates")
        self.main_figure.data[1].update(x=chosen_x, y=chosen_y, text=chosen_labels,
                                        name="chosen")

    def _info(self, snapshot: Any) -> str:
        state = "done" if snapshot.done else "running"
        reason = f" ({snapshot.reason})" if snapshot.done and snapshot.reason else ""
        if self.kind == "Fives":
            auc = f", validation AUC {snapshot.validation_auc[-1]:.4f}" \
                if snapshot.validation_auc else ""
            return (f"step {snapshot.step}, epoch {snapshot.epoch:.2f}{auc}; "
                    f"thresholds {', '.join(f'{t:.2f}' for t in snapshot.thresholds)}; "
                    f"{state}{reason}")
        if self.kind == "AutoFIS":
            return (f"epoch {snapshot.epoch}, stage {snapshot.stage}; {snapshot.zero_gates} of "
                    f"{len(snapshot.pairs)} pair gates are exactly 0; {state}{reason}")
        auc = snapshot.validation_auc
        gain = f", validation AUC {auc[0]:.4f} -> {auc[-1]:.4f}" if auc else ""
        return (f"level {snapshot.level}, {len(snapshot.chosen)} crosses chosen{gain}; "
                f"{state}{reason}")
