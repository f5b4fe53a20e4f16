"""A live view of a DARTS search: mixing weights, their trajectories, the genotype and curves.

Two heatmaps show softmax(alpha / temperature) per edge and operation for the
normal and the reduction cell. A line chart shows how the weights of one edge
moved step by step, a cell diagram draws the derived genotype, and the
training curves show loss and accuracy. The steering controls pin, forbid or
reset operations, change the architecture learning rate and the temperature,
and stop the search.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w
import numpy as np
import plotly.graph_objects as go

from widgets.base import Panel
from workbench.core import Runner
from workbench.nas import Darts, DartsSnapshot, Genotype

CELLS = ("normal", "reduce")
OPERATION_COLORS = ("#666666", "#1a7f37", "#0969da", "#8250df", "#cf222e", "#9a6700",
                    "#bf3989", "#1b7c83")


def _node_name(node: int) -> str:
    """Return the diagram label of genotype node ``node`` (0 and 1 are the cell inputs)."""
    return {0: "c_{k-2}", 1: "c_{k-1}"}.get(node, str(node))


def cell_layout(steps: int) -> dict[str, tuple[float, float]]:
    """Return fixed (x, y) positions for the inputs, the intermediate nodes and the output.

    Nodes are numbered as in :class:`~workbench.nas.Genotype`: the inputs
    c_{k-2} and c_{k-1} sit at x = 0, intermediate node i (from 2) at x = i - 1
    alternately above and below the middle line, and the output at
    x = steps + 1, so every edge points from left to right.
    """
    positions = {"c_{k-2}": (0.0, 1.0), "c_{k-1}": (0.0, -1.0)}
    for node in range(steps):
        positions[str(node + 2)] = (node + 1.0, 0.6 if node % 2 == 0 else -0.6)
    positions["output"] = (steps + 1.0, 0.0)
    return positions


def genotype_edges(genotype: Genotype, cell: str) -> list[tuple[str, str, str]]:
    """Return the (operation, source name, target name) of every kept edge of ``cell``."""
    genes = getattr(genotype, cell)
    return [(operation, _node_name(source), str(position // 2 + 2))
            for position, (operation, source) in enumerate(genes)]


class DartsPanel(Panel):
    """Mixing weights, trajectories, genotype, curves and steering of a :class:`Darts` search.

    Parameters
    ----------
    runner : Runner
        A runner whose search is a :class:`~workbench.nas.Darts`.
    title : str
    max_redraws_per_second : float, default 4.0

    The cell and edge dropdowns of the steering controls also choose the edge
    whose trajectories are drawn.
    """

    def __init__(self, runner: Runner, *, title: str = "",
                 max_redraws_per_second: float = 4.0) -> None:
        if not isinstance(runner, Runner) or not isinstance(runner.search, Darts):
            raise TypeError("runner must be a Runner whose search is a Darts, got "
                            f"{type(getattr(runner, 'search', runner)).__name__}.")
        self.search: Darts = runner.search
        self._last: DartsSnapshot | None = None
        self.operations = tuple(self.search.operations)
        self.edge_labels = tuple(self.search.edge_labels)
        self.steps: int = self.search.supernet.steps

        self.cell = w.Dropdown(options=list(CELLS), value="normal", description="cell",
                               layout=w.Layout(width="200px"))
        self.edge = w.Dropdown(options=[(label, index) for index, label in
                                        enumerate(self.edge_labels)],
                               value=0, description="edge", layout=w.Layout(width="280px"))
        self.operation = w.Dropdown(options=list(self.operations), value=self.operations[0],
                                    description="operation", layout=w.Layout(width="260px"))
        self.arch_lr_input = w.FloatText(value=self.search.arch_lr, description="arch lr",
                                         layout=w.Layout(width="200px"))
        self.temperature_input = w.FloatText(value=self.search.temperature,
                                             description="temperature",
                                             layout=w.Layout(width="200px"))
        self.genotype_cell = w.ToggleButtons(options=list(CELLS), value="normal",
                                             description="genotype")
        self.info = w.HTML()
        super().__init__(runner, title=title or "DARTS: mixing weights, genotype and training",
                         max_redraws_per_second=max_redraws_per_second)
        for control in (self.cell, self.edge, self.genotype_cell):
            control.observe(lambda _change: self._redraw_last(), names="value")
        self.redraw(self.search.snapshot())

    # ----- layout ---------------------------------------------------------

    def build_figures(self) -> list[go.FigureWidget]:
        height = 120 + 22 * len(self.edge_labels)
        self.heatmaps: dict[str, go.FigureWidget] = {}
        for cell in CELLS:
            figure = go.FigureWidget(layout=go.Layout(
                title=f"{cell} cell: softmax(alpha / temperature)", height=height,
                margin=dict(l=150, r=20, t=40, b=90), xaxis=dict(title="operation"),
                yaxis=dict(title="edge", autorange="reversed")))
            figure.add_heatmap(z=[[0.0]], x=[""], y=[""], text=[[""]], name=f"{cell} weights",
                               colorscale="Blues", zmin=0, zmax=1,
                               hovertemplate="%{y}, %{x}: %{z:.3f} %{text}<extra></extra>")
            self.heatmaps[cell] = figure

        self.trajectories = go.FigureWidget(layout=go.Layout(
            title="mixing weights of one edge", height=300,
            margin=dict(l=60, r=20, t=40, b=40), xaxis=dict(title="step"),
            yaxis=dict(title="weight", range=[0, 1]), legend=dict(orientation="h", y=-0.25)))
        for index, operation in enumerate(self.operations):
            self.trajectories.add_scatter(x=[], y=[], name=operation, mode="lines",
                                          line=dict(color=OPERATION_COLORS[index % 8]))

        self.cell_diagram = go.FigureWidget(layout=go.Layout(
            title="derived genotype", height=320, margin=dict(l=20, r=20, t=40, b=20),
            showlegend=False, xaxis=dict(visible=False), yaxis=dict(visible=False,
                                                                      range=[-1.4, 1.4])))
        self.cell_diagram.add_scatter(x=[], y=[], name="concat", mode="lines",
                                      line=dict(color="#999999", dash="dot"), hoverinfo="skip")
        for index in range(2 * self.steps):
            self.cell_diagram.add_scatter(x=[], y=[], name=f"edge {index}", mode="lines",
                                          line=dict(color="#0969da"))
        self.cell_diagram.add_scatter(x=[], y=[], name="nodes", mode="markers+text",
                                      text=[], textposition="middle center",
                                      marker=dict(size=34, color="#ddf4ff",
                                                  line=dict(color="#0969da", width=1)))

        self.curves = go.FigureWidget(layout=go.Layout(
            title="training", height=300, margin=dict(l=60, r=60, t=40, b=40),
            xaxis=dict(title="step"), yaxis=dict(title="loss"),
            yaxis2=dict(title="accuracy", overlaying="y", side="right", range=[0, 1]),
            legend=dict(orientation="h", y=-0.25)))
        for name, color, dash, axis in (("train loss", "#cf222e", "solid", "y"),
                                        ("validation loss", "#cf222e", "dash", "y"),
                                        ("train accuracy", "#0969da", "solid", "y2"),
                                        ("validation accuracy", "#0969da", "dash", "y2")):
            self.curves.add_scatter(x=[], y=[], name=name, mode="lines+markers", yaxis=axis,
                                    line=dict(color=color, dash=dash))
        return [self.heatmaps["normal"], self.heatmaps["reduce"], self.trajectories,
                self.cell_diagram, self.curves]

    def build_controls(self) -> w.Widget:
        button = self.action_button
        self.pin_button = button("Pin", self.pin, context="pin")
        self.forbid_edge_button = button("Forbid on edge", self.forbid_on_edge, context="forbid")
        self.forbid_everywhere_button = button("Forbid everywhere", self.forbid_everywhere,
                                               context="forbid")
        self.reset_button = button("Reset edge", self.reset_edge, context="reset edge")
        self.arch_lr_button = button("Set", self.set_arch_lr, context="arch lr")
        self.temperature_button = button("Set", self.set_temperature, context="temperature")
        self.stop_derive_button = button("Stop and derive", self.stop_and_derive,
                                         context="stop and derive")
        return w.VBox([
            self.genotype_cell,
            w.HBox([self.cell, self.edge, self.operation]),
            w.HBox([self.pin_button, self.forbid_edge_button, self.forbid_everywhere_button,
                    self.reset_button]),
            w.HBox([self.arch_lr_input, self.arch_lr_button, self.temperature_input,
                    self.temperature_button, self.stop_derive_button]),
            self.info,
        ])

    # ----- steering from the controls ------------------------------------
    # Between steps the runner applies a call at once, and its error reaches the
    # guarded button callback. During a step the call waits for the step to end,
    # and the runner sends its error to the panel as a steering error.

    def pin(self) -> None:
        self.search.pin_operation(self.cell.value, int(self.edge.value), self.operation.value)

    def forbid_on_edge(self) -> None:
        self.search.forbid_operation(self.operation.value, cell=self.cell.value,
                                     edge=int(self.edge.value))

    def forbid_everywhere(self) -> None:
        """Forbid the chosen operation on every edge of both cell types."""
        self.search.forbid_operation(self.operation.value)

    def reset_edge(self) -> None:
        self.search.reset_edge(self.cell.value, int(self.edge.value))

    def set_arch_lr(self) -> None:
        self.search.set_arch_lr(float(self.arch_lr_input.value))

    def set_temperature(self) -> None:
        self.search.set_temperature(float(self.temperature_input.value))

    def stop_and_derive(self) -> None:
        self.search.stop_and_derive()

    # ----- drawing --------------------------------------------------------

    def _redraw_last(self) -> None:
        if self._last is not None:
            self.redraw(self._last)

    def render(self, snapshot: DartsSnapshot) -> None:
        if not isinstance(snapshot, DartsSnapshot):
            raise TypeError(f"DartsPanel renders DartsSnapshot, got {type(snapshot).__name__}.")
        self._last = snapshot
        for cell in CELLS:
            self._draw_heatmap(snapshot, cell)
        self._draw_trajectories(snapshot)
        self._draw_genotype(snapshot)
        self._draw_curves(snapshot)
        self.info.value = self._info(snapshot)

    def _draw_heatmap(self, snapshot: DartsSnapshot, cell: str) -> None:
        marks = []
        for edge in range(len(snapshot.edge_labels)):
            row = []
            for column, operation in enumerate(snapshot.operations):
                if snapshot.pinned[cell][edge] == operation:
                    row.append("(pinned)")
                elif not snapshot.masks[cell][edge, column]:
                    row.append("(forbidden)")
                else:
                    row.append("")
            marks.append(row)
        self.heatmaps[cell].data[0].update(
            z=np.asarray(snapshot.weights[cell], dtype=float).tolist(),
            x=list(snapshot.operations), y=list(snapshot.edge_labels), text=marks,
            name=f"{cell} weights")

    def _draw_trajectories(self, snapshot: DartsSnapshot) -> None:
        cell, edge = self.cell.value, int(self.edge.value)
        history = np.asarray(snapshot.weights_history[cell], dtype=float)  # (steps + 1, E, ops)
        steps = list(range(history.shape[0]))
        for column, operation in enumerate(snapshot.operations):
            self.trajectories.data[column].update(x=steps, y=history[:, edge, column].tolist(),
                                                  name=operation)
        self.trajectories.layout.title = (f"mixing weights of {cell} edge {edge} "
                                          f"({snapshot.edge_labels[edge]})")

    def _draw_genotype(self, snapshot: DartsSnapshot) -> None:
        cell = self.genotype_cell.value
        final = snapshot.final_genotype is not None
        genotype = snapshot.final_genotype if final else snapshot.genotype
        positions = cell_layout(self.steps)
        edges = genotype_edges(genotype, cell)
        annotations = []
        for index, trace in enumerate(self.cell_diagram.data[1:-1]):
            if index >= len(edges):
                trace.update(x=[], y=[], name=f"edge {index}")
                continue
            operation, source, target = edges[index]
            (x0, y0), (x1, y1) = positions[source], positions[target]
            trace.update(x=[x0, x1], y=[y0, y1], name=f"{operation}: {source} -> {target}")
            # Labels sit 60% along each edge, so two edges into one node keep apart.
            annotations.append(dict(x=x0 + 0.6 * (x1 - x0), y=y0 + 0.6 * (y1 - y0),
                                    text=operation, showarrow=False, font=dict(size=10),
                                    bgcolor="rgba(255,255,255,0.8)"))

        concat = getattr(genotype, f"{cell}_concat")
        output_x, output_y = positions["output"]
        concat_x: list[float | None] = []
        concat_y: list[float | None] = []
        for node in concat:
            x, y = positions[_node_name(node)]
            concat_x += [x, output_x, None]
            concat_y += [y, output_y, None]
        self.cell_diagram.data[0].update(x=concat_x, y=concat_y, name="concat")

        names = list(positions)
        self.cell_diagram.data[-1].update(x=[positions[name][0] for name in names],
                                          y=[positions[name][1] for name in names],
                                          text=names, name="nodes")
        self.cell_diagram.layout.annotations = annotations
        state = "final genotype" if final else "genotype derived now"
        self.cell_diagram.layout.title = f"{cell} cell, {state}"

    def _draw_curves(self, snapshot: DartsSnapshot) -> None:
        steps = [int(record["step"]) for record in snapshot.history]
        for trace, name, values in zip(
                self.curves.data,
                ("train loss", "validation loss", "train accuracy", "validation accuracy"),
                (snapshot.train_loss, snapshot.val_loss, snapshot.train_accuracy,
                 snapshot.val_accuracy)):
            trace.update(x=steps, y=np.asarray(values, dtype=float).tolist(), name=name)

    def _info(self, snapshot: DartsSnapshot) -> str:
        parts = [f"step {snapshot.step}, epoch {snapshot.epoch}",
                 f"batches {snapshot.batches_done} of {snapshot.total_batches}",
                 f"{snapshot.order} order",
                 f"arch lr {snapshot.arch_lr:g}, weight lr {snapshot.weight_lr:.4g}, "
                 f"temperature {snapshot.temperature:g}"]
        if snapshot.history:
            last = snapshot.history[-1]
            parts.append(f"validation loss {last['val_loss']:.4f}, "
                         f"accuracy {last['val_accuracy']:.3f}")

        share = snapshot.parameter_free_share
        baseline = snapshot.parameter_free_baseline
        parts.append(f"parameter-free share: normal {share['normal']:.3f} (uniform "
                     f"{baseline['normal']:.3f}), reduce {share['reduce']:.3f} (uniform "
                     f"{baseline['reduce']:.3f})")

        pins = [f"{cell} edge {edge}: {operation}" for cell in CELLS
                for edge, operation in enumerate(snapshot.pinned[cell]) if operation is not None]
        if pins:
            parts.append("pinned " + ", ".join(pins))
        if snapshot.stop_reason is not None:
            parts.append(f"stopped: {snapshot.stop_reason}")

        text = " &middot; ".join(parts)
        if snapshot.collapse_warning:
            text += ("<br><span style='color:#cf222e'><b>collapse warning:</b> parameter-free "
                     f"operations are taking over the normal cell (share "
                     f"{share['normal']:.3f}, skip_connect on {snapshot.skip_connect_edges} "
                     f"of {len(snapshot.genotype.normal)} kept edges); consider forbidding "
                     f"skip_connect or lowering the arch lr</span>")
        if snapshot.nan is not None:
            nan: dict[str, Any] = snapshot.nan
            text += (f"<br><span style='color:#cf222e'>the {nan['phase']} loss became NaN or "
                     f"infinite at step {nan['step']}, batch {nan['batch']}; the state from "
                     f"before that batch is kept</span>")
        return text
