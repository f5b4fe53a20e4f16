"""Runner lifecycle: start, pause, resume, step once, stop, wait, failure."""

from __future__ import annotations

import threading
import time

import pytest

from searches import NoisyQuadratic
from workbench.core import Runner, RunnerState


def wait_until(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.005)


def test_run_to_finish():
    search = NoisyQuadratic(n_trials=15)
    runner = Runner(search)
    assert runner.run() == RunnerState.FINISHED
    assert len(search.xs) == 15
    assert search.n_steps == 15
    assert not runner.is_alive or runner.wait(5) == RunnerState.FINISHED


def test_pause_then_resume():
    search = NoisyQuadratic(n_trials=200, step_seconds=0.01)
    runner = Runner(search).start()
    wait_until(lambda: search.n_steps >= 3)
    runner.pause()
    assert runner.wait(5) == RunnerState.PAUSED
    paused_at = search.n_steps
    time.sleep(0.1)
    assert search.n_steps == paused_at, "a paused runner kept stepping"
    runner.resume()
    wait_until(lambda: search.n_steps >= paused_at + 3)
    runner.stop()
    assert runner.wait(5) == RunnerState.STOPPED
    runner.close()


def test_step_once_takes_one_step():
    search = NoisyQuadratic(n_trials=10)
    runner = Runner(search)
    runner.step_once()
    assert runner.wait(5) == RunnerState.PAUSED
    assert search.n_steps == 1
    runner.step_once().step_once()
    runner.wait(5)
    assert search.n_steps == 3
    runner.close()


def test_step_once_on_done_search_logs(caplog):
    search = NoisyQuadratic(n_trials=2)
    runner = Runner(search)
    assert runner.run() == RunnerState.FINISHED
    with caplog.at_level("INFO", logger="workbench.core.runner"):
        runner.step_once()
    assert search.n_steps == 2
    assert "step_once ignored: NoisyQuadratic is done" in caplog.text
    runner.close()


def test_stop_ends_worker_and_start_continues():
    search = NoisyQuadratic(n_trials=50, step_seconds=0.01)
    runner = Runner(search).start()
    wait_until(lambda: search.n_steps >= 2)
    runner.stop()
    assert runner.wait(5) == RunnerState.STOPPED
    runner._thread.join(5)
    assert not runner.is_alive
    stopped_at = search.n_steps
    assert runner.run() == RunnerState.FINISHED
    assert search.n_steps == 50 > stopped_at


def test_failed_step_is_kept_and_resumable():
    search = NoisyQuadratic(n_trials=8, fail_at=3)
    runner = Runner(search)
    updates = []
    runner.subscribe(updates.append)
    runner.start()
    assert runner.wait(5) == RunnerState.FAILED
    assert isinstance(runner.error, RuntimeError)
    assert "injected failure" in runner.error_traceback
    assert search.n_steps == 3
    assert len(search.xs) == 3
    errors = [update for update in updates if update.reason == "error"]
    assert len(errors) == 1
    assert errors[0].snapshot["xs"].shape == (3,)

    search.clear_failure()
    assert runner.run() == RunnerState.FINISHED
    assert runner.error is None
    assert len(search.xs) == 8


def test_run_reraises_step_error():
    runner = Runner(NoisyQuadratic(n_trials=5, fail_at=0))
    with pytest.raises(RuntimeError, match="injected failure"):
        runner.run()


def test_updates_throttled_but_final_always_sent():
    search = NoisyQuadratic(n_trials=300)
    runner = Runner(search, updates_per_second=2.0)
    updates = []
    runner.subscribe(updates.append)
    runner.run()
    assert updates[-1].reason == "finished"
    assert updates[-1].n_steps == 300
    assert updates[-1].snapshot["xs"].shape == (300,)
    step_updates = [update for update in updates if update.reason == "step"]
    assert len(step_updates) < 30, "updates were not rate-limited"


def test_broken_subscriber_does_not_stop_runner():
    search = NoisyQuadratic(n_trials=10)
    runner = Runner(search)

    def broken(update):
        raise KeyError("render failed")

    runner.subscribe(broken)
    assert runner.run() == RunnerState.FINISHED
    assert search.n_steps == 10


def test_unsubscribe_stops_updates():
    runner = Runner(NoisyQuadratic(n_trials=5))
    updates = []
    unsubscribe = runner.subscribe(updates.append)
    unsubscribe()
    runner.run()
    assert updates == []


def test_wait_timeout_raises():
    search = NoisyQuadratic(n_trials=1000, step_seconds=0.01)
    runner = Runner(search).start()
    with pytest.raises(TimeoutError, match="still running"):
        runner.wait(0.05)
    runner.close()


def test_runner_rejects_bad_arguments():
    with pytest.raises(TypeError, match="search must be a workbench.core.Search"):
        Runner(object())
    with pytest.raises(ValueError, match="updates_per_second"):
        Runner(NoisyQuadratic(), updates_per_second=0)
    search = NoisyQuadratic()
    Runner(search)
    with pytest.raises(ValueError, match="already attached"):
        Runner(search)
    with pytest.raises(TypeError, match="callback must be callable"):
        Runner(NoisyQuadratic()).subscribe(3)


def test_step_on_done_search_raises():
    search = NoisyQuadratic(n_trials=1)
    search.step()
    with pytest.raises(RuntimeError, match="is done after 1 steps"):
        search.step()


def test_close_detaches_search():
    search = NoisyQuadratic(n_trials=3)
    runner = Runner(search)
    runner.run()
    runner.close()
    assert search._runner is None
    search.set_n_trials(4)  # applied directly now, no runner
    assert search.n_trials == 4
    assert threading.active_count() >= 1


def test_restart_right_after_finish_never_hangs():
    # start() may land while the worker is ending; it must start a new worker.
    search = NoisyQuadratic(n_trials=1)
    runner = Runner(search)
    for n_trials in range(2, 200):
        search.set_n_trials(n_trials)
        runner.start()
        assert runner.wait(5) == RunnerState.FINISHED
        assert search.n_steps == n_trials


def test_step_once_while_running_pauses():
    search = NoisyQuadratic(n_trials=10_000, step_seconds=0.002)
    runner = Runner(search).start()
    wait_until(lambda: search.n_steps >= 2)
    runner.step_once()
    assert runner.wait(5) == RunnerState.PAUSED
    runner.close()


def test_step_once_on_done_search_is_noop():
    search = NoisyQuadratic(n_trials=2)
    runner = Runner(search)
    runner.run()
    runner.step_once()
    assert runner.wait(5) == RunnerState.FINISHED
    assert search.n_steps == 2
