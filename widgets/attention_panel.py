"""A live view of AutoInt and Fi-GNN training: attention heatmaps, curves and ablations.

The heatmap shows which field attends to which: for AutoInt one layer and
head (or the mean over heads), for Fi-GNN the learned edge weights. The bar
chart beside it shows how much attention each field receives (AutoInt) or
the scoring layer's node weights (Fi-GNN). Both show the mean over the
search's attention rows, or one chosen validation row with its prediction.
"""

from __future__ import annotations


import ipywidgets as w
import numpy as np
import plotly.graph_objects as go

from widgets.base import Panel
from workbench.core import Runner
from workbench.features.ctr_search import CTRSnapshot, CTRTraining

MEAN_OVER_HEADS = "mean over heads"


def heatmap_matrix(snapshot: CTRSnapshot, layer: int, head: int | str,
                   use_row: bool) -> tuple[np.ndarray | None, str]:
    """Return the (fields, fields) matrix to draw and its title, or (None, reason).

    ``head`` is an index or :data:`MEAN_OVER_HEADS`. With ``use_row`` the
    selected row's maps are used when a row is selected.
    """
    maps = snapshot.attention
    scope = "mean over rows"
    if use_row and snapshot.row is not None:
        maps, scope = snapshot.row["attention"], f"row {snapshot.row['index']}"
    if maps is None:
        return None, f"model {snapshot.model!r} has no attention to show"
    if "edge_weights" in maps:
        return maps["edge_weights"], f"Fi-GNN edge weights A[i, j] ({scope})"
    weights = maps["weights"]                         # (layers, heads, fields, fields)
    layer = min(layer, weights.shape[0] - 1)
    if head == MEAN_OVER_HEADS:
        return weights[layer].mean(axis=0), f"layer {layer + 1}, mean over heads ({scope})"
    head = min(int(head), weights.shape[1] - 1)
    return weights[layer, head], f"layer {layer + 1}, head {head + 1} ({scope})"


def field_bars(snapshot: CTRSnapshot, matrix: np.ndarray | None,
               use_row: bool) -> tuple[np.ndarray | None, str]:
    """Return one value per field for the bar chart and its title."""
    maps = snapshot.attention
    if use_row and snapshot.row is not None:
        maps = snapshot.row["attention"]
    if maps is not None and "node_weights" in maps:
        return maps["node_weights"], "Fi-GNN node weights of the scoring layer"
    if matrix is None:
        return None, "no attention"
    # Attention a field receives: the column sums of the row-stochastic map.
    return matrix.sum(axis=0), "attention received per field (column sums)"


class AttentionPanel(Panel):
    """Attention heatmap, field bars, training curves and ablations of a :class:`CTRTraining`.

    Parameters
    ----------
    runner : Runner
        A runner whose search is a :class:`~workbench.features.ctr_search.CTRTraining`.
    """

    def __init__(self, runner: Runner, *, title: str = "",
                 max_redraws_per_second: float = 4.0) -> None:
        if not isinstance(runner, Runner) or not isinstance(runner.search, CTRTraining):
            raise TypeError("runner must be a Runner whose search is a CTRTraining, got "
                            f"{type(getattr(runner, 'search', runner)).__name__}.")
        self.search: CTRTraining = runner.search
        self._last: CTRSnapshot | None = None
        names = self.search.field_names
        self.view = w.ToggleButtons(options=["mean over rows", "one row"], value="mean over rows",
                                    description="show")
        self.row_input = w.BoundedIntText(value=0, min=0,
                                          max=max(len(self.search.data.y_validation) - 1, 0),
                                          description="row", layout=w.Layout(width="180px"))
        self.layer = w.Dropdown(options=[("layer 1", 0)], value=0, description="layer",
                                layout=w.Layout(width="180px"))
        self.head = w.Dropdown(options=[(MEAN_OVER_HEADS, MEAN_OVER_HEADS)], value=MEAN_OVER_HEADS,
                               description="head", layout=w.Layout(width="220px"))
        self.field = w.Dropdown(options=names, value=names[0], description="field")
        self.pair_first = w.Dropdown(options=names, value=names[0], description="pair")
        self.pair_second = w.Dropdown(options=names, value=names[min(1, len(names) - 1)],
                                      description="with")
        self.info = w.HTML()
        super().__init__(runner, title=title or f"{self.search.model_name}: attention, "
                         "training curves and ablations",
                         max_redraws_per_second=max_redraws_per_second)
        for control in (self.view, self.layer, self.head):
            control.observe(lambda _change: self._redraw_last(), names="value")
        self.redraw(self.search.snapshot())

    # ----- layout ---------------------------------------------------------

    def build_figures(self) -> list[go.FigureWidget]:
        margin = dict(l=90, r=20, t=40, b=80)
        self.heatmap = go.FigureWidget(layout=go.Layout(
            title="attention", height=380, margin=margin, xaxis=dict(title="attends to"),
            yaxis=dict(title="field", autorange="reversed")))
        self.heatmap.add_heatmap(z=[[0.0]], x=[""], y=[""], colorscale="Blues", zmin=0,
                                 hovertemplate="%{y} -> %{x}: %{z:.3f}<extra></extra>")
        self.bars = go.FigureWidget(layout=go.Layout(
            title="attention per field", height=260, margin=margin, yaxis=dict(title="weight")))
        self.bars.add_bar(x=[], y=[], name="weight", marker=dict(color="#0969da"))
        self.curves = go.FigureWidget(layout=go.Layout(
            title="training", height=280, margin=dict(l=60, r=60, t=40, b=40),
            xaxis=dict(title="step"), yaxis=dict(title="training loss"),
            yaxis2=dict(title="validation AUC", overlaying="y", side="right"),
            legend=dict(orientation="h", y=-0.25)))
        self.curves.add_scatter(x=[], y=[], name="training loss", mode="lines",
                                line=dict(color="#cf222e"))
        self.curves.add_scatter(x=[], y=[], name="validation AUC", mode="lines+markers",
                                yaxis="y2", line=dict(color="#0969da"))
        self.ablation_figure = go.FigureWidget(layout=go.Layout(
            title="ablations: validation AUC change", height=240, margin=margin,
            xaxis=dict(title="AUC with the field removed or the pair blocked minus AUC without")))
        self.ablation_figure.add_bar(x=[], y=[], orientation="h", name="AUC change",
                                     marker=dict(color="#9a6700"))
        return [self.heatmap, self.bars, self.curves, self.ablation_figure]

    def build_controls(self) -> w.Widget:
        button = self.action_button
        return w.VBox([
            w.HBox([self.view, self.row_input, button("Show row", self.show_row, context="row")]),
            w.HBox([self.layer, self.head]),
            w.HBox([self.field, button("Remove field", self.remove_field, context="ablation")]),
            w.HBox([self.pair_first, self.pair_second,
                    button("Block pair", self.block_pair, context="ablation")]),
            w.HBox([button("Stop early", self.stop_early, context="stop")]),
            self.info,
        ])

    # ----- steering from the controls ------------------------------------

    def show_row(self) -> None:
        self.search.select_row(int(self.row_input.value))
        self.view.value = "one row"

    def remove_field(self) -> None:
        self.search.ablate_field(self.field.value)

    def block_pair(self) -> None:
        self.search.ablate_pair(self.pair_first.value, self.pair_second.value)

    def stop_early(self) -> None:
        self.search.stop_early()

    # ----- drawing --------------------------------------------------------

    def _redraw_last(self) -> None:
        if self._last is not None:
            self.redraw(self._last)

    def render(self, snapshot: CTRSnapshot) -> None:
        if not isinstance(snapshot, CTRSnapshot):
            raise TypeError(f"AttentionPanel renders CTRSnapshot, got {type(snapshot).__name__}.")
        self._last = snapshot
        self._sync_layer_head(snapshot)
        use_row = self.view.value == "one row"
        names = snapshot.field_names
        matrix, title = heatmap_matrix(snapshot, int(self.layer.value), self.head.value, use_row)
        heat = self.heatmap.data[0]
        if matrix is None:
            heat.update(z=[[0.0]], x=[""], y=[""])
        else:
            heat.update(z=np.asarray(matrix).tolist(), x=names, y=names)
        self.heatmap.layout.title = title

        values, bar_title = field_bars(snapshot, matrix, use_row)
        self.bars.data[0].update(x=names if values is not None else [],
                                 y=np.asarray(values).tolist() if values is not None else [])
        self.bars.layout.title = bar_title

        steps = [record["step"] for record in snapshot.history]
        self.curves.data[0].update(x=steps, y=[record["loss"] for record in snapshot.history])
        self.curves.data[1].update(x=steps, y=[record["val_auc"] for record in snapshot.history])

        labels = [" x ".join(ablation.fields) for ablation in snapshot.ablations]
        changes = [ablation.change for ablation in snapshot.ablations]
        self.ablation_figure.data[0].update(x=changes, y=labels)
        self.info.value = self._info(snapshot)

    def _sync_layer_head(self, snapshot: CTRSnapshot) -> None:
        """Offer the layers and heads the model has (AutoInt only)."""
        maps = snapshot.attention
        if maps is None or "weights" not in maps:
            self.layer.disabled = self.head.disabled = True
            return
        layers, heads = maps["weights"].shape[:2]
        layer_options = [(f"layer {i + 1}", i) for i in range(layers)]
        # Every option is a (label, value) pair: ipywidgets reads a mixed list as values.
        head_options = [(MEAN_OVER_HEADS, MEAN_OVER_HEADS)] + [(f"head {i + 1}", i)
                                                               for i in range(heads)]
        if list(self.layer.options) != layer_options:
            self.layer.options = layer_options
        if len(self.head.options) != len(head_options):
            self.head.options = head_options
        self.layer.disabled = self.head.disabled = False

    def _info(self, snapshot: CTRSnapshot) -> str:
        parts = [f"<b>{snapshot.model}</b>", f"step {snapshot.step}, epoch {snapshot.epoch}"]
        if snapshot.history:
            last = snapshot.history[-1]
            parts.append(f"loss {last['loss']:.4f}, validation AUC {last['val_auc']:.4f}, "
                         f"log loss {last['val_logloss']:.4f}")
            parts.append(f"best AUC {snapshot.best_val_auc:.4f} at step {snapshot.best_step}")
        if snapshot.row is not None:
            row = snapshot.row
            parts.append(f"row {row['index']}: predicted {row['probability']:.3f}, "
                         f"label {row['label']}")
        if snapshot.stop_reason is not None:
            parts.append(f"stopped: {snapshot.stop_reason}")
        if snapshot.test is not None:
            parts.append(f"test AUC {snapshot.test['auc']:.4f}, "
                         f"log loss {snapshot.test['logloss']:.4f}")
        text = " &middot; ".join(parts)
        if snapshot.diverged is not None:
            text += (f"<br><span style='color:#cf222e'>the loss became NaN or infinite at step "
                     f"{snapshot.diverged['step']}, batch {snapshot.diverged['batch']}; the "
                     f"weights of step {snapshot.best_step} are kept</span>")
        return text
