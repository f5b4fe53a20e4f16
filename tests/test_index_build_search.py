"""IndexBuild: block-by-block builds equal one-shot builds, steering, snapshots, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.core import Runner, SteeringLog
from workbench.index import PGMIndex, RMI
from workbench.index.build_search import STRUCTURES, IndexBuild


def lognormal_keys(n=200_000, seed=0):
    rng = np.random.default_rng(seed)
    return np.sort((rng.lognormal(0, 2, size=n) * 1e9).astype(np.uint64))


def build(search):
    while not search.done:
        search.step()
    return search


@pytest.mark.parametrize("segments_per_step", [None, 1, 7])
def test_pgm_blocks_equal_one_shot_build(segments_per_step):
    keys = lognormal_keys()
    search = build(IndexBuild(keys, epsilon=16, segments_per_step=segments_per_step))
    reference = PGMIndex(keys, epsilon=16)
    assert search.n_steps > 2
    for ours, theirs in zip(search.index.levels, reference.levels, strict=True):
        np.testing.assert_array_equal(ours.first_keys, theirs.first_keys)
        np.testing.assert_array_equal(ours.slopes, theirs.slopes)
        np.testing.assert_array_equal(ours.intercepts, theirs.intercepts)


def test_pgm_progress_and_lines_grow():
    search = IndexBuild(lognormal_keys(), epsilon=8, segments_per_step=50)
    progress, models = [], []
    while not search.done:
        search.step()
        snapshot = search.snapshot()
        progress.append(snapshot.progress)
        models.append(len(snapshot.lines))
    assert progress == sorted(progress)
    assert progress[-1] == 1.0
    assert models[0] == 50
    assert models == sorted(models)
    assert search.snapshot().stats["segments_per_level"][0] == models[-1]


def test_rmi_builds_in_two_stages():
    keys = lognormal_keys(50_000)
    search = IndexBuild(keys, "rmi", branching=256, root="cubic")
    search.step()
    snapshot = search.snapshot()
    assert snapshot.phase == "leaves"
    assert snapshot.root_curve is not None
    search.step()
    reference = RMI(keys, branching=256, root="cubic")
    np.testing.assert_array_equal(search.index.slopes, reference.slopes)
    np.testing.assert_array_equal(search.index.error_above, reference.error_above)


@pytest.mark.parametrize("structure", STRUCTURES)
def test_every_structure_builds_exact(structure):
    keys = lognormal_keys(30_000, seed=3)
    search = build(IndexBuild(keys, structure))
    queries = np.r_[keys[::7], keys[::11] + 1, np.uint64(0), np.uint64(2**64 - 1)]
    np.testing.assert_array_equal(search.index.lower_bound(queries),
                                  np.searchsorted(keys, queries))
    snapshot = search.snapshot()
    assert snapshot.errors.shape == snapshot.error_keys.shape
    assert snapshot.history[-1].structure == structure


def test_steering_restarts_and_is_logged(tmp_path):
    keys = lognormal_keys(40_000)
    search = build(IndexBuild(keys, epsilon=64))
    coarse = search.snapshot().stats["segments_per_level"][0]
    search.set_epsilon(8)
    assert not search.done
    build(search)
    fine = search.snapshot().stats["segments_per_level"][0]
    assert fine > coarse
    search.set_structure("rmi")
    search.set_branching(64)
    search.set_root("radix")
    build(search)
    assert search.index.stats()["models_per_level"] == [64, 1]
    history = search.snapshot().history
    assert [record.epsilon for record in history[:2]] == [64, 8]
    log_path = tmp_path / "steering.json"
    search.steering_log.save(log_path)
    actions = [record.action for record in SteeringLog.load(log_path)]
    assert actions == ["set_epsilon", "set_structure", "set_branching", "set_root"]


def test_lookup_trace_matches_lower_bound():
    keys = lognormal_keys(20_000)
    search = build(IndexBuild(keys, epsilon=4))
    for key in (int(keys[0]), int(keys[12_345]) + 1, 2**64 - 1):
        trace = search.lookup(key)
        assert trace.position == int(np.searchsorted(keys, np.uint64(key)))
        assert search.snapshot().lookup == trace
        if not trace.fallback:
            assert all(trace.lo <= probe < max(trace.hi, trace.lo + 1) for probe in trace.probes)


def test_sweep_records_segments_per_epsilon():
    keys = lognormal_keys(50_000)
    search = IndexBuild(keys)
    search.sweep_epsilon((8, 32, 128))
    sweep = search.snapshot().sweep
    assert [record.epsilon for record in sweep] == [8, 32, 128]
    segments = [record.models for record in sweep]
    assert segments[0] > segments[1] > segments[2]
    assert search.epsilon == 64


def test_runner_drives_build_to_the_end():
    keys = lognormal_keys(100_000)
    search = IndexBuild(keys, epsilon=16, segments_per_step=20)
    updates = []
    runner = Runner(search)
    try:
        runner.subscribe(updates.append)
        runner.start()
        runner.wait(timeout=60)
    finally:
        runner.close()
    assert search.done
    assert updates[-1].snapshot.stats is not None


def test_bad_steering_is_rejected():
    keys = np.arange(100, dtype=np.uint64)
    search = IndexBuild(keys)
    with pytest.raises(ValueError, match="still being built"):
        search.lookup(3)
    with pytest.raises(ValueError, match="static and takes no inserts"):
        search.insert([5])
    with pytest.raises(ValueError, match="epsilon must be >= 1"):
        search.set_epsilon(0)
    with pytest.raises(ValueError, match="structure must be one of"):
        search.set_structure("btree")
    with pytest.raises(ValueError, match="root must be one of"):
        search.set_root("quadratic")
    with pytest.raises(ValueError, match="sample_rate must be > 0"):
        search.set_sample_rate(0)
    with pytest.raises(ValueError, match="epsilons is empty"):
        search.sweep_epsilon([])
    with pytest.raises(ValueError, match="keys must be sorted"):
        IndexBuild(np.array([3, 1], dtype=np.uint64))
    assert len(search.steering_log) == 0


@pytest.mark.parametrize("keys", [np.array([], dtype=np.uint64), np.array([7], dtype=np.uint64),
                                  np.array([-1.5, -1.5, 2.0]),
                                  np.array([-(2**63), 2**63 - 1], dtype=np.int64)])
@pytest.mark.parametrize("structure", STRUCTURES)
def test_tiny_key_sets_build(keys, structure):
    search = build(IndexBuild(keys, structure))
    probe = keys if keys.size else np.array([0], dtype=keys.dtype)
    np.testing.assert_array_equal(search.index.lower_bound(probe), np.searchsorted(keys, probe))
    assert search.snapshot().phase == "done"


@pytest.mark.parametrize("structure", ["alex", "fiting_tree"])
def test_inserts_keep_lookups_exact(structure):
    keys = lognormal_keys(20_000)
    search = build(IndexBuild(keys, structure))
    rng = np.random.default_rng(4)
    inserted = rng.integers(0, 2**63, size=3000, dtype=np.uint64)
    for batch in np.array_split(inserted, 3):
        search.insert(batch)
    expected = np.sort(np.r_[keys, inserted])
    np.testing.assert_array_equal(search.keys, expected)
    queries = np.r_[expected[::13], rng.integers(0, 2**64 - 1, size=500, dtype=np.uint64)]
    np.testing.assert_array_equal(search.index.lower_bound(queries),
                                  np.searchsorted(expected, queries))
    snapshot = search.snapshot()
    assert snapshot.n_inserted == 3000
    assert snapshot.errors.size == min(expected.size, 100_000)
    assert [record.action for record in search.steering_log] == ["insert"] * 3
