"""Successive halving and Hyperband: schedules against Li et al. (2018), runs and steering."""

from __future__ import annotations

import optuna
import pytest
from optuna.distributions import FloatDistribution

from workbench.core import Runner, RunnerState, SteeringLog
from workbench.hpo.bandits import Hyperband, SuccessiveHalving
from workbench.hpo.schedule import hyperband_brackets, schedule_frame, successive_halving_rungs

optuna.logging.set_verbosity(optuna.logging.ERROR)

SPACE = {"x": FloatDistribution(0.0, 1.0)}

# Li et al. (2018), Table 1: R = 81, eta = 3, as (n_i, r_i) per rung for s = 4 .. 0.
PAPER_TABLE = {
    4: [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)],
    3: [(34, 3), (11, 9), (3, 27), (1, 81)],
    2: [(15, 9), (5, 27), (1, 81)],
    1: [(8, 27), (2, 81)],
    0: [(5, 81)],
}


def learning_curve(params, budget, config_id):
    """Accuracy-like curve: higher x learns faster; more budget always helps."""
    return params["x"] * (1.0 - 0.5 ** budget)


def test_hyperband_brackets_match_paper_table():
    brackets = hyperband_brackets(81, eta=3)
    assert [s for s, _ in brackets] == [4, 3, 2, 1, 0]
    for s, rungs in brackets:
        assert [(rung.n_configs, rung.budget) for rung in rungs] == PAPER_TABLE[s]
        assert [rung.n_promoted for rung in rungs[:-1]] == [n for n, _ in PAPER_TABLE[s][1:]]


def test_hyperband_budget_unit_scales_budgets():
    brackets = hyperband_brackets(8.1, eta=3, min_budget=0.1)
    assert [rung.budget for rung in brackets[0][1]] == pytest.approx([0.1, 0.3, 0.9, 2.7, 8.1])


def test_hyperband_non_power_budget_uses_floor():
    # R = 100, eta = 3: s_max = floor(log_3 100) = 4, B = 500.
    brackets = hyperband_brackets(100, eta=3)
    s, rungs = brackets[0]
    assert s == 4
    assert rungs[0].n_configs == 81      # ceil(500/100 * 81/5) = 81
    assert rungs[0].budget == pytest.approx(100 / 81)
    assert brackets[-1][1][0].n_configs == 5


@pytest.mark.parametrize("n, eta, expected", [
    (16, 2, [(16, 1), (8, 2), (4, 4), (2, 8), (1, 16)]),
    (10, 3, [(10, 1), (3, 3), (1, 9)]),   # floor(log_3 10) = 2 halvings
    (2, 3, [(2, 1)]),          # n < eta: one rung, nothing to halve
    (27, 3, [(27, 1), (9, 3), (3, 9), (1, 27)]),
])
def test_successive_halving_rungs(n, eta, expected):
    rungs = successive_halving_rungs(n, 1.0, eta)
    assert [(rung.n_configs, rung.budget) for rung in rungs] == expected


def test_successive_halving_max_budget_caps_rungs():
    rungs = successive_halving_rungs(64, 1.0, 2, max_budget=10)
    assert [rung.budget for rung in rungs] == [1, 2, 4, 8]
    assert rungs[-1].n_promoted == 0


@pytest.mark.parametrize("call, match", [
    (lambda: successive_halving_rungs(8, 1.0, eta=1), "eta must be >= 2"),
    (lambda: successive_halving_rungs(8, 0.0), "min_budget must be > 0"),
    (lambda: successive_halving_rungs(0, 1.0), "n_configs must be >= 1"),
    (lambda: hyperband_brackets(-3), "max_budget must be > 0"),
    (lambda: hyperband_brackets(0.5, min_budget=1.0), "max_budget must be >= min_budget"),
])
def test_schedules_reject_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_successive_halving_keeps_best_half(tmp_path):
    search = SuccessiveHalving(learning_curve, SPACE, n_configs=8, min_budget=1, eta=2,
                               storage=tmp_path / "sh.journal", seed=1)
    assert Runner(search).run() == RunnerState.FINISHED
    snapshot = search.snapshot()
    assert snapshot.schedule["status"].tolist() == ["done"] * 4
    assert search.budget_spent == 8 * 1 + 4 * 2 + 2 * 4 + 1 * 8
    states = snapshot.configurations["state"].value_counts().to_dict()
    assert states == {"pruned": 7, "complete": 1}
    best_x = max(config.params["x"] for config in search.brackets[0].configs)
    winner = snapshot.configurations.query("state == 'complete'")
    assert winner["params_x"].iloc[0] == best_x
    trials = search.study.get_trials()
    assert sum(t.state == optuna.trial.TrialState.PRUNED for t in trials) == 7
    winner_trial = trials[int(winner["config_id"].iloc[0])]
    assert winner_trial.intermediate_values == {0: pytest.approx(best_x * 0.5),
                                                1: pytest.approx(best_x * 0.75),
                                                2: pytest.approx(best_x * (1 - 0.5 ** 4)),
                                                3: pytest.approx(best_x * (1 - 0.5 ** 8))}


def test_hyperband_runs_every_bracket(tmp_path):
    search = Hyperband(learning_curve, SPACE, max_budget=9, eta=3, storage=tmp_path / "hb.journal")
    schedule = search.snapshot().schedule
    assert schedule[["bracket", "rung", "n_configs", "budget"]].values.tolist() == \
        schedule_frame(hyperband_brackets(9, 3))[["bracket", "rung", "n_configs", "budget"]].values.tolist()
    assert set(schedule["status"]) == {"waiting"}
    Runner(search).run()
    snapshot = search.snapshot()
    assert set(snapshot.schedule["status"]) == {"done"}
    evaluations = int(snapshot.schedule["n_evaluated"].sum())
    assert evaluations == int(snapshot.schedule["n_configs"].sum())
    assert len(search.study.get_trials()) == 9 + 5 + 3


def test_stop_and_promote_by_hand(tmp_path):
    search = SuccessiveHalving(learning_curve, SPACE, n_configs=8, min_budget=1, eta=2,
                               storage=tmp_path / "steer.journal", seed=2)
    search.step()
    configs = search.brackets[0].configs
    worst = min(configs, key=lambda c: c.params["x"]).config_id
    best = max(configs, key=lambda c: c.params["x"]).config_id
    search.promote(worst)
    search.stop_config(best)
    while not search.done:
        search.step()
    states = search.snapshot().configurations.set_index("config_id")["state"]
    assert states[best] == "stopped"
    assert 2.0 in search._find(worst)[1].values, "a promoted configuration did not reach rung 1"
    assert search.study.get_trials()[best].user_attrs["stopped_by_user"] is True

    with pytest.raises(ValueError, match="is stopped; only a racing"):
        search.stop_config(best)
    with pytest.raises(ValueError, match="is not a configuration"):
        search.promote(999)


def test_hyperband_set_eta_before_next_bracket(tmp_path):
    search = Hyperband(learning_curve, SPACE, max_budget=27, eta=3, storage=tmp_path / "e.journal")
    search.step()
    search.set_eta(2)
    brackets = [bracket.index for bracket in search.brackets]
    assert brackets[0] == 3                     # the started bracket keeps eta 3
    assert brackets[1:] == [2, 1, 0]            # eta 2 with R = 27 has s_max = 4; s < 3 remain
    assert search.brackets[1].rungs[0].budget == pytest.approx(27 / 4)
    Runner(search).run()
    assert search.done


def test_failing_configuration_is_dropped(tmp_path):
    def flaky(params, budget, config_id):
        if config_id == 2:
            raise RuntimeError("NaN loss")
        return learning_curve(params, budget, config_id)

    search = SuccessiveHalving(flaky, SPACE, n_configs=4, min_budget=1, eta=2,
                               storage=tmp_path / "f.journal")
    assert Runner(search).run() == RunnerState.FINISHED
    trial = search.study.get_trials()[2]
    assert trial.state == optuna.trial.TrialState.FAIL
    assert trial.user_attrs["fail_reason"] == "RuntimeError: NaN loss"


def test_bandit_replay_reproduces(tmp_path):
    search = SuccessiveHalving(learning_curve, SPACE, n_configs=8, min_budget=1, eta=2,
                               storage=tmp_path / "a.journal", seed=4)
    search.step()
    search.promote(search.brackets[0].configs[5].config_id)
    search.step()
    search.stop_config(search.brackets[0].configs[0].config_id)
    while not search.done:
        search.step()
    path = search.steering_log.save(tmp_path / "sh.json")
    fresh = SuccessiveHalving(learning_curve, SPACE, n_configs=8, min_budget=1, eta=2,
                              storage=tmp_path / "b.journal", seed=4)
    SteeringLog.load(path).replay(fresh)
    assert fresh.snapshot().configurations.equals(search.snapshot().configurations)


def test_bandits_reject_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="eta must be >= 2"):
        SuccessiveHalving(learning_curve, SPACE, n_configs=4, min_budget=1, eta=1,
                          storage=tmp_path / "x.journal")
    with pytest.raises(ValueError, match="min_budget must be > 0"):
        SuccessiveHalving(learning_curve, SPACE, n_configs=4, min_budget=0,
                          storage=tmp_path / "x.journal")
    with pytest.raises(ValueError, match="max_budget must be > 0"):
        Hyperband(learning_curve, SPACE, max_budget=0, storage=tmp_path / "x.journal")
    with pytest.raises(TypeError, match="objective must be callable"):
        Hyperband("f", SPACE, max_budget=9, storage=tmp_path / "x.journal")
    search = Hyperband(learning_curve, SPACE, max_budget=9, storage=tmp_path / "x.journal")
    with pytest.raises(ValueError, match="eta must be >= 2"):
        search.set_eta(1)
