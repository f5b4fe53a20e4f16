"""AttentionPanel driven headless: live curves, heatmaps per layer and head, rows, ablations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from widgets import AttentionPanel
from widgets.attention_panel import MEAN_OVER_HEADS
from workbench.core import Runner
from workbench.features import CTRData
from workbench.features.ctr_search import CTRTraining

torch.set_num_threads(1)


def small_data(n=1500, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({name: rng.integers(0, 3, size=n).astype(str) for name in "abcd"})
    frame["genres"] = ["|".join(rng.choice(["x", "y", "z"], size=2)) for _ in range(n)]
    label = ((frame["a"] == "1") ^ (frame["b"] == "2")).to_numpy().astype(np.int64)
    cut1, cut2 = int(0.8 * n), int(0.9 * n)
    return CTRData(frame.iloc[:cut1].reset_index(drop=True),
                   frame.iloc[cut1:cut2].reset_index(drop=True),
                   frame.iloc[cut2:].reset_index(drop=True), label[:cut1], label[cut1:cut2],
                   label[cut2:], list("abcd"), [], ["genres"], "small")


def make(model="autoint", **settings):
    search = CTRTraining(small_data(), model, embedding_dim=4, batches_per_step=5,
                         max_epochs=2, batch_size=64, seed=0, **settings)
    runner = Runner(search)
    return search, runner, AttentionPanel(runner)


def test_autoint_panel_draws_layers_heads_and_curves():
    search, runner, panel = make(num_layers=2, num_heads=2)
    runner.run()
    assert panel.errors == []
    snapshot = search.snapshot()
    assert [value for _, value in panel.layer.options] == [0, 1]
    assert len(panel.head.options) == 3
    heat = panel.heatmap.data[0]
    assert list(heat.x) == snapshot.field_names
    expected = snapshot.attention["weights"][0].mean(axis=0)
    np.testing.assert_allclose(np.asarray(heat.z), expected, rtol=1e-6)
    panel.layer.value = 1
    panel.head.value = 1
    np.testing.assert_allclose(np.asarray(panel.heatmap.data[0].z),
                               snapshot.attention["weights"][1, 1], rtol=1e-6)
    assert "layer 2, head 2" in panel.heatmap.layout.title.text
    assert len(panel.curves.data[1].x) == snapshot.step
    np.testing.assert_allclose(panel.bars.data[0].y, np.asarray(panel.heatmap.data[0].z).sum(0))


def test_fignn_panel_shows_edges_and_node_weights():
    search, runner, panel = make("fignn")
    runner.run()
    snapshot = search.snapshot()
    np.testing.assert_allclose(np.asarray(panel.heatmap.data[0].z),
                               snapshot.attention["edge_weights"], rtol=1e-6)
    np.testing.assert_allclose(panel.bars.data[0].y, snapshot.attention["node_weights"],
                               rtol=1e-6)
    assert panel.layer.disabled


def test_row_view_and_ablations_from_controls():
    search, runner, panel = make(num_layers=1, num_heads=1)
    runner.run()
    panel.row_input.value = 5
    panel.show_row()
    runner.wait(timeout=30)
    assert panel.view.value == "one row"
    assert "row 5" in panel.heatmap.layout.title.text
    assert "row 5: predicted" in panel.info.value
    panel.field.value = "genres"
    panel.remove_field()
    panel.pair_first.value, panel.pair_second.value = "a", "b"
    panel.block_pair()
    runner.wait(timeout=30)
    assert list(panel.ablation_figure.data[0].y) == ["genres", "a x b"]
    assert panel.errors == []
    panel.head.value = MEAN_OVER_HEADS
    assert panel.errors == []


def test_lr_panel_and_bad_steering_errors_are_shown():
    search, runner, panel = make("lr")
    runner.run()
    assert "no attention" in panel.heatmap.layout.title.text
    block = panel.children[-2].children[3].children[2]
    block.click()
    runner.wait(timeout=30)
    assert any("no pairwise interactions" in error for error in panel.errors)
    with pytest.raises(TypeError, match="CTRTraining"):
        AttentionPanel(Runner(_NotCTR()))


class _NotCTR(CTRTraining.__mro__[1]):     # any Search that is not a CTRTraining
    done = True

    def _step(self):
        return {}

    def snapshot(self):
        return None
