"""Steering: queued at step boundaries, recorded, saved and replayed."""

from __future__ import annotations

import concurrent.futures
import json
import time

import numpy as np
import pytest

from searches import NoisyQuadratic
from workbench.core import Runner, RunnerState, SteeringLog


def test_steering_without_runner_applies_and_records():
    search = NoisyQuadratic(n_trials=5)
    search.step()
    search.narrow(0.0, 2.0)
    assert (search.low, search.high) == (0.0, 2.0)
    [record] = search.steering_log.records
    assert record.step == 1
    assert record.action == "narrow"
    assert record.arguments == {"low": 0.0, "high": 2.0}


def test_failed_steering_is_not_recorded():
    search = NoisyQuadratic()
    with pytest.raises(ValueError, match="low must be < high"):
        search.narrow(3.0, 1.0)
    assert len(search.steering_log) == 0
    assert (search.low, search.high) == (-5.0, 5.0)


def test_steering_arguments_must_be_storable():
    search = NoisyQuadratic()
    with pytest.raises(TypeError, match="steering argument 'low'"):
        search.narrow(object(), 1.0)
    with pytest.raises(ValueError, match="must be finite"):
        search.narrow(float("nan"), 1.0)
    with pytest.raises(TypeError, match="NoisyQuadratic.narrow"):
        search.narrow(1.0)


def test_numpy_arguments_become_plain_json():
    search = NoisyQuadratic()
    search.narrow(np.float32(0.5), np.float64(1.5))
    search.set_n_trials(np.int64(7))
    payload = json.dumps(search.steering_log.to_dict())
    assert '"n_trials": 7' in payload
    assert search.steering_log.records[0].arguments == {"low": 0.5, "high": 1.5}


@pytest.mark.parametrize("attempt", range(30))
def test_mid_step_steering_applied_at_boundary(attempt):
    search = NoisyQuadratic(n_trials=10_000, step_seconds=0.002, seed=attempt)
    runner = Runner(search).start()
    futures = []
    queued = 0
    for index in range(20):
        search.in_step.wait(1.0)
        futures.append(search.narrow(-1.0 - index, 1.0 + index))
        queued += runner.pending_steering > 0 or not futures[-1].done()
        time.sleep(0.0005 * (attempt % 4))
    concurrent.futures.wait(futures, timeout=10)
    runner.stop()
    runner.wait(10)
    runner.close()

    assert queued > 0, "no steering call arrived mid-step, so the test proved nothing"
    assert all(future.done() and future.exception() is None for future in futures)
    assert search.overlaps == 0, "a steering call ran while a step was running"
    actions = [record.arguments["high"] for record in search.steering_log]
    assert actions == [1.0 + index for index in range(20)], "steering calls were reordered"
    assert (search.low, search.high) == (-20.0, 20.0)
    steps = [record.step for record in search.steering_log]
    assert steps == sorted(steps)


def test_queued_steering_error_goes_to_future_and_subscribers():
    search = NoisyQuadratic(n_trials=10_000, step_seconds=0.01)
    runner = Runner(search)
    updates = []
    runner.subscribe(updates.append)
    runner.start()
    search.in_step.wait(1.0)
    while not search.in_step.is_set():
        time.sleep(0.001)
    future = search.narrow(2.0, 1.0)
    with pytest.raises(ValueError, match="low must be < high"):
        future.result(timeout=5)
    runner.close()
    assert any(update.reason == "steering_error" for update in updates)
    assert runner.state in (RunnerState.STOPPED, RunnerState.FINISHED)
    assert len(search.steering_log) == 0


def test_steering_while_paused_applies_at_once():
    search = NoisyQuadratic(n_trials=100)
    runner = Runner(search)
    runner.step_once()
    runner.wait(5)
    future = search.narrow(0.0, 0.5)
    assert future.done()
    assert search.high == 0.5
    with pytest.raises(ValueError, match="low must be < high"):
        search.narrow(1.0, 0.0)
    runner.close()


def test_replay_reproduces_trials(tmp_path):
    original = NoisyQuadratic(n_trials=30, seed=7, step_seconds=0.001)
    runner = Runner(original).start()
    while original.n_steps < 5:
        time.sleep(0.001)
    original.narrow(0.0, 2.0).result(timeout=5)
    while original.n_steps < 12:
        time.sleep(0.001)
    original.set_n_trials(40).result(timeout=5)
    original.narrow(0.5, 1.5).result(timeout=5)
    assert runner.wait(30) == RunnerState.FINISHED
    path = original.steering_log.save(tmp_path / "log.json")

    replayed = SteeringLog.load(path).replay(NoisyQuadratic(n_trials=30, seed=7))
    assert replayed.n_steps == original.n_steps == 40
    np.testing.assert_array_equal(replayed.xs, original.xs)
    assert [r.step for r in replayed.steering_log] == [r.step for r in original.steering_log]

    different_seed = SteeringLog.load(path).replay(NoisyQuadratic(n_trials=30, seed=8))
    assert not np.array_equal(different_seed.xs, original.xs)


def test_replay_rejects_used_search_and_bad_files(tmp_path):
    log = SteeringLog()
    used = NoisyQuadratic()
    used.step()
    with pytest.raises(ValueError, match="already taken 1 steps"):
        log.replay(used)
    with pytest.raises(FileNotFoundError, match="not found"):
        SteeringLog.load(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not a valid log file"):
        SteeringLog.load(bad)
    wrong_version = tmp_path / "v99.json"
    wrong_version.write_text(json.dumps({"version": 99, "records": []}))
    with pytest.raises(ValueError, match="format version 99"):
        SteeringLog.load(wrong_version)


def test_replay_with_step_past_end_raises():
    short = NoisyQuadratic(n_trials=3)
    short.step(); short.step(); short.step()
    short.set_n_trials(6)
    short.step()
    log = SteeringLog([record for record in short.steering_log])
    fresh = NoisyQuadratic(n_trials=2)
    with pytest.raises(ValueError, match="finished after 2 steps"):
        log.replay(fresh)


def test_unknown_steering_action_rejected():
    search = NoisyQuadratic()
    with pytest.raises(ValueError, match="not a steering action"):
        search.apply_steering("step", {})
    assert set(NoisyQuadratic.steering_actions()) == {"narrow", "set_n_trials", "clear_failure"}


def test_load_rejects_folder_none_and_wrong_structure(tmp_path):
    with pytest.raises(ValueError, match="is a folder"):
        SteeringLog.load(tmp_path)
    with pytest.raises(TypeError, match="path must be a str or Path"):
        SteeringLog.load(None)
    for payload in ("[1, 2, 3]", '{"version": 1, "records": [{"step": "a"}]}'):
        path = tmp_path / "wrong.json"
        path.write_text(payload)
        with pytest.raises(ValueError, match='expected a JSON object {"version": 1'):
            SteeringLog.load(path)
