"""Panels driven headless: buttons, live redraws, errors and shared studies."""

from __future__ import annotations

import subprocess
import sys
import time

import plotly.graph_objects as go
import pytest
from optuna.distributions import FloatDistribution

from searches import NoisyQuadratic
from widgets import Panel, StudyPanel
from workbench.core import Runner, RunnerState, create_study
from workbench.hpo import RandomSearch

SPACE = {"x": FloatDistribution(-5.0, 5.0)}


def quadratic(params):
    return -(params["x"] - 1.0) ** 2


class QuadraticPanel(Panel):
    """A minimal concrete panel over the NoisyQuadratic test search."""

    def build_figures(self):
        self.figure = go.FigureWidget()
        self.figure.add_scatter(x=[], y=[], mode="markers")
        return [self.figure]

    def render(self, snapshot):
        self.figure.data[0].x = snapshot["xs"]
        self.figure.data[0].y = snapshot["values"]


def make_panel(tmp_path, n_trials=8, objective=quadratic):
    search = RandomSearch(objective, SPACE, n_trials=n_trials, storage=tmp_path / "p.journal")
    runner = Runner(search)
    return search, runner, StudyPanel(runner)


def test_step_button_adds_one_point(tmp_path):
    search, runner, panel = make_panel(tmp_path)
    assert len(panel.figure.data[0].x) == 0
    panel.step_button.click()
    runner.wait(10)
    assert len(panel.figure.data[0].x) == 1
    assert "paused" in panel.status.value
    assert panel.errors == []


def test_run_button_draws_all_trials(tmp_path):
    search, runner, panel = make_panel(tmp_path, n_trials=10)
    panel.run_button.click()
    assert runner.wait(20) == RunnerState.FINISHED
    scatter, best = panel.figure.data[:2]
    assert len(scatter.x) == 10
    assert best.y[-1] == pytest.approx(search.snapshot().best_value)
    assert "finished" in panel.status.value
    assert "<table>" in panel.table.value


def test_pause_and_stop_buttons(tmp_path):
    search = NoisyQuadratic(n_trials=10_000, step_seconds=0.005)
    runner = Runner(search)
    panel = QuadraticPanel(runner)
    panel.run_button.click()
    assert panel.run_button.disabled
    while search.n_steps < 3:
        time.sleep(0.005)
    panel.pause_button.click()
    assert runner.wait(5) == RunnerState.PAUSED
    assert len(panel.figure.data[0].x) == search.n_steps
    panel.stop_button.click()
    runner.wait(5)
    assert panel.errors == []


def test_failed_step_shown_in_error_area():
    runner = Runner(NoisyQuadratic(n_trials=5, fail_at=2))
    panel = QuadraticPanel(runner)
    panel.run_button.click()
    assert runner.wait(10) == RunnerState.FAILED
    assert len(panel.errors) == 1
    assert "injected failure" in panel.errors[0]
    assert "injected failure" in panel.error_output.outputs[0]["text"]
    assert "failed" in panel.status.value


def test_failed_trials_shown_by_study_panel(tmp_path):
    def failing(params):
        if params["x"] > 0:
            raise ValueError("bad fold")
        return params["x"]

    search, runner, panel = make_panel(tmp_path, n_trials=12, objective=failing)
    assert runner.run() == RunnerState.FINISHED
    n_failed = int((search.snapshot().trials["state"] == "FAIL").sum())
    assert n_failed > 0
    assert len(panel.figure.data[3].x) == n_failed
    assert f"{n_failed} failed" in panel.figure.layout.title.text
    assert "ValueError: bad fold" in panel.failures.value
    assert panel.errors == []


def test_callback_error_captured_not_swallowed():
    panel = QuadraticPanel(Runner(NoisyQuadratic()))

    def broken():
        raise KeyError("missing column")

    button = panel.run_button
    button._click_handlers.callbacks.clear()
    button.on_click(panel.guarded(broken, context="test button"))
    button.click()
    assert len(panel.errors) == 1
    assert "missing column" in panel.errors[0]
    panel.clear_errors()
    assert panel.errors == []
    assert panel.error_output.outputs == ()


def test_render_error_shown_and_runner_continues():
    class BrokenPanel(QuadraticPanel):
        def render(self, snapshot):
            raise RuntimeError("cannot draw")

    search = NoisyQuadratic(n_trials=5)
    runner = Runner(search)
    panel = BrokenPanel(runner)
    assert runner.run() == RunnerState.FINISHED
    assert search.n_steps == 5
    assert any("cannot draw" in error for error in panel.errors)


def test_redraws_are_rate_limited():
    search = NoisyQuadratic(n_trials=400)
    runner = Runner(search, updates_per_second=1000)
    panel = QuadraticPanel(runner, max_redraws_per_second=5)
    runner.run()
    assert panel.n_redraws < 60
    assert len(panel.figure.data[0].x) == 400, "the final state was not drawn"


def test_panel_without_runner_disables_controls(tmp_path):
    study = create_study("viewer", storage=tmp_path / "v.journal")
    panel = StudyPanel(study)
    assert panel.run_button.disabled and panel.step_button.disabled
    assert "not attached" in panel.status.value


def test_study_panel_follows_other_process(tmp_path):
    journal = tmp_path / "shared.journal"
    study = create_study("shared", storage=journal)
    panel = StudyPanel(study)
    assert len(panel.figure.data[0].x) == 0
    script = (
        "import optuna, sys\n"
        "from workbench.core import create_study\n"
        "study = create_study('shared', storage=sys.argv[1])\n"
        "study.optimize(lambda t: t.suggest_float('x', 0, 1), n_trials=5)\n"
    )
    subprocess.run([sys.executable, "-c", script, str(journal)], check=True)
    panel.refresh()
    assert len(panel.figure.data[0].x) == 5

    panel.watch(0.1)
    subprocess.run([sys.executable, "-c", script, str(journal)], check=True)
    deadline = time.monotonic() + 10
    while len(panel.figure.data[0].x) < 10 and time.monotonic() < deadline:
        time.sleep(0.05)
    panel.unwatch()
    assert len(panel.figure.data[0].x) == 10
    assert panel.errors == []


@pytest.mark.parametrize("source, error, match", [
    ("study", TypeError, "source must be a Runner or an optuna.Study"),
])
def test_study_panel_rejects_bad_source(source, error, match):
    with pytest.raises(error, match=match):
        StudyPanel(source)


def test_study_panel_rejects_runner_without_study():
    with pytest.raises(TypeError, match="has no optuna study"):
        StudyPanel(Runner(NoisyQuadratic()))


def test_panel_rejects_bad_arguments():
    with pytest.raises(TypeError, match="runner must be"):
        QuadraticPanel(runner="r")
    with pytest.raises(ValueError, match="max_redraws_per_second"):
        QuadraticPanel(Runner(NoisyQuadratic()), max_redraws_per_second=0)


def test_study_panel_top_k_validated(tmp_path):
    study = create_study("k", storage=tmp_path / "k.journal")
    with pytest.raises(ValueError, match="top_k must be >= 1"):
        StudyPanel(study, top_k=0)
    with pytest.raises(ValueError, match="seconds must be >= 0.1"):
        StudyPanel(study).watch(0)


def test_run_on_finished_search_leaves_consistent_buttons(tmp_path):
    # The Run callback and the worker thread both write the status; the final
    # write must match the runner's state, however the threads interleave.
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        search, runner, panel = make_panel(tmp_path, n_trials=1)
        runner.run()
        for _ in range(300):
            panel.run_button.click()
            runner.wait(5)
            assert runner.state == RunnerState.FINISHED
            assert "finished" in panel.status.value
            assert not panel.run_button.disabled
            assert panel.pause_button.disabled
    finally:
        sys.setswitchinterval(previous)
