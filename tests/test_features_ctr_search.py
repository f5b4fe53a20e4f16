"""CTRTraining: steps, curves, attention snapshots, ablations, divergence and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from workbench.core import Runner
from workbench.features import CTRData
from workbench.features.ctr_search import CTRTraining

torch.set_num_threads(1)


def xor_data(n=6000, seed=0, noise=0.1):
    """Five categorical fields and a numeric one; the label is the XOR of fields a and b."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({name: rng.integers(0, 4, size=n).astype(str)
                          for name in ("a", "b", "c", "d", "e")})
    frame["price"] = rng.normal(size=n)
    label = ((frame["a"].astype(int) % 2) ^ (frame["b"].astype(int) % 2)).to_numpy()
    flip = rng.random(n) < noise
    label = np.where(flip, 1 - label, label).astype(np.int64)
    cut1, cut2 = int(0.8 * n), int(0.9 * n)
    return CTRData(frame.iloc[:cut1].reset_index(drop=True),
                   frame.iloc[cut1:cut2].reset_index(drop=True),
                   frame.iloc[cut2:].reset_index(drop=True), label[:cut1], label[cut1:cut2],
                   label[cut2:], ["a", "b", "c", "d", "e"], ["price"], [], "xor")


def run(search):
    while not search.done:
        search.step()
    return search.snapshot()


@pytest.mark.parametrize("model", ["lr", "fm", "autoint", "autoint+", "fignn"])
def test_training_records_curves_and_test_metrics(model):
    search = CTRTraining(xor_data(), model, embedding_dim=8, batches_per_step=10, max_epochs=2,
                         batch_size=128, learning_rate=5e-3, seed=1)
    snapshot = run(search)
    assert snapshot.stop_reason in ("max_epochs", "early_stopping")
    assert [record["step"] for record in snapshot.history] == list(range(1, snapshot.step + 1))
    assert all(0.0 <= record["val_auc"] <= 1.0 for record in snapshot.history)
    assert snapshot.best_val_auc == max(record["val_auc"] for record in snapshot.history)
    assert 0.0 <= snapshot.test["auc"] <= 1.0
    assert snapshot.field_names == ["a", "b", "c", "d", "e", "price"]
    if model in ("autoint", "autoint+"):
        weights = snapshot.attention["weights"]
        assert weights.shape[-2:] == (6, 6)
        np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-5)
    elif model == "fignn":
        np.testing.assert_allclose(snapshot.attention["edge_weights"].sum(axis=-1), 1.0,
                                   rtol=1e-5)
        assert snapshot.attention["node_weights"].shape == (6,)
    else:
        assert snapshot.attention is None


def test_xor_pair_attention_and_ablation():
    search = CTRTraining(xor_data(), "autoint", embedding_dim=8, num_layers=1, num_heads=1,
                         batches_per_step=20, max_epochs=6, batch_size=128, learning_rate=1e-2,
                         patience=20, seed=0)
    snapshot = run(search)
    assert snapshot.best_val_auc > 0.8
    mean = snapshot.attention["weights"][0, 0]          # (fields, fields)
    off_diagonal = mean.copy()
    np.fill_diagonal(off_diagonal, 0)
    first, second = np.unravel_index(np.argmax(off_diagonal), off_diagonal.shape)
    assert {snapshot.field_names[first], snapshot.field_names[second]} == {"a", "b"}
    # Removing one XOR field destroys the signal; removing a noise field does not.
    field_a = search.ablate_field("a")
    field_c = search.ablate_field("c")
    assert field_a.change < -0.2
    assert abs(field_c.change) < 0.05
    pair = search.ablate_pair("a", "b")
    assert pair.change < field_c.change
    assert [ablation.kind for ablation in search.snapshot().ablations] == ["field", "field",
                                                                           "pair"]


def test_seed_reproduces_the_run():
    histories = []
    for _ in range(2):
        search = CTRTraining(xor_data(2000), "fignn", embedding_dim=4, batches_per_step=5,
                             max_epochs=1, batch_size=64, seed=3)
        histories.append(run(search).history)
    assert histories[0] == histories[1]


def test_divergence_keeps_best_weights():
    search = CTRTraining(xor_data(2000), "fm", embedding_dim=4, batches_per_step=5,
                         max_epochs=5, batch_size=64, learning_rate=1e9, seed=0)
    snapshot = run(search)
    assert snapshot.stop_reason in ("diverged", "early_stopping", "max_epochs")
    if snapshot.stop_reason == "diverged":
        assert snapshot.diverged["batch"] >= 1
        assert snapshot.diverged["step"] >= 1
    assert all(np.isfinite(p.detach().numpy()).all() for p in search.model.parameters())


def test_row_view_and_stop_through_runner():
    search = CTRTraining(xor_data(2000), "autoint", embedding_dim=4, batches_per_step=5,
                         max_epochs=50, batch_size=64, patience=100, seed=0)
    runner = Runner(search)
    try:
        runner.step_once()
        runner.wait(timeout=60)
        search.select_row(7).result()
        row = search.snapshot().row
        assert row["index"] == 7
        assert 0.0 < row["probability"] < 1.0
        assert row["attention"]["weights"].shape[-2:] == (6, 6)
        search.stop_early().result()
        assert search.done
        assert search.snapshot().stop_reason == "stopped"
    finally:
        runner.close()
    actions = [record.action for record in search.steering_log]
    assert actions == ["select_row", "stop_early"]


def test_bad_input_is_rejected():
    data = xor_data(1000)
    with pytest.raises(TypeError, match="CTRData"):
        CTRTraining(pd.DataFrame({"a": [1]}))
    with pytest.raises(ValueError, match="model must be one of"):
        CTRTraining(data, "xgboost")
    with pytest.raises(ValueError, match="batches_per_step must be >= 1"):
        CTRTraining(data, batches_per_step=0)
    search = CTRTraining(data, "lr", batches_per_step=2)
    with pytest.raises(ValueError, match="no pairwise interactions"):
        search.ablate_pair("a", "b")
    with pytest.raises(ValueError, match="is not one of the model's fields"):
        search.ablate_field("zip")
    with pytest.raises(ValueError, match="row must be <="):
        search.select_row(10**6)
    assert len(search.steering_log) == 0


def test_bad_labels_rejected_at_build():
    data = xor_data(500)
    splits = (data.train, data.validation, data.test)
    columns = (data.categorical, data.numeric, data.multi, "bad")
    with pytest.raises(ValueError, match="y_train"):
        CTRData(*splits, np.where(data.y_train == 1, 2, 0), data.y_validation, data.y_test,
                *columns)
    with pytest.raises(ValueError, match="y_validation"):
        CTRData(*splits, data.y_train, data.y_validation.astype(float) * np.nan, data.y_test,
                *columns)
    with pytest.raises(ValueError, match="both classes"):
        CTRData(*splits, data.y_train, np.zeros_like(data.y_validation), data.y_test, *columns)
    with pytest.raises(ValueError, match="y_test"):
        CTRData(*splits, data.y_train, data.y_validation, data.y_test.astype(str), *columns)


def test_building_a_search_leaves_the_global_generator_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    CTRTraining(xor_data(500), "autoint", embedding_dim=4, seed=7)
    torch.testing.assert_close(torch.rand(3), expected)
