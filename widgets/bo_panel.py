"""A live view of a Bayesian optimization: GP surrogate, acquisition and next proposal."""

from __future__ import annotations

import json
from typing import Any

import ipywidgets as w
import numpy as np
import plotly.graph_objects as go
from optuna.distributions import CategoricalDistribution

from widgets.base import Panel
from workbench.core import Runner
from workbench.hpo.acquisition import ACQUISITIONS, acquisition_value
from workbench.hpo.bayesian_optimization import BayesianOptimization, BOSnapshot

NONE = "(none)"
GRID_1D = 80     # slice points for a 1-D view
GRID_2D = 35     # points per axis for a 2-D view


def surrogate_slice(snapshot: BOSnapshot, x_name: str, y_name: str | None,
                    n_points: int) -> dict[str, np.ndarray]:
    """Evaluate the GP and the acquisition on a slice through the incumbent.

    Parameters ``x_name`` (and ``y_name`` for a 2-D grid) vary over their
    range; every other parameter stays at the incumbent's value. Returns the
    axis values in the parameters' own units, and the posterior mean and
    standard deviation in objective units and the acquisition, each shaped
    (n_points,) for 1-D or (n_points, n_points) for 2-D (rows follow ``y``).
    """
    posterior, encoder = snapshot.posterior, snapshot.encoder
    base = encoder.encode(snapshot.incumbent)
    u = np.linspace(0.0, 1.0, n_points)
    names = [x_name] + ([y_name] if y_name else [])
    if y_name:
        grid_x, grid_y = np.meshgrid(u, u)
        coordinates = [grid_x.ravel(), grid_y.ravel()]
    else:
        coordinates = [u]
    X = np.repeat(base[None, :], len(coordinates[0]), axis=0)
    for name, values in zip(names, coordinates):
        X[:, encoder.slices[name].start] = values
    mean, variance = posterior.predict(X)
    acquisition = acquisition_value(snapshot.acquisition, mean, np.sqrt(variance),
                                    snapshot.best_standardized, snapshot.exploration)
    shape = (n_points, n_points) if y_name else (n_points,)
    axes = {name: np.array([encoder.decode(_with(base, encoder, name, value))[name]
                            for value in u], dtype=float) for name in names}
    return {"axes": axes,
            "mean": (snapshot.sign * (mean * posterior.y_std + posterior.y_mean)).reshape(shape),
            "std": (np.sqrt(variance) * posterior.y_std).reshape(shape),
            "acquisition": acquisition.reshape(shape)}


def _with(base: np.ndarray, encoder, name: str, value: float) -> np.ndarray:
    x = base.copy()
    x[encoder.slices[name].start] = value
    return x


class BOPanel(Panel):
    """GP posterior mean, uncertainty and acquisition over one or two chosen parameters.

    The other parameters are fixed at the incumbent. Observed trials are drawn
    as points and the next proposal as a star. A click on the surrogate
    proposes that point, with the other parameters at the incumbent, and a
    configuration can also be typed as JSON. The controls switch the
    acquisition and its exploration parameter. The view redraws after every
    trial, once the GP is refitted.

    Parameters
    ----------
    runner : Runner
        A runner whose search is a :class:`~workbench.hpo.BayesianOptimization`.
    x, y : str, optional
        Initial axes; by default the first one or two float/int parameters.
    """

    def __init__(self, runner: Runner, *, x: str | None = None, y: str | None = None,
                 title: str = "", max_redraws_per_second: float = 4.0) -> None:
        if not isinstance(runner, Runner) or not isinstance(runner.search, BayesianOptimization):
            raise TypeError("runner must be a Runner whose search is a BayesianOptimization, got "
                            f"{type(getattr(runner, 'search', runner)).__name__}.")
        search = runner.search
        numeric = [name for name, d in search.space.items()
                   if not isinstance(d, CategoricalDistribution)]
        if not numeric:
            raise ValueError("BOPanel needs at least one float or integer parameter to plot.")
        for label, name in (("x", x), ("y", y)):
            if name is not None and name not in numeric:
                raise ValueError(f"{label} must be one of the float or integer parameters "
                                 f"{numeric}, got {name!r}.")
        self.search = search
        self._numeric = numeric
        self.x_axis = w.Dropdown(options=numeric, value=x or numeric[0], description="x axis")
        y_default = y or (numeric[1] if len(numeric) > 1 else NONE)
        self.y_axis = w.Dropdown(options=[NONE] + numeric, value=y_default, description="y axis")
        self.acquisition = w.Dropdown(options=list(ACQUISITIONS), value=search.sampler.acquisition,
                                      description="acquisition")
        self.exploration = w.FloatText(value=search.sampler.exploration, description="exploration",
                                       layout=w.Layout(width="200px"))
        self.proposal_text = w.Text(description="propose", placeholder='{"x": 0.1, ...}',
                                    layout=w.Layout(width="60%"))
        self.info = w.HTML()
        self._last: BOSnapshot | None = None
        super().__init__(runner, title=title or "Bayesian optimization: GP surrogate",
                         max_redraws_per_second=max_redraws_per_second)
        for dropdown in (self.x_axis, self.y_axis):
            dropdown.observe(self.guarded(self._redraw_last, context="axes"), names="value")
        self.redraw(search.snapshot())

    # ----- layout ---------------------------------------------------------

    def build_figures(self) -> list[go.FigureWidget]:
        layout = dict(height=330, margin=dict(l=55, r=20, t=40, b=45))
        self.surrogate = go.FigureWidget(layout=go.Layout(title="posterior mean", **layout))
        self.acquisition_figure = go.FigureWidget(layout=go.Layout(title="acquisition", **layout))
        return [self.surrogate, self.acquisition_figure]

    def build_controls(self) -> w.Widget:
        apply_button = w.Button(description="Apply acquisition", layout=w.Layout(width="auto"))
        apply_button.on_click(self.guarded(self.apply_acquisition, context="acquisition"))
        propose_button = w.Button(description="Propose", layout=w.Layout(width="auto"))
        propose_button.on_click(self.guarded(self.propose_typed, context="propose"))
        incumbent_button = w.Button(description="Fill incumbent", layout=w.Layout(width="auto"))
        incumbent_button.on_click(self.guarded(self.fill_incumbent, context="incumbent"))
        refit_button = w.Button(description="Refit GP", layout=w.Layout(width="auto"))
        refit_button.on_click(self.guarded(lambda: self.search.refit(), context="refit"))
        return w.VBox([
            w.HBox([self.x_axis, self.y_axis]),
            w.HBox([self.acquisition, self.exploration, apply_button, refit_button]),
            w.HBox([self.proposal_text, incumbent_button, propose_button]),
            self.info,
        ])

    # ----- steering from the controls ------------------------------------

    def apply_acquisition(self) -> None:
        self.search.set_acquisition(self.acquisition.value, float(self.exploration.value))

    def fill_incumbent(self) -> None:
        snapshot = self._last
        if snapshot is None or snapshot.incumbent is None:
            raise ValueError("no complete trial yet, so there is no incumbent to fill in.")
        self.proposal_text.value = json.dumps(snapshot.incumbent)

    def propose_typed(self) -> None:
        try:
            params = json.loads(self.proposal_text.value)
        except json.JSONDecodeError as error:
            raise ValueError(f"the proposal must be a JSON object such as "
                             f"{{\"x\": 0.5}}; got {self.proposal_text.value!r} ({error}).") from None
        self.search.propose(params)

    def propose_at(self, x_value: float, y_value: float | None = None) -> dict[str, Any]:
        """Propose the incumbent with the plotted axes set to the given values."""
        snapshot = self._last
        if snapshot is None or snapshot.incumbent is None:
            raise ValueError("no complete trial yet; wait for the first trials before proposing "
                             "by clicking.")
        params = dict(snapshot.incumbent)
        params[self.x_axis.value] = x_value
        if y_value is not None and self.y_axis.value != NONE:
            params[self.y_axis.value] = y_value
        params = snapshot.encoder.decode(snapshot.encoder.encode(params))   # snap to valid values
        self.search.propose(params)
        return params

    def _on_click(self, trace: Any, points: Any, state: Any) -> None:
        with self.guard("click"):
            if points.xs:
                y = points.ys[0] if self.y_axis.value != NONE else None
                self.propose_at(points.xs[0], y)

    # ----- drawing --------------------------------------------------------

    def _redraw_last(self, *_args: Any) -> None:
        if self._last is not None:
            self.redraw(self._last)

    def render(self, snapshot: BOSnapshot) -> None:
        if not isinstance(snapshot, BOSnapshot):
            raise TypeError(f"BOPanel renders BOSnapshot, got {type(snapshot).__name__}.")
        self._last = snapshot
        n_complete = snapshot.study.n_complete
        if snapshot.posterior is None or snapshot.incumbent is None:
            self.info.value = (f"{n_complete} complete trials; the GP starts after "
                               f"{self.search.sampler.n_startup_trials}.")
            return
        x_name = self.x_axis.value
        y_name = None if self.y_axis.value in (NONE, x_name) else self.y_axis.value
        view = surrogate_slice(snapshot, x_name, y_name, GRID_2D if y_name else GRID_1D)
        observed = snapshot.study.trials[snapshot.study.trials["state"] == "COMPLETE"]
        next_params = snapshot.next_params or {}
        if y_name:
            self._render_2d(view, observed, next_params, x_name, y_name)
        else:
            self._render_1d(view, observed, next_params, x_name)
        for figure, name in ((self.surrogate, x_name), (self.acquisition_figure, x_name)):
            figure.layout.xaxis.title = name
            figure.layout.xaxis.type = "log" if self.search.space[name].log else "linear"
            if y_name:
                figure.layout.yaxis.title = y_name
                figure.layout.yaxis.type = "log" if self.search.space[y_name].log else "linear"
            else:
                figure.layout.yaxis.type = "linear"
        lengthscales = ", ".join(f"{name} {value:.3g}" for name, value in snapshot.lengthscales.items())
        best = snapshot.study.best_value
        self.info.value = (f"{n_complete} complete trials · best {best:.5g} · next: "
                           f"{_format_params(next_params)}<br>lengthscales (unit cube): "
                           f"{lengthscales} · acquisition {snapshot.acquisition} "
                           f"(exploration {snapshot.exploration:g})")

    def _render_1d(self, view, observed, next_params, x_name) -> None:
        axis = view["axes"][x_name]
        mean, std = view["mean"], view["std"]
        band_x = np.r_[axis, axis[::-1]]
        band_y = np.r_[mean + 2 * std, (mean - 2 * std)[::-1]]
        traces = [
            go.Scatter(x=band_x, y=band_y, fill="toself", line=dict(width=0),
                       fillcolor="rgba(9,105,218,0.15)", name="mean ± 2 sd", hoverinfo="skip"),
            go.Scatter(x=axis, y=mean, mode="lines", line=dict(color="#0969da"), name="mean"),
            go.Scatter(x=observed[f"params_{x_name}"], y=observed["value"], mode="markers",
                       marker=dict(color="#1f2328", size=7), name="observed"),
        ]
        acquisition = [go.Scatter(x=axis, y=view["acquisition"], mode="lines",
                                  line=dict(color="#1a7f37"), name="acquisition")]
        if x_name in next_params:
            for target in (traces, acquisition):
                target.append(go.Scatter(x=[next_params[x_name]] * 2,
                                         y=[_low(target), _high(target)], mode="lines",
                                         line=dict(color="#cf222e", dash="dash"), name="next"))
        self._replace(self.surrogate, traces)
        self._replace(self.acquisition_figure, acquisition)

    def _render_2d(self, view, observed, next_params, x_name, y_name) -> None:
        x_axis, y_axis = view["axes"][x_name], view["axes"][y_name]
        points = go.Scatter(x=observed[f"params_{x_name}"], y=observed[f"params_{y_name}"],
                            mode="markers", marker=dict(color="white", size=7,
                                                        line=dict(color="black", width=1)),
                            name="observed")
        next_marker = go.Scatter(x=[next_params.get(x_name)], y=[next_params.get(y_name)],
                                 mode="markers", marker=dict(symbol="star", size=15,
                                                             color="#cf222e"), name="next")
        self._replace(self.surrogate, [
            go.Heatmap(x=x_axis, y=y_axis, z=view["mean"], colorscale="Viridis",
                       colorbar=dict(title="mean")), points, next_marker])
        self._replace(self.acquisition_figure, [
            go.Heatmap(x=x_axis, y=y_axis, z=view["acquisition"], colorscale="Greens",
                       colorbar=dict(title="acq.")), points, next_marker])

    def _replace(self, figure: go.FigureWidget, traces: list[Any]) -> None:
        """Set ``figure``'s traces, reusing them when their types match (cheap updates)."""
        if [t.type for t in figure.data] == [t.type for t in traces]:
            for current, new in zip(figure.data, traces):
                current.update(new.to_plotly_json())
        else:
            figure.data = []
            for trace in traces:
                figure.add_trace(trace)
        for trace in figure.data:
            trace.on_click(self._on_click)


def _low(traces: list[Any]) -> float:
    values = np.concatenate([np.asarray(t.y, dtype=float) for t in traces if t.y is not None])
    return float(np.nanmin(values)) if values.size else 0.0


def _high(traces: list[Any]) -> float:
    values = np.concatenate([np.asarray(t.y, dtype=float) for t in traces if t.y is not None])
    return float(np.nanmax(values)) if values.size else 1.0


def _format_params(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in params.items()) or "-"
