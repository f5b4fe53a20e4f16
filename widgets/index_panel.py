"""A live view of a learned index: its models and error cones, errors, size and lookups.

The key-to-position curve is downsampled to about the figure's width in
points, over the visible key range only, so zooming in (with the mouse or
:meth:`IndexPanel.zoom`) redraws the curve down to single keys.
"""

from __future__ import annotations

import reprlib
from typing import Any

import ipywidgets as w
import numpy as np
import plotly.graph_objects as go

from widgets.base import Panel
from workbench.core import Runner
from workbench.index.base import ModelLines
from workbench.index.build_search import STRUCTURES, IndexBuild, IndexSnapshot
from workbench.index.rmi import ROOT_MODELS

MAX_CURVE_POINTS = 1500     # about one point per pixel of a wide figure
MAX_DRAWN_MODELS = 300      # models drawn with their cones; more are thinned evenly
LAST_MILE_PADDING = 4       # keys shown on each side of the last-mile window
STRUCTURE_COLORS = {"pgm": "#0969da", "rmi": "#cf222e", "fiting_tree": "#1a7f37",
                    "radix_spline": "#8250df", "alex": "#9a6700", "sampled": "#1b7c83"}


def downsample_curve(keys: np.ndarray, low: float | None = None, high: float | None = None,
                     max_points: int = MAX_CURVE_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """Return (key as float64, position) points of the visible part of the key-to-position curve.

    Keys in ``[low, high]`` (all keys when None) are returned one by one when
    there are at most ``max_points``. Otherwise the points are the union of
    ``max_points`` evenly spaced ranks (which show dense regions) and the first
    keys at ``max_points`` evenly spaced key values (which show gaps).
    """
    values = keys.astype(np.float64)
    start = 0 if low is None else int(np.searchsorted(values, low, side="left"))
    stop = len(values) if high is None else int(np.searchsorted(values, high, side="right"))
    if stop - start <= max_points:
        positions = np.arange(start, stop)
    else:
        by_rank = np.linspace(start, stop - 1, max_points).astype(np.int64)
        grid = np.linspace(values[start], values[stop - 1], max_points)
        by_value = np.searchsorted(values[start:stop], grid, side="left") + start
        positions = np.unique(np.r_[by_rank, np.minimum(by_value, stop - 1)])
    return values[positions], positions.astype(np.float64)


def visible_models(lines: ModelLines, low: float | None = None, high: float | None = None,
                   max_models: int = MAX_DRAWN_MODELS) -> np.ndarray:
    """Return the indices of the models overlapping ``[low, high]``, thinned to ``max_models``."""
    first = lines.first_keys.astype(np.float64)
    last = lines.last_keys.astype(np.float64)
    shown = np.ones(len(first), dtype=bool)
    if low is not None:
        shown &= last >= low
    if high is not None:
        shown &= first <= high
    chosen = np.flatnonzero(shown)
    if len(chosen) > max_models:
        chosen = chosen[np.linspace(0, len(chosen) - 1, max_models).astype(np.int64)]
    return chosen


def key_difference(later: Any, earlier: Any) -> float:
    """Return ``later - earlier`` as float64, exact before rounding (no integer overflow)."""
    if isinstance(later, (np.floating, float)):
        return float(later) - float(earlier)
    return float(int(later) - int(earlier))


def model_traces(lines: ModelLines, chosen: np.ndarray) -> tuple[list, list, list, list]:
    """Return the model lines and their cones as (x, y) lists with ``None`` between models.

    Each cone is a closed polygon: the line shifted up by ``error_above``
    from the first to the last key, then shifted down by ``error_below`` back.
    """
    line_x: list[Any] = []
    line_y: list[Any] = []
    cone_x: list[Any] = []
    cone_y: list[Any] = []
    for j in chosen:
        x0 = float(lines.first_keys[j])
        x1 = float(lines.last_keys[j])
        y0 = float(lines.intercepts[j])
        y1 = y0 + float(lines.slopes[j]) * key_difference(lines.last_keys[j],
                                                           lines.first_keys[j])
        up, down = float(lines.error_above[j]), float(lines.error_below[j])
        line_x += [x0, x1, None]
        line_y += [y0, y1, None]
        cone_x += [x0, x1, x1, x0, x0, None]
        cone_y += [y0 + up, y1 + up, y1 - down, y0 - down, y0 + up, None]
    return line_x, line_y, cone_x, cone_y


class IndexPanel(Panel):
    """Key-to-position curve with model cones, error histogram, segments versus epsilon, lookups.

    Parameters
    ----------
    runner : Runner
        A runner whose search is an :class:`~workbench.index.build_search.IndexBuild`.
    seed : int, default 0
        Seed of the random keys drawn by the Insert control.
    """

    def __init__(self, runner: Runner, *, title: str = "", seed: int = 0,
                 max_redraws_per_second: float = 4.0) -> None:
        if not isinstance(runner, Runner) or not isinstance(runner.search, IndexBuild):
            raise TypeError("runner must be a Runner whose search is an IndexBuild, got "
                            f"{type(getattr(runner, 'search', runner)).__name__}.")
        self.search: IndexBuild = runner.search
        self._rng = np.random.default_rng(seed)
        self._view: tuple[float, float] | None = None
        self._last: IndexSnapshot | None = None
        self._drawn_records = -1
        search = self.search
        self.structure = w.Dropdown(options=STRUCTURES, value=search.structure,
                                    description="structure")
        self.epsilon = w.BoundedIntText(value=search.epsilon, min=1, max=2**20,
                                        description="epsilon", layout=w.Layout(width="180px"))
        self.branching = w.BoundedIntText(value=search.branching, min=1, max=2**24,
                                          description="branching", layout=w.Layout(width="200px"))
        self.root = w.Dropdown(options=ROOT_MODELS, value=search.root, description="RMI root",
                               layout=w.Layout(width="200px"))
        self.sample_rate = w.FloatLogSlider(value=search.sample_rate, base=10, min=-4, max=0,
                                            step=0.25, description="sample rate")
        self.lookup_key = w.Text(description="key", placeholder="an integer or float key")
        self.insert_keys = w.Text(description="insert", placeholder="keys, comma separated")
        self.insert_random = w.BoundedIntText(value=1000, min=1, max=10**7,
                                              description="random keys",
                                              layout=w.Layout(width="200px"))
        self.info = w.HTML()
        super().__init__(runner, title=title or "Learned index: models, error cones and lookups",
                         max_redraws_per_second=max_redraws_per_second)
        self.curve.layout.xaxis.on_change(self._on_zoom, "range")
        self.redraw(search.snapshot())

    # ----- layout ---------------------------------------------------------

    def build_figures(self) -> list[go.FigureWidget]:
        margin = dict(l=70, r=20, t=40, b=40)
        self.curve = go.FigureWidget(layout=go.Layout(
            title="key to position: models and their error cones", height=380, margin=margin,
            xaxis=dict(title="key"), yaxis=dict(title="position"),
            legend=dict(orientation="h", y=-0.2)))
        self.curve.add_scatter(name="keys", mode="lines", line=dict(color="#57606a", width=1))
        self.curve.add_scatter(name="error cone", mode="lines", fill="toself",
                               fillcolor="rgba(9,105,218,0.15)", line=dict(width=0),
                               hoverinfo="skip")
        self.curve.add_scatter(name="models", mode="lines", line=dict(color="#0969da", width=2))
        self.curve.add_scatter(name="root model", mode="lines",
                               line=dict(color="#cf222e", dash="dash"))
        self.curve.add_scatter(name="lookup window", mode="lines+markers",
                               line=dict(color="#9a6700", width=6), marker=dict(size=8))
        self.errors_figure = go.FigureWidget(layout=go.Layout(
            title="prediction error (predicted minus true position)", height=260, margin=margin,
            xaxis=dict(title="error (positions)"), yaxis=dict(title="keys"), bargap=0.05))
        self.errors_figure.add_bar(name="keys", marker=dict(color="#0969da"))
        self.sweep_figure = go.FigureWidget(layout=go.Layout(
            title="models versus epsilon (RMI: versus branching)", height=280, margin=margin,
            xaxis=dict(title="epsilon or branching", type="log"),
            yaxis=dict(title="bottom-level models", type="log")))
        self.last_mile = go.FigureWidget(layout=go.Layout(
            title="last-mile search of the looked-up key", height=280, margin=margin,
            xaxis=dict(title="position"), yaxis=dict(title="key"), showlegend=True))
        self.last_mile.add_scatter(name="keys", mode="markers", marker=dict(color="#57606a"))
        self.last_mile.add_scatter(name="window", mode="lines", fill="toself",
                                   fillcolor="rgba(154,103,0,0.15)", line=dict(width=0))
        self.last_mile.add_scatter(name="probes", mode="markers+text", textposition="top center",
                                   marker=dict(color="#cf222e", size=10, symbol="x"))
        self.last_mile.add_scatter(name="predicted", mode="lines",
                                   line=dict(color="#0969da", dash="dot"))
        return [self.curve, self.errors_figure, self.sweep_figure, self.last_mile]

    def build_controls(self) -> w.Widget:
        button = self.action_button
        return w.VBox([
            w.HBox([self.structure, self.epsilon, self.branching, self.root]),
            w.HBox([self.sample_rate, button("Rebuild", self.rebuild, context="rebuild"),
                    button("Sweep epsilon", self.sweep, context="sweep")]),
            w.HBox([self.lookup_key, button("Look up", self.look_up, context="lookup"),
                    button("Zoom to lookup", self.zoom_to_lookup, context="zoom"),
                    button("Reset zoom", self.reset_zoom, context="zoom")]),
            w.HBox([self.insert_keys, self.insert_random,
                    button("Insert", self.insert, context="insert")]),
            self.info,
        ])

    # ----- steering from the controls ------------------------------------

    def rebuild(self) -> None:
        """Apply the settings that differ from the search's and run the new build."""
        search = self.search
        if self.structure.value != search.structure:
            search.set_structure(self.structure.value)
        if self.epsilon.value != search.epsilon:
            search.set_epsilon(int(self.epsilon.value))
        if self.branching.value != search.branching:
            search.set_branching(int(self.branching.value))
        if self.root.value != search.root:
            search.set_root(self.root.value)
        if not np.isclose(self.sample_rate.value, search.sample_rate):
            search.set_sample_rate(float(self.sample_rate.value))
        self.runner.start()

    def sweep(self) -> None:
        self.search.sweep_epsilon()

    def look_up(self) -> None:
        self.search.lookup(self._parse_key(self.lookup_key.value))

    def insert(self) -> None:
        """Insert the typed keys, or random keys within the key range if none are typed."""
        text = self.insert_keys.value.strip()
        if text:
            keys = [self._parse_key(part) for part in text.split(",") if part.strip()]
        else:
            current = self.search.keys
            if current.size == 0:
                raise ValueError("the index has no keys to draw a range from; type the keys "
                                 "to insert.")
            low, high = current[0], current[-1]
            count = int(self.insert_random.value)
            if current.dtype.kind == "f" and not np.isfinite(float(high) - float(low)):
                raise ValueError(f"the key range [{low}, {high}] is too wide to draw random "
                                 f"float keys from; type the keys to insert.")
            if current.dtype.kind == "f":
                keys = self._rng.uniform(low, high, size=count)
            else:
                keys = self._rng.integers(low, high, size=count, dtype=current.dtype,
                                          endpoint=True)
        self.search.insert(keys)

    def _parse_key(self, text: str) -> int | float:
        text = text.strip()
        dtype = self.search.keys.dtype
        try:
            return float(text) if dtype.kind == "f" else int(text)
        except ValueError:
            kind = "a float" if dtype.kind == "f" else "an integer"
            raise ValueError(f"key {reprlib.repr(text)} is not {kind}; the keys are {dtype}, "
                             f"so type {kind}.") from None

    # ----- zoom -----------------------------------------------------------

    def zoom(self, low: float, high: float) -> None:
        """Show keys in ``[low, high]`` only; the curve is resampled for that range."""
        if not low < high:
            raise ValueError(f"zoom needs low < high, got low={low} and high={high}.")
        self.curve.layout.xaxis.range = [low, high]
        self._view = (float(low), float(high))
        self._redraw_last()

    def reset_zoom(self) -> None:
        self._view = None
        self.curve.layout.xaxis.autorange = True
        self._redraw_last()

    def zoom_to_lookup(self) -> None:
        """Zoom to the keys around the last lookup's window."""
        snapshot = self._last
        if snapshot is None or snapshot.lookup is None:
            raise ValueError("no key has been looked up yet; type a key and press Look up.")
        keys = snapshot.keys
        if keys.size == 0:
            raise ValueError("the index has no keys, so there is nothing to zoom to.")
        trace = snapshot.lookup
        first = max(trace.lo - LAST_MILE_PADDING, 0)
        last = min(max(trace.hi, trace.lo + 1) + LAST_MILE_PADDING, keys.size) - 1
        low, high = float(keys[first]), float(keys[max(last, first)])
        if low == high:
            low, high = low - 1.0, high + 1.0
        self.zoom(low, high)

    def _on_zoom(self, _layout: Any, key_range: Any) -> None:
        with self.guard("zoom"):
            if key_range is None:
                return
            view = (float(key_range[0]), float(key_range[1]))
            if view != self._view:
                self._view = view
                self._redraw_last()

    def _redraw_last(self) -> None:
        if self._last is not None:
            self.redraw(self._last)

    # ----- drawing --------------------------------------------------------

    def render(self, snapshot: IndexSnapshot) -> None:
        if not isinstance(snapshot, IndexSnapshot):
            raise TypeError(f"IndexPanel renders IndexSnapshot, got {type(snapshot).__name__}.")
        self._last = snapshot
        low, high = self._view if self._view is not None else (None, None)
        self._render_curve(snapshot, low, high)
        self._render_errors(snapshot)
        self._render_sweep(snapshot)
        self._render_last_mile(snapshot)
        self.info.value = self._info(snapshot)

    # The figures get Python lists, not numpy arrays. plotly 7.1 sends numpy arrays
    # to the browser as typed arrays, and when the browser sends back its trace
    # defaults, plotly's FigureWidget compares such an array with ``not`` and
    # raises "truth value of an array is ambiguous" in the kernel.

    def _render_curve(self, snapshot: IndexSnapshot, low: float | None,
                      high: float | None) -> None:
        keys_trace, cone_trace, model_trace, root_trace, window_trace = self.curve.data
        # Every trace gets its name in each update: when a batch renames only some
        # traces, the browser shows the others unnamed (seen with plotly 7.1).
        x, y = downsample_curve(snapshot.keys, low, high)
        keys_trace.update(x=x.tolist(), y=y.tolist(),
                          mode="lines+markers" if len(x) < 200 else "lines",
                          name="keys")
        chosen = visible_models(snapshot.lines, low, high)
        line_x, line_y, cone_x, cone_y = model_traces(snapshot.lines, chosen)
        color = STRUCTURE_COLORS[snapshot.structure]
        model_trace.update(x=line_x, y=line_y, line=dict(color=color, width=2),
                           name=f"models ({len(chosen)} of {len(snapshot.lines)} drawn)")
        cone_trace.update(x=cone_x, y=cone_y, name="error cone")
        if snapshot.root_curve is not None and snapshot.phase != "done":
            root_trace.update(x=snapshot.root_curve[0].tolist(),
                              y=snapshot.root_curve[1].tolist(), visible=True,
                              name="root model")
        else:
            root_trace.update(x=[], y=[], visible=False, name="root model")
        lookup = snapshot.lookup
        if lookup is not None:
            key = float(lookup.query)
            # A query far outside the keys can predict far outside [0, n]; clip for drawing.
            predicted = min(max(lookup.predicted, 0.0), float(snapshot.keys.size))
            window_trace.update(x=[key, key, None, key], y=[lookup.lo, lookup.hi, None,
                                                            predicted], visible=True,
                                name=f"lookup window [{lookup.lo}, {lookup.hi})")
        else:
            window_trace.update(x=[], y=[], visible=False, name="lookup window")

    def _render_errors(self, snapshot: IndexSnapshot) -> None:
        bar = self.errors_figure.data[0]
        if snapshot.errors is None or snapshot.errors.size == 0:
            bar.update(x=[], y=[])
            return
        counts, edges = np.histogram(snapshot.errors, bins=60)
        bar.update(x=((edges[:-1] + edges[1:]) / 2).tolist(), y=counts.tolist(),
                   width=np.diff(edges).tolist())

    def _render_sweep(self, snapshot: IndexSnapshot) -> None:
        records = list(snapshot.sweep) + list(snapshot.history)
        if len(records) == self._drawn_records:
            return
        self._drawn_records = len(records)
        traces = []
        for structure in STRUCTURES:
            points = sorted({(r.branching if structure == "rmi" else r.epsilon, r.models)
                             for r in records if r.structure == structure and r.models > 0})
            if points:
                traces.append(go.Scatter(x=[p[0] for p in points], y=[p[1] for p in points],
                                         mode="lines+markers", name=structure,
                                         line=dict(color=STRUCTURE_COLORS[structure])))
        self.sweep_figure.data = []
        if traces:
            self.sweep_figure.add_traces(traces)

    def _render_last_mile(self, snapshot: IndexSnapshot) -> None:
        keys_trace, window_trace, probes_trace, predicted_trace = self.last_mile.data
        lookup = snapshot.lookup
        if lookup is None or snapshot.keys.size == 0:
            for trace in self.last_mile.data:
                trace.update(x=[], y=[])
            self.last_mile.layout.title = "last-mile search (look up a key to see it)"
            return

        keys = snapshot.keys
        hi = max(lookup.hi, lookup.lo + 1)
        start = max(lookup.lo - LAST_MILE_PADDING, 0)
        stop = min(hi + LAST_MILE_PADDING, keys.size)
        # A fallback search probes far outside the window; show only probes near it.
        probes = [p for p in lookup.probes if start <= p < stop]
        order = [str(i + 1) for i, p in enumerate(lookup.probes) if start <= p < stop]

        shown = np.arange(start, stop)
        keys_trace.update(x=shown.tolist(), y=keys[shown].astype(np.float64).tolist())
        low_key = float(keys[start]) if stop > start else float(lookup.query)
        high_key = float(keys[stop - 1]) if stop > start else float(lookup.query)
        window_trace.update(x=[lookup.lo - 0.5, hi - 0.5, hi - 0.5, lookup.lo - 0.5,
                               lookup.lo - 0.5],
                            y=[low_key, low_key, high_key, high_key, low_key])
        probes_trace.update(x=probes, y=keys[probes].astype(np.float64).tolist() if probes else [],
                            text=order)
        predicted_trace.update(x=[lookup.predicted, lookup.predicted], y=[low_key, high_key])

        verdict = "found in window"
        if lookup.fallback:
            verdict = "window missed, searched the whole array"
        self.last_mile.layout.title = (f"key {lookup.query}: predicted {lookup.predicted:.1f}, "
                                       f"window [{lookup.lo}, {lookup.hi}), "
                                       f"{len(lookup.probes)} probes, position {lookup.position} "
                                       f"({verdict})")

    def _info(self, snapshot: IndexSnapshot) -> str:
        parts = [f"<b>{snapshot.structure}</b> on {snapshot.keys.size:,} keys "
                 f"({snapshot.keys.dtype})", f"phase: {snapshot.phase}",
                 f"progress {snapshot.progress:.0%}", f"{len(snapshot.lines):,} models"]
        stats = snapshot.stats
        if stats is not None:
            key_bytes = max(snapshot.keys.nbytes, 1)
            parts.append(f"max error {stats.get('max_abs_error', 0):.1f}, mean "
                         f"{stats.get('mean_abs_error', 0):.2f} positions")
            parts.append(f"size {stats['size_bytes']:,} B "
                         f"({100 * stats['size_bytes'] / key_bytes:.3f}% of the keys)")
            parts.append(f"built in {snapshot.history[-1].build_seconds * 1000:.1f} ms")
        if snapshot.n_inserted:
            parts.append(f"{snapshot.n_inserted:,} keys inserted")
        if snapshot.keys.dtype.kind == "u" and snapshot.keys.size and \
                float(snapshot.keys[-1]) > 2.0**53:
            # NOTE: plotly draws keys as float64, so keys above 2^53 that differ
            # by less than their float spacing share one x coordinate.
            parts.append("keys above 2^53 are drawn rounded to float64")
        return " &middot; ".join(parts)
