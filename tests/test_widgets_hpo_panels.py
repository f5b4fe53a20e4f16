"""BOPanel, HyperbandPanel and RacePanel driven headless through their controls."""

from __future__ import annotations

import json

import numpy as np
import optuna
import pytest

from widgets import BOPanel, HyperbandPanel, RacePanel
from widgets.bo_panel import surrogate_slice
from workbench.core import Runner, RunnerState
from workbench.hpo import BayesianOptimization, Hyperband, Race, RandomSearch, SuccessiveHalving
from workbench.hpo.tasks import BRANIN

optuna.logging.set_verbosity(optuna.logging.ERROR)


def negated_branin(params):
    return -BRANIN(params)


def curve(params, budget, config_id):
    return params["x1"] / 10 * (1 - 0.5 ** budget)


def make_bo(tmp_path, n_trials=10):
    search = BayesianOptimization(negated_branin, BRANIN.space, n_trials=n_trials,
                                  n_startup_trials=4, n_candidates=128,
                                  storage=tmp_path / "bo.journal")
    runner = Runner(search)
    return search, runner, BOPanel(runner)


def test_bo_panel_draws_surrogate_after_startup(tmp_path):
    search, runner, panel = make_bo(tmp_path)
    assert "GP starts after 4" in panel.info.value
    runner.run()
    assert panel.errors == []
    heatmap = panel.surrogate.data[0]
    assert heatmap.type == "heatmap"
    assert np.asarray(heatmap.z).shape == (35, 35)
    observed = panel.surrogate.data[1]
    assert len(observed.x) == 10
    assert "10 complete trials" in panel.info.value


def test_bo_panel_one_axis_shows_band_and_next(tmp_path):
    search, runner, panel = make_bo(tmp_path)
    runner.run()
    panel.y_axis.value = "(none)"
    names = [trace.name for trace in panel.surrogate.data]
    assert names == ["mean ± 2 sd", "mean", "observed", "next"]
    assert panel.surrogate.data[3].x[0] == pytest.approx(search.snapshot().next_params["x1"])
    assert panel.acquisition_figure.data[0].name == "acquisition"


def test_surrogate_slice_matches_posterior(tmp_path):
    search, runner, panel = make_bo(tmp_path)
    runner.run()
    snapshot = search.snapshot()
    view = surrogate_slice(snapshot, "x1", None, 5)
    encoder, posterior = snapshot.encoder, snapshot.posterior
    x = encoder.encode(snapshot.incumbent)
    x[encoder.slices["x1"].start] = 0.5
    mean, variance = posterior.predict(x[None])
    assert view["mean"][2] == pytest.approx(mean[0] * posterior.y_std + posterior.y_mean)
    assert view["std"][2] == pytest.approx(np.sqrt(variance[0]) * posterior.y_std)
    assert view["axes"]["x1"][[0, -1]].tolist() == [-5.0, 10.0]


def test_bo_panel_controls_steer(tmp_path):
    search, runner, panel = make_bo(tmp_path, n_trials=8)
    runner.run()
    panel.acquisition.value = "pi"
    panel.exploration.value = 0.05
    panel.apply_acquisition()
    assert (search.sampler.acquisition, search.sampler.exploration) == ("pi", 0.05)
    params = panel.propose_at(3.0, 2.5)
    assert params == {"x1": 3.0, "x2": 2.5}
    panel.fill_incumbent()
    assert json.loads(panel.proposal_text.value) == search.snapshot().incumbent
    panel.propose_typed()
    panel.proposal_text.value = '{"x1": 1.0}'
    with pytest.raises(ValueError, match=r"missing \['x2'\]"):
        panel.propose_typed()
    actions = [record.action for record in search.steering_log]
    assert actions == ["set_acquisition", "propose", "propose"]


def test_bo_panel_bad_json_in_error_area(tmp_path):
    search, runner, panel = make_bo(tmp_path, n_trials=6)
    runner.run()
    panel.proposal_text.value = "{not json"
    buttons = [child for box in panel.children if hasattr(box, "children")
               for row in box.children if hasattr(row, "children") for child in row.children
               if getattr(child, "description", "") == "Propose"]
    buttons[0].click()
    assert any("must be a JSON object" in error for error in panel.errors)


def test_bo_panel_rejects_wrong_runner(tmp_path):
    random = RandomSearch(negated_branin, BRANIN.space, storage=tmp_path / "r.journal")
    with pytest.raises(TypeError, match="BayesianOptimization"):
        BOPanel(Runner(random))
    search = BayesianOptimization(negated_branin, BRANIN.space, storage=tmp_path / "b.journal")
    with pytest.raises(ValueError, match="x must be one of"):
        BOPanel(Runner(search), x="depth")


def test_hyperband_panel_board_and_curves(tmp_path):
    search = Hyperband(curve, BRANIN.space, max_budget=9, eta=3, storage=tmp_path / "h.journal")
    runner = Runner(search)
    panel = HyperbandPanel(runner)
    board = panel.board.data[0]
    assert np.asarray(board.z).shape == (3, 3)
    assert board.text[0][0] == "0/9 @ 1"
    # Widgets send JSON, which has no NaN: empty cells must be None.
    json.dumps(panel.board.to_plotly_json()["data"][0]["z"], allow_nan=False)
    assert board.z[2][2] is None
    runner.step_once()
    runner.wait(10)
    assert panel.board.data[0].text[0][0] == "1/9 @ 1 ▶"
    assert len(panel.config_choice.options) == 9
    runner.run()
    assert panel.errors == []
    assert len(panel.curves.data) == 9 + 5 + 3
    faded = [trace.opacity for trace in panel.curves.data]
    assert faded.count(0.2) == len(search.study.get_trials(states=(
        optuna.trial.TrialState.PRUNED,)))
    assert panel.board.data[0].text[0][2].endswith("✓")


def test_hyperband_panel_stop_promote_eta(tmp_path):
    search = Hyperband(curve, BRANIN.space, max_budget=9, eta=3, storage=tmp_path / "s.journal")
    runner = Runner(search)
    panel = HyperbandPanel(runner)
    runner.step_once()
    runner.wait(10)
    first, second = panel.config_choice.options[0][1], panel.config_choice.options[1][1]
    panel.config_choice.value = first
    panel.stop_selected()
    panel.config_choice.value = second
    panel.promote_selected()
    panel.eta_input.value = 2
    controls = panel.children[-2]
    eta_button = controls.children[1].children[1]
    eta_button.click()
    assert [r.action for r in search.steering_log] == ["stop_config", "promote", "set_eta"]
    assert search.eta == 2
    assert panel.errors == []


def test_successive_halving_panel_has_no_eta_control(tmp_path):
    search = SuccessiveHalving(curve, BRANIN.space, n_configs=4, min_budget=1,
                               storage=tmp_path / "sh.journal")
    panel = HyperbandPanel(Runner(search))
    assert len(panel.children[-2].children) == 2


def test_race_panel_equal_budget(tmp_path):
    hyperband = Hyperband(curve, BRANIN.space, max_budget=9, eta=3, storage=tmp_path / "a.journal")
    random = RandomSearch(lambda p: curve(p, 9, 0), BRANIN.space, n_trials=100,
                          storage=tmp_path / "b.journal")
    race = Race({"hyperband": hyperband, "random": random}, total_budget=60,
                cost={"random": lambda event: 9.0})
    runner = Runner(race)
    panel = RacePanel(runner, budget_label="epochs")
    assert runner.run() == RunnerState.FINISHED
    snapshot = race.snapshot()
    assert snapshot.spent["random"] == pytest.approx(63.0)   # 7 trials of 9 reach >= 60
    assert snapshot.spent["hyperband"] >= 60
    assert len(panel.figure.data[1].x) == 7
    assert panel.errors == []
    with pytest.raises(ValueError, match="name must be one of"):
        race.retire("grid")


def test_race_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="non-empty dict"):
        Race({}, 10)
    with pytest.raises(TypeError, match=r"searches\['a'\] must be a Search"):
        Race({"a": 3}, 10)
    random = RandomSearch(negated_branin, BRANIN.space, storage=tmp_path / "c.journal")
    with pytest.raises(ValueError, match="total_budget must be > 0"):
        Race({"a": random}, 0)


def test_race_direction_and_cost_checked(tmp_path):
    minimizing = RandomSearch(BRANIN, BRANIN.space, direction="minimize",
                              storage=tmp_path / "m.journal")
    maximizing = RandomSearch(negated_branin, BRANIN.space, storage=tmp_path / "x.journal")
    race = Race({"a": minimizing}, 5)
    assert race.direction == "minimize"
    with pytest.raises(ValueError, match="pass direction='maximize' or 'minimize' explicitly"):
        Race({"a": minimizing, "b": maximizing}, 5)
    with pytest.raises(ValueError, match="does not match the searches' directions"):
        Race({"a": minimizing}, 5, direction="maximize")
    with pytest.raises(TypeError, match="must be callable"):
        Race({"a": minimizing}, 5, cost=3)
    with pytest.raises(ValueError, match=r"cost has keys \['typo'\]"):
        Race({"a": minimizing}, 5, cost={"typo": lambda event: 1.0})
    race = Race({"a": minimizing}, 5, cost=lambda event: float("nan"))
    with pytest.raises(ValueError, match="must return a finite number"):
        race.step()


def test_one_error_per_failed_button_steering(tmp_path):
    search, runner, panel = make_bo(tmp_path, n_trials=6)
    runner.run()
    panel.exploration.value = -1.0
    apply_button = panel.children[-2].children[1].children[2]
    apply_button.click()
    assert len(panel.errors) == 1
    assert "exploration must be >= 0" in panel.errors[0]
