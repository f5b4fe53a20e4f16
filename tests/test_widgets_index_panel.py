"""IndexPanel driven headless: live build, downsampling, zoom, lookups, sweep, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from widgets import IndexPanel
from widgets.index_panel import MAX_CURVE_POINTS, downsample_curve, visible_models
from workbench.core import Runner, RunnerState
from workbench.index.build_search import IndexBuild


def lognormal_keys(n=100_000, seed=0):
    rng = np.random.default_rng(seed)
    return np.sort((rng.lognormal(0, 2, size=n) * 1e9).astype(np.uint64))


def make_panel(keys=None, **settings):
    search = IndexBuild(lognormal_keys() if keys is None else keys, **settings)
    runner = Runner(search)
    return search, runner, IndexPanel(runner)


def test_downsample_keeps_every_key_when_zoomed():
    keys = np.arange(0, 1_000_000, 10, dtype=np.uint64)
    x, y = downsample_curve(keys)
    assert len(x) <= 2 * MAX_CURVE_POINTS
    assert y[0] == 0
    assert y[-1] == keys.size - 1
    x, y = downsample_curve(keys, 500.0, 1000.0)
    assert x.tolist() == [float(k) for k in range(500, 1001, 10)]
    np.testing.assert_array_equal(y, np.arange(50, 101))


def test_downsample_shows_gaps_and_dense_regions():
    dense = np.arange(0, 100_000, dtype=np.uint64)
    far = np.array([10**12], dtype=np.uint64)
    keys = np.r_[dense, far]
    x, y = downsample_curve(keys, max_points=100)
    assert x[-1] == 1e12        # the lone far key is drawn
    assert (y < 100_000).sum() >= 99      # and the dense block keeps its shape


def test_panel_draws_live_build_until_done():
    search, runner, panel = make_panel(epsilon=16, segments_per_step=40)
    runner.step_once()
    runner.wait(timeout=30)
    partial = len(search.snapshot().lines)
    assert partial == 40
    runner.run()
    assert panel.errors == []
    assert search.done
    assert "models" in panel.curve.data[2].name
    assert len(panel.curve.data[2].x) == 3 * min(len(search.snapshot().lines), 300)
    assert sum(panel.errors_figure.data[0].y) == min(search.keys.size, 100_000)
    assert "% of the keys" in panel.info.value
    assert [trace.name for trace in panel.sweep_figure.data] == ["pgm"]


def test_cones_contain_every_drawn_key():
    search, runner, panel = make_panel(epsilon=8)
    runner.run()
    panel.zoom(float(search.keys[1000]), float(search.keys[1100]))
    lines = search.snapshot().lines
    chosen = visible_models(lines, *panel._view)
    assert len(chosen) >= 1
    x = np.asarray(panel.curve.data[0].x)
    y = np.asarray(panel.curve.data[0].y)
    assert len(x) == 101
    model = np.searchsorted(lines.first_keys.astype(float), x, side="right") - 1
    predicted = lines.intercepts[model] + lines.slopes[model] * (
        x - lines.first_keys[model].astype(float))
    assert np.all(np.abs(predicted - y) <= 8 + 2)


def test_lookup_fills_inspector_and_zoom():
    search, runner, panel = make_panel(epsilon=32)
    runner.run()
    key = int(search.keys[4321])
    panel.lookup_key.value = str(key)
    panel.look_up()
    runner.wait(timeout=30)
    trace = search.snapshot().lookup
    assert trace.position == int(np.searchsorted(search.keys, np.uint64(key)))
    assert f"position {trace.position}" in panel.last_mile.layout.title.text
    probes = panel.last_mile.data[2]
    assert list(probes.x) == list(trace.probes)
    assert list(probes.text) == [str(i + 1) for i in range(len(trace.probes))]
    panel.zoom_to_lookup()
    low, high = panel._view
    assert low <= key <= high
    panel.reset_zoom()
    assert panel._view is None


def test_rebuild_and_sweep_from_controls():
    search, runner, panel = make_panel(epsilon=64)
    runner.run()
    panel.structure.value = "rmi"
    panel.branching.value = 128
    panel.root.value = "cubic"
    panel.rebuild()
    runner.wait(timeout=60)
    assert search.index.stats()["models_per_level"] == [128, 1]
    panel.sweep()
    runner.wait(timeout=60)
    assert panel.errors == []
    names = [trace.name for trace in panel.sweep_figure.data]
    assert "rmi" in names
    actions = [record.action for record in search.steering_log]
    assert actions == ["set_structure", "set_branching", "set_root", "sweep_epsilon"]


def test_bad_input_is_shown_not_raised():
    search, runner, panel = make_panel()
    runner.run()
    panel.lookup_key.value = "twelve"
    lookup_button = panel.children[-2].children[2].children[1]
    lookup_button.click()
    assert any("is not an integer" in error for error in panel.errors)
    insert_button = panel.children[-2].children[3].children[2]
    insert_button.click()
    runner.wait(timeout=30)
    assert any("static and takes no inserts" in error for error in panel.errors)
    assert runner.state != RunnerState.FAILED
    with pytest.raises(ValueError, match="low < high"):
        panel.zoom(5.0, 5.0)
    with pytest.raises(TypeError, match="IndexBuild"):
        IndexPanel(Runner(_Other()))


class _Other(IndexBuild.__mro__[1]):      # any Search that is not an IndexBuild
    done = True

    def _step(self):
        return {}

    def snapshot(self):
        return None


def test_long_and_empty_input_errors_stay_short():
    search, runner, panel = make_panel(keys=np.array([], dtype=np.uint64))
    runner.run()
    panel.lookup_key.value = "9" * 100_000 + "x"
    with pytest.raises(ValueError, match="is not an integer") as raised:
        panel.look_up()
    assert len(str(raised.value)) < 200
    panel.lookup_key.value = "6"
    panel.look_up()
    runner.wait(timeout=30)
    with pytest.raises(ValueError, match="no keys"):
        panel.zoom_to_lookup()
    with pytest.raises(ValueError, match="structure must be one of"):
        search.set_structure(np.array(["pgm", "rmi"]))
