"""AdjacencyPanel driven headless with FIVES, AutoCross and AutoFIS on a planted data set.

The data is ``planted_interaction_data``: 6 fields of 60 categories whose
label depends on the linear terms plus the pairs (0, 1), (2, 5) and (3, 4).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from widgets import AdjacencyPanel
from widgets.adjacency_panel import crosses_html, derived_crosses
from workbench.core import Runner
from workbench.features import AutoFIS, CategoricalTable, Fives
from workbench.features.autocross import AutoCross
from workbench.features.sparse_lr import logistic_regression_auc
from workbench.features.synthetic import planted_interaction_data

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def tables():
    codes, y, cardinalities, names = planted_interaction_data(4000, seed=0)
    cardinalities = np.asarray(cardinalities)
    train = CategoricalTable(codes[:3000], tuple(names), cardinalities)
    valid = CategoricalTable(codes[3000:], tuple(names), cardinalities)
    return train, y[:3000], valid, y[3000:]


@pytest.fixture
def make(tables):
    made = []

    def build(search_type, evaluation=True, **settings):
        train, y_train, valid, y_valid = tables
        search = search_type(train, y_train, valid, y_valid, **settings)
        runner = Runner(search)
        data = dict(train=train, y_train=y_train, valid=valid, y_valid=y_valid) \
            if evaluation else {}
        panel = AdjacencyPanel(runner, **data)
        made.append((runner, panel))
        return search, runner, panel

    yield build
    for runner, panel in made:
        runner.close()
        panel.close()


def take_steps(runner, count):
    for _ in range(count):
        runner.step_once()
        runner.wait(timeout=60)


FIVES = dict(order=2, batches_per_step=4, max_epochs=2, batch_size=256)


def test_fives_heatmaps_follow_snapshot(make):
    search, runner, panel = make(Fives, **FIVES)
    take_steps(runner, 2)
    snapshot = search.snapshot()

    assert panel.errors == []
    assert len(panel.main_figure.data) == 2
    for trace, matrix in zip(panel.main_figure.data, snapshot.adjacency):
        assert np.allclose(np.array(trace.z, dtype=float), matrix)
        assert list(trace.x) == list(snapshot.field_names)
    assert len(panel.curves.data[0].y) == 2
    assert f"step {snapshot.step}" in panel.info.value


def test_fives_threshold_slider_steers(make):
    search, runner, panel = make(Fives, **FIVES)
    take_steps(runner, 1)
    panel.threshold_sliders[0].value = 0.0
    panel.threshold_sliders[1].value = 1.0

    assert search.thresholds == (0.0, 1.0)
    assert search.steering_log.records[-1].action == "set_threshold"
    pairs = [cross for cross in search.snapshot().crosses if len(cross) == 2]
    assert len(pairs) == 15          # every pair of 6 fields passes threshold 0
    assert "15 derived crosses" in panel.crosses_list.value


def test_fives_edge_forced_by_controls(make):
    search, runner, panel = make(Fives, **FIVES)
    panel.edge_order.value = 1
    panel.edge_source.value = 2
    panel.edge_target.value = 4
    panel.edge_state.value = "forced off"
    panel.set_edge()
    snapshot = search.snapshot()

    assert snapshot.forced[0][4, 2] == -1
    assert snapshot.adjacency[0][4, 2] == 0.0
    assert panel.main_figure.data[0].text[4][2] == "forced off"

    panel.edge_state.value = "learned"
    panel.set_edge()
    assert search.snapshot().forced[0][4, 2] == 0


def test_fives_click_selects_edge(make):
    _, _, panel = make(Fives, **FIVES)

    class Points:
        point_inds = [(3, 1)]          # (row = target, column = source)

    panel._select_edge_callback(2)(panel.main_figure.data[1], Points(), None)
    assert (panel.edge_order.value, panel.edge_source.value, panel.edge_target.value) == (2, 1, 3)


def test_evaluate_matches_logistic_regression(make, tables):
    search, runner, panel = make(Fives, **FIVES)
    take_steps(runner, 1)
    search.set_threshold(1, 0.0).result()
    panel.evaluate_button.click()
    train, y_train, valid, y_valid = tables
    crosses = search.snapshot().crosses

    assert panel.errors == []
    assert panel.last_evaluation["crosses"] == crosses
    assert panel.last_evaluation["auc"] == pytest.approx(
        logistic_regression_auc(train, y_train, valid, y_valid, crosses))
    assert panel.last_evaluation["baseline_auc"] == pytest.approx(
        logistic_regression_auc(train, y_train, valid, y_valid))
    assert f"{panel.last_evaluation['auc']:.4f}" in panel.evaluation.value


def test_autofis_gates_and_force_pair(make):
    search, runner, panel = make(AutoFIS, search_epochs=2, retrain_epochs=1, batch_size=512)
    take_steps(runner, 1)
    snapshot = search.snapshot()
    z = np.array(panel.main_figure.data[0].z, dtype=float)

    assert panel.errors == []
    assert np.allclose(z, snapshot.gate_matrix, equal_nan=True)
    panel.pair_first.value = 0
    panel.pair_second.value = 1
    panel.pair_keep.value = "drop"
    panel.force_pair()
    assert ("x0", "x1") not in search.snapshot().kept_pairs
    assert "stage search" in panel.info.value

    panel.start_retrain()
    take_steps(runner, 1)
    assert search.snapshot().stage in ("retrain", "done")
    assert ("x0", "x1") not in derived_crosses(search.snapshot())


def test_autocross_levels_drawn(make):
    search, runner, panel = make(AutoCross, max_crosses=2)
    runner.run()
    snapshot = search.snapshot()
    n_candidates = sum(len(frame) for frame in snapshot.levels)
    n_chosen = sum(int(frame["chosen"].sum()) for frame in snapshot.levels)

    assert panel.errors == []
    assert n_candidates > 0
    assert len(panel.main_figure.data[0].x) == n_candidates
    assert len(panel.main_figure.data[1].x) == n_chosen
    assert len(panel.curves.data[0].y) == len(snapshot.validation_auc)
    assert "done" in panel.info.value


def test_autocross_max_crosses_control(make):
    search, _, panel = make(AutoCross, max_crosses=5)
    panel.max_crosses_input.value = 1
    panel.set_max_crosses()
    assert search.snapshot().max_crosses == 1

    panel.stop_search()
    assert search.done


def test_evaluate_disabled_without_data(make):
    _, _, panel = make(Fives, evaluation=False, **FIVES)
    assert panel.evaluate_button.disabled
    with pytest.raises(ValueError, match="no evaluation data"):
        panel.evaluate()


def test_bad_construction_rejected(tables):
    train, y_train, valid, y_valid = tables
    with pytest.raises(TypeError, match="Fives, AutoCross or AutoFIS"):
        AdjacencyPanel("runner")
    runner = Runner(Fives(train, y_train, valid, y_valid, **FIVES))
    try:
        with pytest.raises(ValueError, match="pass all of train"):
            AdjacencyPanel(runner, train=train)
        with pytest.raises(TypeError, match="CategoricalTable"):
            AdjacencyPanel(runner, train=train.codes, y_train=y_train, valid=valid,
                           y_valid=y_valid)
    finally:
        runner.close()


def test_crosses_html_lists_and_counts():
    crosses = [("a", "b")] * 45
    text = crosses_html(crosses)
    assert "45 derived crosses" in text
    assert "and 5 more" in text
    assert "no crosses" in crosses_html([])
