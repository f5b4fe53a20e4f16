"""The panel base class: run controls, a status line, figures and an error area.

A panel subscribes to a :class:`~workbench.core.Runner`, whose updates arrive
on the runner's worker thread. While the runner runs, the panel redraws at
most ``max_redraws_per_second`` times a second. It always redraws for pause,
stop, finish and errors. Each redraw runs inside ``FigureWidget.batch_update``,
so the browser receives one message per figure. Every exception raised by a button
callback, a redraw or a step is written to the panel's error area and kept in
:attr:`Panel.errors`, never swallowed.
"""

from __future__ import annotations

import contextlib
import functools
import html
import logging
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import ipywidgets as w
import plotly.graph_objects as go

from workbench.core import Runner, RunnerState, RunnerUpdate
from workbench.core.validation import check_float

logger = logging.getLogger(__name__)

STATE_COLORS = {
    RunnerState.IDLE: "#666666", RunnerState.RUNNING: "#1a7f37", RunnerState.PAUSED: "#9a6700",
    RunnerState.STOPPED: "#666666", RunnerState.FINISHED: "#0969da", RunnerState.FAILED: "#cf222e",
}


class Panel(w.VBox):
    """Base class of every panel.

    Subclasses implement :meth:`build_figures` (return the FigureWidgets),
    :meth:`render` (draw a snapshot) and optionally :meth:`build_controls`
    (return steering widgets).

    Parameters
    ----------
    runner : Runner, optional
        The runner to drive and watch. Without one the run controls are disabled.
    title : str
        Heading shown above the controls.
    max_redraws_per_second : float, default 4.0

    Attributes
    ----------
    errors : list of str
        Every error shown in the error area, as formatted tracebacks.
    n_redraws : int
        Number of completed redraws.
    """

    def __init__(self, runner: Runner | None = None, *, title: str = "",
                 max_redraws_per_second: float = 4.0) -> None:
        if not isinstance(title, str):
            raise TypeError(f"title must be a str, got {title!r} of type {type(title).__name__}.")
        if runner is not None and not isinstance(runner, Runner):
            raise TypeError(f"runner must be a workbench.core.Runner or None, got "
                            f"{type(runner).__name__}.")
        self.max_redraws_per_second = check_float("max_redraws_per_second",
                                                  max_redraws_per_second, minimum=0.0,
                                                  exclusive_minimum=True)
        self.runner = runner
        self.errors: list[str] = []
        self.n_redraws = 0
        self._last_redraw = 0.0
        self._draw_lock = threading.Lock()
        self._status_lock = threading.Lock()
        self._unsubscribe: Callable[[], None] | None = None

        self.run_button = w.Button(description="Run", icon="play", tooltip="Run until done")
        self.pause_button = w.Button(description="Pause", icon="pause", tooltip="Pause after this step")
        self.step_button = w.Button(description="Step", icon="step-forward", tooltip="Take one step")
        self.stop_button = w.Button(description="Stop", icon="stop", tooltip="Stop after this step")
        for button, action in ((self.run_button, self._run), (self.pause_button, self._pause),
                               (self.step_button, self._step), (self.stop_button, self._stop)):
            button.layout = w.Layout(width="auto")
            button.on_click(self.guarded(action, context=f"{button.description} button"))
            button.disabled = runner is None
        self.status = w.HTML()
        self.error_output = w.Output(layout=w.Layout(max_height="16em", overflow="auto"))
        self.clear_errors_button = w.Button(description="Clear errors", layout=w.Layout(width="auto"))
        self.clear_errors_button.on_click(self.guarded(lambda: self.clear_errors(), context="clear"))

        self.figures: list[go.FigureWidget] = list(self.build_figures())
        controls = self.build_controls()
        header = w.HBox([self.run_button, self.pause_button, self.step_button, self.stop_button,
                         self.status], layout=w.Layout(align_items="center"))
        children: list[w.Widget] = []
        if title:
            children.append(w.HTML(f"<b>{html.escape(title)}</b>"))
        children += [header, *self.figures]
        if controls is not None:
            children.append(controls)
        children += [self.error_output]
        super().__init__(children=children)

        self._set_status()
        if runner is not None:
            self._unsubscribe = runner.subscribe(self._on_update)

    # ----- for subclasses -------------------------------------------------

    def build_figures(self) -> list[go.FigureWidget]:
        """Return the panel's figures."""
        raise NotImplementedError

    def build_controls(self) -> w.Widget | None:
        """Return a widget with the panel's steering controls, or None."""
        return None

    def render(self, snapshot: Any) -> None:
        """Draw ``snapshot`` into the figures; called inside ``batch_update``."""
        raise NotImplementedError

    def action_button(self, description: str, action: Callable[[], Any], *,
                      context: str) -> w.Button:
        """Return a button that runs ``action`` with its errors shown in the error area."""
        button = w.Button(description=description, layout=w.Layout(width="auto"))
        button.on_click(self.guarded(action, context=context))
        return button

    # ----- errors ---------------------------------------------------------

    def show_error(self, context: str, error: BaseException, formatted: str | None = None) -> None:
        """Write ``error`` to the error area and to :attr:`errors`."""
        text = formatted or "".join(traceback.format_exception(error))
        self.errors.append(text)
        logger.warning("%s: %r", context, error)
        self.error_output.append_stdout(f"[{context}] {text}\n")

    def clear_errors(self) -> None:
        self.errors.clear()
        self.error_output.outputs = ()

    @contextlib.contextmanager
    def guard(self, context: str) -> Iterator[None]:
        """Run the block; show any exception in the error area instead of raising it."""
        try:
            yield
        except Exception as error:  # shown to the user, never swallowed
            self.show_error(context, error)

    def guarded(self, function: Callable[[], Any], *, context: str) -> Callable[..., None]:
        """Wrap ``function`` as a widget callback whose errors go to the error area."""

        @functools.wraps(function)
        def callback(*_args: Any) -> None:
            with self.guard(context):
                function()

        return callback

    # ----- run controls ---------------------------------------------------

    def _run(self) -> None:
        self.runner.start()
        self._set_status()

    def _pause(self) -> None:
        self.runner.pause()

    def _step(self) -> None:
        self.runner.step_once()

    def _stop(self) -> None:
        self.runner.stop()

    # ----- drawing --------------------------------------------------------

    def _on_update(self, update: RunnerUpdate) -> None:
        if update.reason in ("error", "steering_error") and update.error is not None:
            context = "step" if update.reason == "error" else "steering"
            self.show_error(context, update.error, update.traceback)
        now = time.monotonic()
        running = update.state == RunnerState.RUNNING
        if running and update.reason == "step" and now - self._last_redraw < 1.0 / self.max_redraws_per_second:
            self._set_status()
            return
        self.redraw(update.snapshot)

    def redraw(self, snapshot: Any) -> None:
        """Draw ``snapshot`` now, inside one ``batch_update`` per figure."""
        with self._draw_lock, self.guard("redraw"):
            with contextlib.ExitStack() as stack:
                for figure in self.figures:
                    stack.enter_context(figure.batch_update())
                self.render(snapshot)
            self._last_redraw = time.monotonic()
            self.n_redraws += 1
        if self.runner is not None:
            self._set_status()

    def _set_status(self) -> None:
        """Show the runner's current state and enable the buttons that apply to it.

        Button callbacks and the runner's worker thread both call this, so it
        reads the live state under a lock instead of trusting a passed value
        that another thread may already have superseded.
        """
        with self._status_lock:
            if self.runner is None:
                self.status.value = "<span style='color:#666'>not attached to a runner</span>"
                return
            state, n_steps = self.runner.state, self.runner.search.n_steps
            color = STATE_COLORS[state]
            text = (f"<span style='color:{color}'>&#9679; {state.value}</span> "
                    f"&middot; step {n_steps}")
            if state == RunnerState.FAILED:
                text += " &middot; the step's error is shown below; fix it, then Run to resume"
            self.status.value = text
            self.run_button.disabled = state == RunnerState.RUNNING
            self.pause_button.disabled = state != RunnerState.RUNNING

    def close(self) -> None:
        """Unsubscribe from the runner and close the widgets."""
        # getattr: ipywidgets also calls close() on a panel whose __init__ raised.
        if getattr(self, "_unsubscribe", None) is not None:
            self._unsubscribe()
            self._unsubscribe = None
        for figure in getattr(self, "figures", []):
            figure.close()
        super().close()
