"""RandomSearch on a real Optuna journal storage."""

from __future__ import annotations

import math

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from workbench.core import Runner, RunnerState, SteeringLog
from workbench.hpo import RandomSearch, check_params, sample_params

SPACE = {
    "x": FloatDistribution(-5.0, 5.0),
    "lr": FloatDistribution(1e-4, 1.0, log=True),
    "depth": IntDistribution(1, 64, log=True),
    "width": IntDistribution(8, 128, step=8),
    "kind": CategoricalDistribution(["a", "b", "c"]),
}


def objective(params):
    return -(params["x"] - 1.0) ** 2 - abs(math.log10(params["lr"]) + 2) + (params["kind"] == "b")


def test_samples_stay_inside_space():
    rng = np.random.default_rng(0)
    for _ in range(500):
        params = sample_params(SPACE, rng)
        assert check_params(SPACE, params) == params
        assert params["width"] % 8 == 0


def test_log_int_sampling_covers_range():
    rng = np.random.default_rng(1)
    draws = [sample_params({"d": IntDistribution(1, 64, log=True)}, rng)["d"] for _ in range(3000)]
    assert min(draws) == 1
    assert max(draws) == 64
    # Log-uniform: about half the draws fall below sqrt(64) = 8.
    assert 0.4 < np.mean(np.array(draws) < 8) < 0.6


def test_runs_trials_on_study(tmp_path):
    search = RandomSearch(objective, SPACE, n_trials=12, storage=tmp_path / "s.journal", seed=3)
    Runner(search).run()
    trials = search.study.get_trials()
    assert len(trials) == 12
    assert all(trial.state == optuna.trial.TrialState.COMPLETE for trial in trials)
    snapshot = search.snapshot()
    assert snapshot.n_complete == 12
    assert snapshot.best_value == max(trial.value for trial in trials)
    assert snapshot.trials["best_so_far"].is_monotonic_increasing


def test_resume_on_same_study_continues_sequence(tmp_path):
    storage = tmp_path / "resume.journal"
    uninterrupted = RandomSearch(objective, SPACE, n_trials=10, storage=storage,
                                 study_name="full", seed=5)
    Runner(uninterrupted).run()

    first = RandomSearch(objective, SPACE, n_trials=4, storage=storage, study_name="split", seed=5)
    Runner(first).run()
    second = RandomSearch(objective, SPACE, n_trials=10, storage=storage, study_name="split", seed=5)
    assert second.n_finished == 4
    Runner(second).run()

    full = [trial.params for trial in uninterrupted.study.get_trials()]
    split = [trial.params for trial in second.study.get_trials()]
    assert full == split


def test_propose_is_evaluated_next(tmp_path):
    search = RandomSearch(objective, SPACE, n_trials=3, storage=tmp_path / "p.journal")
    search.step()
    proposal = {"x": 1.0, "lr": 0.01, "depth": 4, "width": 64, "kind": "b"}
    search.propose(proposal)
    event = search.step()
    assert event["params"] == proposal
    assert event["source"] == "proposed"
    assert search.snapshot().trials.loc[1, "source"] == "proposed"


@pytest.mark.parametrize("params, match", [
    ({"x": 1.0}, "missing"),
    ({"x": 9.0, "lr": 0.01, "depth": 4, "width": 64, "kind": "b"}, r"params\['x'\] = 9.0"),
    ({"x": 1.0, "lr": 0.01, "depth": 4, "width": 63, "kind": "b"}, r"params\['width'\]"),
    ({"x": 1.0, "lr": 0.01, "depth": 4, "width": 64, "kind": "z"}, r"params\['kind'\]"),
])
def test_propose_rejects_bad_params(tmp_path, params, match):
    search = RandomSearch(objective, SPACE, n_trials=3, storage=tmp_path / "p.journal")
    with pytest.raises(ValueError, match=match):
        search.propose(params)
    assert len(search.steering_log) == 0


def test_failing_objective_fails_trial_and_goes_on(tmp_path):
    calls = {"n": 0}

    def flaky(params):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("out of memory in fold 2")
        return params["x"]

    search = RandomSearch(flaky, SPACE, n_trials=6, storage=tmp_path / "f.journal")
    assert Runner(search).run() == RunnerState.FINISHED
    trials = search.study.get_trials()
    states = [trial.state.name for trial in trials]
    assert states == ["COMPLETE", "COMPLETE", "FAIL", "COMPLETE", "COMPLETE", "COMPLETE"]
    assert trials[2].user_attrs["fail_reason"] == "RuntimeError: out of memory in fold 2"
    assert search.snapshot().trials.loc[2, "fail_reason"] == "RuntimeError: out of memory in fold 2"


def test_non_finite_value_marks_trial_failed(tmp_path):
    values = iter([1.0, float("nan"), float("inf"), 2.0])
    search = RandomSearch(lambda params: next(values), SPACE, n_trials=4,
                          storage=tmp_path / "n.journal")
    Runner(search).run()
    trials = search.study.get_trials()
    assert [trial.state.name for trial in trials] == ["COMPLETE", "FAIL", "FAIL", "COMPLETE"]
    assert trials[1].user_attrs["fail_reason"] == "objective returned nan"
    assert search.snapshot().best_value == 2.0


def test_replay_reproduces_trials(tmp_path):
    search = RandomSearch(objective, SPACE, n_trials=6, storage=tmp_path / "a.journal", seed=9)
    search.step()
    search.step()
    search.propose({"x": 0.5, "lr": 0.1, "depth": 2, "width": 8, "kind": "c"})
    search.step()
    search.set_n_trials(8)
    while not search.done:
        search.step()
    path = search.steering_log.save(tmp_path / "log.json")

    fresh = RandomSearch(objective, SPACE, n_trials=6, storage=tmp_path / "b.journal", seed=9)
    SteeringLog.load(path).replay(fresh)
    original = [(t.params, t.value) for t in search.study.get_trials()]
    replayed = [(t.params, t.value) for t in fresh.study.get_trials()]
    assert len(original) == 8
    assert original == replayed


@pytest.mark.parametrize("kwargs, error, match", [
    ({"objective": 3}, TypeError, "objective must be callable"),
    ({"space": {}}, ValueError, "space must be a non-empty dict"),
    ({"space": {"x": (0, 1)}}, TypeError, r"space\['x'\] must be an optuna"),
    ({"n_trials": 0}, ValueError, "n_trials must be >= 1"),
    ({"direction": "up"}, ValueError, "direction must be one of"),
    ({"seed": -2}, ValueError, "seed must be >= 0"),
])
def test_constructor_validates(tmp_path, kwargs, error, match):
    arguments = {"objective": objective, "space": SPACE, "storage": tmp_path / "v.journal"}
    arguments.update(kwargs)
    with pytest.raises(error, match=match):
        RandomSearch(**arguments)


KILLED_SCRIPT = """
import sys, time
from optuna.distributions import FloatDistribution
from workbench.hpo import RandomSearch

def slow(params):
    if params["x"] is not None and search.n_finished == 3:
        print("in trial", flush=True)
        time.sleep(60)
    return params["x"]

search = RandomSearch(slow, {"x": FloatDistribution(-5, 5)}, n_trials=8,
                      storage=sys.argv[1], study_name="killed", seed=11)
while not search.done:
    search.step()
"""


def test_rebuild_after_kill_mid_trial_repeats_uninterrupted_run(tmp_path):
    import subprocess
    import sys

    storage = tmp_path / "killed.journal"
    process = subprocess.Popen([sys.executable, "-c", KILLED_SCRIPT, str(storage)],
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "in trial"
    finally:
        process.kill()
        process.wait(10)

    space = {"x": FloatDistribution(-5, 5)}
    rebuilt = RandomSearch(lambda p: p["x"], space, n_trials=8, storage=storage,
                           study_name="killed", seed=11)
    trials = rebuilt.study.get_trials()
    assert [t.state.name for t in trials] == ["COMPLETE"] * 3 + ["FAIL"]
    assert trials[3].user_attrs["workbench_interrupted"] is True
    assert "interrupted" in trials[3].user_attrs["fail_reason"]
    assert rebuilt.n_finished == 3
    Runner(rebuilt).run()

    reference = RandomSearch(lambda p: p["x"], space, n_trials=8, storage=tmp_path / "ref.journal",
                             seed=11)
    Runner(reference).run()
    resumed = [t.params["x"] for t in rebuilt.study.get_trials() if t.state.name == "COMPLETE"]
    assert resumed == [t.params["x"] for t in reference.study.get_trials()]
    assert rebuilt.study.get_trials()[4].params == trials[3].params, "interrupted trial not rerun"


def test_study_name_validated(tmp_path):
    with pytest.raises(ValueError, match="study_name must be a non-empty string"):
        RandomSearch(objective, SPACE, study_name="", storage=tmp_path / "s.journal")
    with pytest.raises(TypeError, match="study_name must be a string or None"):
        RandomSearch(objective, SPACE, study_name=5, storage=tmp_path / "s.journal")


def test_propose_non_number_is_type_error(tmp_path):
    search = RandomSearch(objective, SPACE, storage=tmp_path / "t.journal")
    with pytest.raises(TypeError, match=r"params\['x'\] must be a number, got 'a'"):
        search.propose({"x": "a", "lr": 0.01, "depth": 4, "width": 64, "kind": "b"})
