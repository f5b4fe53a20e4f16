"""A live view of any Optuna study: values per trial, best so far, top trials."""

from __future__ import annotations

import html
import threading
from typing import Any

import ipywidgets as w
import numpy as np
import optuna
import plotly.graph_objects as go

from widgets.base import Panel
from workbench.core import Runner
from workbench.core.validation import check_float, check_int
from workbench.hpo.study_view import StudySnapshot, snapshot_study


class StudyPanel(Panel):
    """Objective value per trial, the best-so-far curve and a table of the top trials.

    Pass a runner whose search has a ``study`` (its snapshots must be
    :class:`~workbench.hpo.StudySnapshot`), or a bare ``optuna.Study``. A bare
    study may be written by other processes: :meth:`refresh` rereads it from
    its storage, and :meth:`watch` does so every few seconds until
    :meth:`unwatch`.

    Parameters
    ----------
    source : Runner or optuna.Study
    top_k : int, default 5
        Rows in the top-trials table.

    Example
    -------
    >>> panel = StudyPanel(runner)        # doctest: +SKIP
    >>> panel                             # doctest: +SKIP
    """

    def __init__(self, source: Runner | optuna.Study, *, top_k: int = 5, title: str = "",
                 max_redraws_per_second: float = 4.0) -> None:
        if isinstance(source, Runner):
            runner, study = source, getattr(source.search, "study", None)
            if not isinstance(study, optuna.Study):
                raise TypeError(f"the runner's search {type(source.search).__name__} has no "
                                f"optuna study; StudyPanel shows searches that run on a study.")
        elif isinstance(source, optuna.Study):
            runner, study = None, source
        else:
            raise TypeError(f"source must be a Runner or an optuna.Study, got "
                            f"{type(source).__name__}.")
        self.study = study
        self.top_k = check_int("top_k", top_k, minimum=1)
        self.table = w.HTML()
        self.failures = w.HTML()
        self._watch_stop: threading.Event | None = None
        super().__init__(runner, title=title or f"Study {study.study_name}",
                         max_redraws_per_second=max_redraws_per_second)
        self.refresh()

    def build_figures(self) -> list[go.FigureWidget]:
        figure = go.FigureWidget(layout=go.Layout(
            height=340, margin=dict(l=50, r=20, t=70, b=40),
            xaxis_title="trial", yaxis_title="objective value",
            legend=dict(orientation="h", y=1.02, yanchor="bottom"),
        ))
        figure.add_scatter(name="trial", mode="markers", x=[], y=[],
                           marker=dict(size=8, color="#0969da", opacity=0.7))
        figure.add_scatter(name="best so far", mode="lines", x=[], y=[],
                           line=dict(shape="hv", color="#cf222e", width=2))
        figure.add_scatter(name="proposed", mode="markers", x=[], y=[],
                           marker=dict(size=11, symbol="star", color="#9a6700"))
        # Failed trials have no value; they are drawn on the lower edge of the plot.
        figure.add_scatter(name="failed", mode="markers", x=[], y=[], hovertext=[],
                           marker=dict(size=9, symbol="x", color="#cf222e"))
        self.figure = figure
        return [figure]

    def build_controls(self) -> w.Widget:
        refresh = w.Button(description="Refresh", icon="refresh", layout=w.Layout(width="auto"))
        refresh.on_click(self.guarded(self.refresh, context="refresh"))
        return w.VBox([w.HBox([w.HTML("<b>Top trials</b>"), refresh]), self.table, self.failures])

    def render(self, snapshot: StudySnapshot) -> None:
        if not isinstance(snapshot, StudySnapshot):
            raise TypeError(f"StudyPanel renders StudySnapshot, got {type(snapshot).__name__}.")
        trials = snapshot.trials
        complete = trials[trials["state"] == "COMPLETE"]
        proposed = complete[complete["source"] == "proposed"]
        scatter, best, proposals, failed_trace = self.figure.data
        scatter.x, scatter.y = complete["number"].to_numpy(), complete["value"].to_numpy()
        has_best = trials["best_so_far"].notna()
        best.x = trials.loc[has_best, "number"].to_numpy()
        best.y = trials.loc[has_best, "best_so_far"].to_numpy()
        proposals.x, proposals.y = proposed["number"].to_numpy(), proposed["value"].to_numpy()
        failed = trials[trials["state"] == "FAIL"]
        n_failed = len(failed)
        floor = float(complete["value"].min()) if len(complete) else 0.0
        failed_trace.x = failed["number"].to_numpy()
        failed_trace.y = np.full(n_failed, floor)
        failed_trace.hovertext = failed["fail_reason"].tolist()
        self.failures.value = _failures_html(failed)
        target = f" of {snapshot.n_trials_target}" if snapshot.n_trials_target else ""
        best_text = "none yet" if snapshot.best_value is None else f"{snapshot.best_value:.5g}"
        self.figure.layout.title = (f"{snapshot.n_complete}{target} trials complete, "
                                    f"{n_failed} failed · best {best_text} ({snapshot.direction})")
        self.table.value = _table_html(snapshot.top_trials(self.top_k))

    def refresh(self) -> None:
        """Reread the study from its storage and redraw."""
        target = getattr(self.runner.search, "n_trials", None) if self.runner else None
        self.redraw(snapshot_study(self.study, n_trials_target=target))

    def watch(self, seconds: float = 2.0) -> None:
        """Refresh every ``seconds`` on a background thread until :meth:`unwatch`."""
        seconds = check_float("seconds", seconds, minimum=0.1)
        self.unwatch()
        stop = threading.Event()
        self._watch_stop = stop

        def poll() -> None:
            while not stop.wait(seconds):
                with self.guard("watch"):
                    self.refresh()

        threading.Thread(target=poll, name="StudyPanel-watch", daemon=True).start()

    def unwatch(self) -> None:
        if getattr(self, "_watch_stop", None) is not None:
            self._watch_stop.set()
            self._watch_stop = None

    def close(self) -> None:
        self.unwatch()
        super().close()


def _failures_html(failed: Any, limit: int = 5) -> str:
    if failed.empty:
        return ""
    items = "".join(f"<li>trial {int(row.number)}: {html.escape(str(row.fail_reason))}</li>"
                    for row in failed.tail(limit).itertuples())
    return (f"<b>Failed trials</b> ({len(failed)}, latest {min(limit, len(failed))} shown)"
            f"<ul style='margin:2px 0'>{items}</ul>")


def _table_html(frame: Any) -> str:
    if frame.empty:
        return "<i>no complete trial yet</i>"
    header = "".join(f"<th style='padding:2px 8px'>{html.escape(str(c).removeprefix('params_'))}</th>"
                     for c in frame.columns)
    rows = []
    for _, row in frame.iterrows():
        cells = "".join(f"<td style='padding:2px 8px'>{html.escape(_format(v))}</td>" for v in row)
        rows.append(f"<tr>{cells}</tr>")
    return f"<table><tr>{header}</tr>{''.join(rows)}</table>"


def _format(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{value:.5g}"
    return str(value)
