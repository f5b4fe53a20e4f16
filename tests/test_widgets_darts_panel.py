"""DartsPanel driven headless: heatmaps, trajectories, genotype diagram, curves and steering.

The search is a tiny DARTS supernet (C=4, 3 layers, 2 intermediate nodes) on
scikit-learn's digits, two batch pairs per step.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from widgets import DartsPanel
from widgets.darts_panel import genotype_edges
from workbench.core import Runner
from workbench.nas import CPU_OPERATIONS, Darts, digits_split

torch.set_num_threads(1)

TINY = dict(C=4, layers=3, steps=2, multiplier=2, batch_size=16, batches_per_step=2,
            eval_size=32, epochs=1)


@pytest.fixture(scope="module")
def split():
    return digits_split(0)


@pytest.fixture
def make(split, monkeypatch):
    monkeypatch.setenv("WORKBENCH_OFFLINE", "1")
    panels = []

    def build(**overrides):
        search = Darts(split, **dict(TINY, **overrides))
        runner = Runner(search)
        panel = DartsPanel(runner)
        panels.append((runner, panel))
        return search, runner, panel

    yield build
    for runner, panel in panels:
        runner.close()
        panel.close()


def take_steps(runner, count):
    for _ in range(count):
        runner.step_once()
        runner.wait(timeout=30)


def test_heatmaps_and_trajectories(make):
    search, runner, panel = make()
    take_steps(runner, 2)
    assert panel.errors == []
    snapshot = search.snapshot()
    assert snapshot.step == 2
    for cell in ("normal", "reduce"):
        heat = panel.heatmaps[cell].data[0]
        np.testing.assert_allclose(np.asarray(heat.z), snapshot.weights[cell], rtol=1e-9)
        assert list(heat.x) == list(CPU_OPERATIONS)
        assert list(heat.y) == list(snapshot.edge_labels)
        assert panel.heatmaps[cell].layout.xaxis.title.text == "operation"

    panel.cell.value = "reduce"
    panel.edge.value = 3
    assert len(panel.trajectories.data) == len(CPU_OPERATIONS)
    for column, trace in enumerate(panel.trajectories.data):
        assert trace.name == CPU_OPERATIONS[column]
        assert list(trace.x) == [0, 1, 2]
        np.testing.assert_allclose(trace.y, snapshot.weights_history["reduce"][:, 3, column])
    assert "reduce edge 3" in panel.trajectories.layout.title.text


def test_curves_and_info_after_steps(make):
    search, runner, panel = make()
    take_steps(runner, 2)
    snapshot = search.snapshot()
    names = [trace.name for trace in panel.curves.data]
    assert names == ["train loss", "validation loss", "train accuracy", "validation accuracy"]
    assert list(panel.curves.data[0].x) == [1, 2]
    np.testing.assert_allclose(panel.curves.data[1].y, snapshot.val_loss)
    np.testing.assert_allclose(panel.curves.data[3].y, snapshot.val_accuracy)
    assert "parameter-free share: normal" in panel.info.value
    assert "step 2" in panel.info.value


def test_genotype_diagram_edge_traces(make):
    search, runner, panel = make()
    take_steps(runner, 1)
    genotype = search.snapshot().genotype
    for cell in ("normal", "reduce"):
        panel.genotype_cell.value = cell
        edges = genotype_edges(genotype, cell)
        assert len(edges) == 4
        edge_traces = [trace for trace in panel.cell_diagram.data if ": " in trace.name]
        assert len(edge_traces) == len(edges)
        labels = [annotation.text for annotation in panel.cell_diagram.layout.annotations]
        assert labels == [operation for operation, _, _ in edges]
        for trace, (operation, source, target) in zip(edge_traces, edges):
            assert trace.name == f"{operation}: {source} -> {target}"
        assert cell in panel.cell_diagram.layout.title.text
    nodes = panel.cell_diagram.data[-1]
    assert list(nodes.text) == ["c_{k-2}", "c_{k-1}", "2", "3", "output"]


def test_pin_forbid_apply_next_step(make):
    search, runner, panel = make()
    take_steps(runner, 1)
    dil = CPU_OPERATIONS.index("dil_conv_3x3")
    pool = CPU_OPERATIONS.index("max_pool_3x3")
    panel.cell.value, panel.edge.value, panel.operation.value = "normal", 0, "dil_conv_3x3"
    panel.pin_button.click()
    panel.cell.value, panel.edge.value, panel.operation.value = "reduce", 2, "max_pool_3x3"
    panel.forbid_edge_button.click()
    panel.operation.value = "avg_pool_3x3"
    panel.forbid_everywhere_button.click()
    assert panel.errors == []
    take_steps(runner, 1)

    snapshot = search.snapshot()
    latest = {cell: snapshot.weights_history[cell][-1] for cell in ("normal", "reduce")}
    expected = np.zeros(len(CPU_OPERATIONS))
    expected[dil] = 1.0
    np.testing.assert_array_equal(latest["normal"][0], expected)
    assert latest["reduce"][2, pool] == 0.0
    assert latest["normal"][2, pool] > 0.0
    avg = CPU_OPERATIONS.index("avg_pool_3x3")
    for cell in ("normal", "reduce"):
        assert not snapshot.masks[cell][:, avg].any()
    assert snapshot.pinned["normal"][0] == "dil_conv_3x3"
    assert "(pinned)" in panel.heatmaps["normal"].data[0].text[0][dil]
    assert "pinned normal edge 0: dil_conv_3x3" in panel.info.value

    panel.cell.value, panel.edge.value = "normal", 0
    panel.reset_button.click()
    assert search.snapshot().pinned["normal"][0] is None
    assert panel.errors == []


def test_lr_temperature_and_stop(make):
    search, runner, panel = make()
    panel.arch_lr_input.value = 0.0
    panel.arch_lr_button.click()
    panel.temperature_input.value = 0.5
    panel.temperature_button.click()
    assert search.arch_lr == 0.0
    assert search.temperature == 0.5
    alphas = [alpha.detach().clone() for alpha in search.supernet.arch_parameters()]
    take_steps(runner, 1)
    for before, after in zip(alphas, search.supernet.arch_parameters()):
        assert torch.equal(before, after)

    panel.stop_derive_button.click()
    runner.wait(timeout=30)
    snapshot = search.snapshot()
    assert search.done
    assert snapshot.stop_reason == "stopped"
    assert "final genotype" in panel.cell_diagram.layout.title.text
    assert "stopped: stopped" in panel.info.value
    assert panel.errors == []


def test_bad_steering_shows_error(make):
    search, runner, panel = make()
    panel.cell.value, panel.edge.value, panel.operation.value = "normal", 1, "sep_conv_3x3"
    panel.pin_button.click()
    panel.forbid_everywhere_button.click()
    assert len(panel.errors) == 1
    assert "would leave no operation on edge 1" in panel.errors[0]
    assert not search.snapshot().forbidden["reduce"].any()

    panel.temperature_input.value = 0.0
    panel.temperature_button.click()
    assert len(panel.errors) == 2
    assert "value must be > 0.0" in panel.errors[1]


def test_collapse_warning_is_shown(make):
    search, runner, panel = make()
    skip = CPU_OPERATIONS.index("skip_connect")
    with torch.no_grad():
        search.supernet.alpha_normal[:, skip] = 10.0
    panel.redraw(search.snapshot())
    assert search.snapshot().collapse_warning
    assert "collapse warning" in panel.info.value


def test_panel_rejects_other_searches():
    class NotDarts(Darts.__mro__[1]):     # any Search that is not a Darts
        done = True

        def _step(self):
            return {}

        def snapshot(self):
            return None

    with pytest.raises(TypeError, match="whose search is a Darts"):
        DartsPanel(Runner(NotDarts()))
    with pytest.raises(TypeError, match="whose search is a Darts"):
        DartsPanel("runner")


def test_run_button_draws_live(make):
    search, runner, panel = make(batches_per_step=4)
    redraws_before = panel.n_redraws
    panel.run_button.click()
    runner.wait(timeout=300)
    snapshot = search.snapshot()
    assert search.done
    assert snapshot.stop_reason == "epochs"
    assert panel.n_redraws > redraws_before
    assert len(panel.trajectories.data[0].x) == snapshot.step + 1
    np.testing.assert_allclose(np.asarray(panel.heatmaps["normal"].data[0].z),
                               snapshot.weights["normal"], rtol=1e-9)
    assert panel.errors == []
