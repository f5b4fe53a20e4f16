"""GridSearch and BayesianOptimization as steerable searches on real Optuna storage."""

from __future__ import annotations

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from workbench.core import Runner, RunnerState, SteeringLog
from workbench.hpo import BayesianOptimization, GPEISampler, GridSearch, RandomSearch, grid_values
from workbench.hpo.tasks.test_functions import BRANIN

optuna.logging.set_verbosity(optuna.logging.ERROR)


def negated_branin(params):
    return -BRANIN(params)


def test_grid_values():
    assert grid_values(FloatDistribution(0, 1), 3) == [0.0, 0.5, 1.0]
    assert grid_values(FloatDistribution(1e-3, 1e-1, log=True), 3) == pytest.approx([1e-3, 1e-2, 1e-1])
    assert grid_values(IntDistribution(1, 4), 10) == [1, 2, 3, 4]
    assert grid_values(IntDistribution(0, 100, step=10), 3) == [0, 50, 100]
    assert grid_values(CategoricalDistribution(["a", "b"]), 7) == ["a", "b"]
    assert grid_values(FloatDistribution(0, 1, step=0.25), 3) == [0.0, 0.5, 1.0]


def test_grid_search_visits_every_point_once(tmp_path):
    space = {"x": FloatDistribution(-1, 1), "kind": CategoricalDistribution(["a", "b", "c"])}
    search = GridSearch(lambda p: p["x"] + (p["kind"] == "b"), space, n_points=4,
                        storage=tmp_path / "g.journal")
    assert len(search.grid) == 12
    assert search.n_trials == 12
    Runner(search).run()
    seen = [(t.params["x"], t.params["kind"]) for t in search.study.get_trials()]
    assert len(seen) == 12
    assert len(set(seen)) == 12
    assert search.snapshot().best_value == 2.0


def test_grid_search_resumes_without_repeats(tmp_path):
    space = {"x": FloatDistribution(0, 1), "y": IntDistribution(1, 3)}
    first = GridSearch(lambda p: p["x"] * p["y"], space, n_points=3, n_trials=4,
                       storage=tmp_path / "r.journal", study_name="grid")
    Runner(first).run()
    second = GridSearch(lambda p: p["x"] * p["y"], space, n_points=3,
                        storage=tmp_path / "r.journal", study_name="grid")
    assert len(second.remaining()) == 5
    Runner(second).run()
    params = [tuple(t.params.values()) for t in second.study.get_trials()]
    assert len(params) == 9
    assert len(set(params)) == 9


def test_grid_search_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="n_points must be >= 2"):
        GridSearch(lambda p: 0.0, {"x": FloatDistribution(0, 1)}, n_points=1,
                   storage=tmp_path / "b.journal")
    with pytest.raises(ValueError, match="space must be a non-empty dict"):
        GridSearch(lambda p: 0.0, {}, storage=tmp_path / "b.journal")
    with pytest.raises(ValueError, match="the grid has"):
        GridSearch(lambda p: 0.0, {f"x{i}": FloatDistribution(0, 1) for i in range(8)},
                   n_points=10, storage=tmp_path / "b.journal")


def test_narrow_changes_sampled_bounds(tmp_path):
    search = RandomSearch(lambda p: p["x"], {"x": FloatDistribution(-5, 5)}, n_trials=30,
                          storage=tmp_path / "n.journal")
    for _ in range(5):
        search.step()
    search.narrow("x", 1.0, 2.0)
    while not search.done:
        search.step()
    later = [t.params["x"] for t in search.study.get_trials()[5:]]
    assert all(1.0 <= x <= 2.0 for x in later)


@pytest.mark.parametrize("name, low, high, match", [
    ("y", 0, 1, "name must be a parameter"),
    ("x", 2.0, 1.0, "low must be < high"),
    ("lr", 0.0, 1.0, "log-scaled, so low must be > 0"),
    ("n", 1.5, 3, "must be whole numbers"),
    ("kind", 0, 1, "only float and integer"),
])
def test_narrow_rejects_bad_bounds(tmp_path, name, low, high, match):
    space = {"x": FloatDistribution(-5, 5), "lr": FloatDistribution(1e-3, 1, log=True),
             "n": IntDistribution(1, 8), "kind": CategoricalDistribution(["a"])}
    search = RandomSearch(lambda p: 0.0, space, storage=tmp_path / "x.journal")
    with pytest.raises(ValueError, match=match):
        search.narrow(name, low, high)
    assert len(search.steering_log) == 0


def make_bo(tmp_path, **kwargs):
    arguments = dict(n_trials=20, n_startup_trials=5, n_candidates=256, seed=0,
                     storage=tmp_path / "bo.journal")
    arguments.update(kwargs)
    return BayesianOptimization(negated_branin, BRANIN.space, **arguments)


def test_bayesian_optimization_finds_branin_minimum(tmp_path):
    search = make_bo(tmp_path, n_trials=25)
    Runner(search).run()
    snapshot = search.snapshot()
    assert -snapshot.study.best_value - BRANIN.minimum < 0.1
    assert snapshot.posterior is not None
    assert snapshot.next_params is not None
    assert set(snapshot.lengthscales) == {"x1", "x2"}
    sources = snapshot.study.trials["source"].tolist()
    assert sources[:5] == ["random"] * 5
    assert set(sources[5:]) == {"log_ei"}


def test_bayesian_optimization_steering_and_replay(tmp_path):
    search = make_bo(tmp_path, n_trials=12)
    for _ in range(6):
        search.step()
    search.set_acquisition("ucb", 3.0)
    assert search.snapshot().acquisition == "ucb"
    search.step()
    search.propose({"x1": 3.14, "x2": 2.27})
    search.step()
    search.fix_lengthscales({"x1": 0.3, "x2": 0.4})
    np.testing.assert_allclose(search.snapshot().posterior.lengthscales, [0.3, 0.4])
    search.step()
    search.fix_lengthscales(None)
    search.narrow("x1", 0.0, 5.0)
    search.refit()
    while not search.done:
        search.step()
    path = search.steering_log.save(tmp_path / "bo-log.json")
    assert [r.action for r in search.steering_log] == [
        "set_acquisition", "propose", "fix_lengthscales", "fix_lengthscales", "narrow", "refit"]

    replayed = make_bo(tmp_path, n_trials=12, storage=tmp_path / "replay.journal")
    SteeringLog.load(path).replay(replayed)
    original = [(t.params, t.value) for t in search.study.get_trials()]
    again = [(t.params, t.value) for t in replayed.study.get_trials()]
    assert original == again
    assert all(0.0 <= t.params["x1"] <= 5.0 for t in search.study.get_trials()[10:])


def test_bayesian_optimization_failures_and_nan(tmp_path):
    calls = {"n": 0}

    def flaky(params):
        calls["n"] += 1
        if calls["n"] in (3, 9):
            raise RuntimeError("diverged")
        if calls["n"] == 7:
            return float("inf")
        return negated_branin(params)

    search = BayesianOptimization(flaky, BRANIN.space, n_trials=14, n_startup_trials=4,
                                  n_candidates=256, storage=tmp_path / "f.journal")
    assert Runner(search).run() == RunnerState.FINISHED
    states = search.snapshot().study.trials["state"].tolist()
    assert states.count("FAIL") == 3
    assert states.count("COMPLETE") == 11


def test_bayesian_optimization_rejects_bad_steering(tmp_path):
    search = make_bo(tmp_path)
    with pytest.raises(ValueError, match="acquisition must be one of"):
        search.set_acquisition("thompson")
    with pytest.raises(ValueError, match="missing"):
        search.fix_lengthscales({"x1": 0.2})
    with pytest.raises(ValueError, match="must be > 0"):
        search.fix_lengthscales({"x1": 0.2, "x2": 0.0})
    assert len(search.steering_log) == 0


def test_grid_search_argument_checks(tmp_path):
    space = {"x": FloatDistribution(0, 1)}
    with pytest.raises(ValueError, match="n_trials must be >= 1"):
        GridSearch(lambda p: 0.0, space, n_trials=0, storage=tmp_path / "g.journal")
    with pytest.raises(ValueError, match=r"n_points has keys \['typo'\]"):
        GridSearch(lambda p: 0.0, space, n_points={"typo": 3}, storage=tmp_path / "g.journal")


def test_grid_search_narrow_resizes_budget(tmp_path):
    search = GridSearch(lambda p: p["x"], {"x": FloatDistribution(0, 1)}, n_points=5,
                        shuffle=False, storage=tmp_path / "n.journal")
    search.step()
    search.step()
    search.narrow("x", 0.5, 0.6)
    Runner(search).run()
    xs = [t.params["x"] for t in search.study.get_trials()]
    assert len(xs) == 2 + 5
    assert all(0.5 <= x <= 0.6 for x in xs[2:])


def test_integer_proposals_accept_whole_floats(tmp_path):
    space = {"n": IntDistribution(1, 10)}
    search = RandomSearch(lambda p: float(p["n"]), space, storage=tmp_path / "i.journal")
    search.propose({"n": 4.0})
    assert search.step()["params"] == {"n": 4}
    with pytest.raises(ValueError, match="must be a whole number"):
        search.propose({"n": 4.5})


def test_unseeded_search_stores_its_seed(tmp_path):
    first = RandomSearch(lambda p: 0.0, {"x": FloatDistribution(0, 1)}, seed=None,
                         storage=tmp_path / "s.journal")
    second = RandomSearch(lambda p: 0.0, {"x": FloatDistribution(0, 1)}, seed=None,
                          storage=tmp_path / "s.journal")
    assert isinstance(first.seed, int)
    assert first.seed != second.seed


def test_narrow_and_lengthscales_reject_bad_values(tmp_path):
    search = make_bo(tmp_path)
    with pytest.raises(TypeError, match="low must be a number, got 'a'"):
        search.narrow("x1", "a", "b")
    with pytest.raises(ValueError, match=r"unknown \['zz'\]"):
        search.fix_lengthscales({"x1": 0.2, "x2": 0.3, "zz": 1.0})


def test_gp_sampler_rejects_bad_space_and_multi_objective():
    with pytest.raises(TypeError, match=r"space\['x'\] must be an optuna"):
        GPEISampler(search_space={"x": (0, 1)})
    study = optuna.create_study(directions=["minimize", "minimize"],
                                sampler=GPEISampler(n_startup_trials=1))
    with pytest.raises(ValueError, match="single-objective"):
        study.optimize(lambda t: (t.suggest_float("x", 0, 1), 1.0), n_trials=1)
