"""AutoFIS: gates on the planted set, re-train, order 3, steering, divergence and bad input."""

from __future__ import annotations

import dataclasses
import types

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score

from workbench.core import Runner, RunnerState
from workbench.features.autofis import AutoFIS, AutoFISClassifier, AutoFISSnapshot
from workbench.features.gated_models import GatedDeepFM, GatedFM
from workbench.features.synthetic import planted_interaction_data

torch.set_num_threads(1)

PLANTED = ((0, 1), (2, 5), (3, 4))
SEARCH_ROWS = 50_000      # 40,000 training rows: enough for the default GRDA settings


def split(n_rows, seed=0, **options):
    """Return (train_codes, y_train, valid_codes, y_valid, cardinalities, names), 80:20."""
    codes, y, cardinalities, names = planted_interaction_data(n_rows, seed=seed, **options)
    cut = int(0.8 * n_rows)
    return codes[:cut], y[:cut], codes[cut:], y[cut:], cardinalities, names


def small_search(**options):
    """A quick search on 3,000 rows for tests that do not need good gates."""
    settings = dict(search_epochs=2, retrain_epochs=2, batch_size=128)
    settings.update(options)
    return AutoFIS(*split(3000, seed=settings.pop("data_seed", 0)), **settings)


def run(search):
    while not search.done:
        search.step()
    return search.snapshot()


def run_search_stage(search):
    while search.stage == "search":
        search.step()
    return search.snapshot()


@pytest.fixture(scope="module")
def finished_search():
    """A default search on the planted set, run to the end with a short re-train."""
    search = AutoFIS(*split(SEARCH_ROWS, seed=0), retrain_epochs=2)
    snapshots = []
    while not search.done:
        search.step()
        snapshots.append(search.snapshot())
    return search, snapshots


# ----- the models ---------------------------------------------------------------


def test_plain_gated_fm_is_factorization_machine():
    torch.manual_seed(0)
    model = GatedFM([4, 5, 6], embedding_dim=3, batch_norm=False, learn_gates=False,
                    gate_init=1.0)
    codes = torch.tensor([[0, 1, 2], [3, 4, 5], [1, 0, 3]])
    rows = codes + model.offsets
    embeddings = model.embedding(rows)
    square_of_sum = embeddings.sum(dim=1).pow(2)
    sum_of_squares = embeddings.pow(2).sum(dim=1)
    expected = (model.bias + model.linear(rows).sum(dim=(1, 2))
                + 0.5 * (square_of_sum - sum_of_squares).sum(dim=1))
    assert torch.allclose(model(codes), expected, atol=1e-6)
    assert model.gate_parameters() == []


def test_gated_model_parameters_split_gates_from_weights():
    model = GatedDeepFM([3, 3, 3, 3], embedding_dim=2, order=3, hidden_units=(5,))
    gate_ids = {id(gate) for gate in model.gate_parameters()}
    weight_ids = {id(weight) for weight in model.weight_parameters()}
    assert len(gate_ids) == 2          # pair gates and triple gates
    assert not gate_ids & weight_ids
    assert gate_ids | weight_ids == {id(parameter) for parameter in model.parameters()}
    assert model.pair_gates.gates.shape == (6,)
    assert model.triple_gates.gates.shape == (4,)


def test_pair_mask_drops_interaction():
    torch.manual_seed(0)
    model = GatedFM([4, 4, 4], embedding_dim=3, batch_norm=False, learn_gates=False,
                    gate_init=1.0)
    codes = torch.tensor([[1, 2, 3], [0, 1, 2]])
    embeddings = model.embedding(codes + model.offsets)
    first_pair = (embeddings[:, 0] * embeddings[:, 1]).sum(-1)
    before = model(codes)
    model.pair_gates.mask[0] = 0.0
    assert torch.allclose(model(codes), before - first_pair, atol=1e-6)


def test_gated_fm_rejects_impossible_interactions():
    with pytest.raises(ValueError, match="at least 2 fields"):
        GatedFM([5], order=2)
    with pytest.raises(ValueError, match="at least 3 fields"):
        GatedFM([5, 5], order=3)
    with pytest.raises(ValueError, match="order=1 has no pair"):
        GatedFM([5, 5], order=1, pairs=[(0, 1)])
    with pytest.raises(ValueError, match="2 different fields"):
        GatedFM([5, 5, 5], pairs=[(1, 1)])
    with pytest.raises(ValueError, match="twice"):
        GatedFM([5, 5, 5], pairs=[(0, 1), (1, 0)])
    assert GatedFM([5], order=1).pairs == ()


# ----- the search on the planted set --------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_search_zeroes_noise_pairs(seed):
    search = AutoFIS(*split(SEARCH_ROWS, seed=seed), seed=seed)
    snapshot = run_search_stage(search)
    gates = dict(zip(snapshot.pairs, snapshot.search_gates))
    for pair in PLANTED:
        assert gates[pair] != 0.0, f"planted pair {pair} was zeroed"
    noise = {pair: gate for pair, gate in gates.items() if pair not in PLANTED}
    assert all(gate == 0.0 for gate in noise.values()), f"noise gates not zero: {noise}"
    assert snapshot.stage == "retrain"
    assert snapshot.kept_pairs == (("x0", "x1"), ("x2", "x5"), ("x3", "x4"))


def test_snapshots_follow_search_then_retrain(finished_search):
    search, snapshots = finished_search
    assert [snapshot.epoch for snapshot in snapshots] == list(range(1, 9))
    assert snapshots[-1].stages == ("search",) * 6 + ("retrain",) * 2
    assert [snapshot.stage for snapshot in snapshots[:5]] == ["search"] * 5
    assert snapshots[5].stage == "retrain"
    assert snapshots[-1].stage == "done"
    assert snapshots[-1].done
    assert snapshots[-1].reason == "max_epochs"
    assert len(snapshots[-1].train_loss) == len(snapshots[-1].validation_auc) == 8
    assert all(snapshot.search_gates is None for snapshot in snapshots[:5])
    assert all(np.isfinite(loss) for loss in snapshots[-1].train_loss)
    assert snapshots[-1].validation_auc[-1] > 0.85


def test_retrain_keeps_only_nonzero_pairs(finished_search):
    search, snapshots = finished_search
    final = snapshots[-1]
    nonzero = tuple(pair for pair, gate in zip(final.pairs, final.search_gates) if gate != 0.0)
    assert search.retrain_pairs == nonzero == PLANTED
    assert search.model.pairs == PLANTED
    assert search.model.pair_gates.gates.shape == (3,)
    kept = [final.pairs.index(pair) for pair in PLANTED]
    assert np.all(final.gates[kept] != 0.0)
    assert np.count_nonzero(final.gates) == 3
    assert final.zero_gates == 12
    assert final.kept_pairs == (("x0", "x1"), ("x2", "x5"), ("x3", "x4"))
    # The re-train learns its gates with Adam, starting again near 0.6.
    assert isinstance(search.model.pair_gates.gates, torch.nn.Parameter)
    assert isinstance(search.model.pair_gates.norm, torch.nn.BatchNorm1d)


def test_gate_matrix_is_symmetric_absolute_gates(finished_search):
    _, snapshots = finished_search
    snapshot = snapshots[3]
    matrix = snapshot.gate_matrix
    assert matrix.shape == (6, 6)
    assert np.all(np.isnan(np.diag(matrix)))
    off_diagonal = ~np.eye(6, dtype=bool)
    np.testing.assert_array_equal(matrix[off_diagonal], matrix.T[off_diagonal])
    for (first, second), gate in zip(snapshot.pairs, snapshot.gates):
        assert matrix[first, second] == abs(gate)
    assert snapshot.zero_gates == int(np.sum(snapshot.gates == 0.0))


def test_final_model_predicts_validation_auc(finished_search):
    search, snapshots = finished_search
    train_codes, y_train, valid_codes, y_valid, _, _ = split(SEARCH_ROWS, seed=0)
    probabilities = search.predict_proba(valid_codes)
    assert probabilities.shape == (len(valid_codes), 2)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    auc = roc_auc_score(y_valid, probabilities[:, 1])
    assert auc == pytest.approx(snapshots[-1].best_validation_auc, abs=1e-6)


def test_snapshot_is_immutable(finished_search):
    _, snapshots = finished_search
    snapshot = snapshots[-1]
    assert isinstance(snapshot, AutoFISSnapshot)
    with pytest.raises(dataclasses.FrozenInstanceError):
        snapshot.stage = "search"
    with pytest.raises(ValueError, match="read-only"):
        snapshot.gates[0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        snapshot.gate_matrix[0, 1] = 1.0


def test_order_three_searches_triples():
    search = small_search(order=3)
    snapshot = search.snapshot()
    assert len(snapshot.triples) == 20
    assert snapshot.triple_gates.shape == (20,)
    final = run(search)
    assert final.done
    nonzero = tuple(triple for triple, gate in zip(final.triples, final.search_triple_gates)
                    if gate != 0.0)
    assert search.retrain_triples == search.model.triples == nonzero
    assert len(final.kept_triples) == len(search.retrain_triples)
    assert all(len(names) == 3 for names in final.kept_triples)
    assert np.all(np.isfinite(final.triple_gates))


def test_deepfm_search_runs():
    final = run(small_search(model="deepfm", hidden_units=(16,)))
    assert final.done
    assert final.reason in ("max_epochs", "early_stopping")
    assert len(final.validation_auc) == final.epoch


def test_zero_search_epochs_trains_plain_model():
    search = small_search(search_epochs=0)
    assert search.stage == "retrain"
    assert not isinstance(search.model.pair_gates.gates, torch.nn.Parameter)
    assert isinstance(search.model.pair_gates.norm, torch.nn.Identity)
    final = run(search)
    assert set(final.stages) == {"retrain"}
    np.testing.assert_array_equal(final.gates, np.ones(15))
    assert len(final.kept_pairs) == 15
    assert final.search_gates is None


def test_order_one_has_no_interactions():
    search = small_search(order=1)
    assert search.stage == "retrain"
    assert search.pairs == ()
    final = run(search)
    assert final.gates.shape == (0,)
    assert final.kept_pairs == ()
    assert np.all(np.isnan(np.diag(final.gate_matrix)))


def test_same_seed_same_gates():
    first = run_search_stage(small_search(seed=3))
    second = run_search_stage(small_search(seed=3))
    other = run_search_stage(small_search(seed=4))
    np.testing.assert_array_equal(first.search_gates, second.search_gates)
    assert first.train_loss == second.train_loss
    assert not np.array_equal(first.search_gates, other.search_gates)


# ----- steering -------------------------------------------------------------------


def test_force_pair_out_keeps_gate_zero():
    search = small_search()
    search.force_pair("x0", "x1", keep=False)
    assert search.snapshot().gates[0] == 0.0
    search.step()
    snapshot = search.snapshot()
    assert snapshot.gates[0] == 0.0
    assert ("x0", "x1") not in snapshot.kept_pairs
    record = search.steering_log.records[0]
    assert (record.action, record.step) == ("force_pair", 0)
    assert record.arguments == {"first": "x0", "second": "x1", "keep": False}
    search.step()
    assert (0, 1) not in search.retrain_pairs


def test_force_pair_in_survives_zero_gate():
    search = small_search(search_epochs=3)
    search.set_grda(c=1000.0)
    search.step()
    assert search.snapshot().zero_gates == 15
    search.force_pair(3, 2, keep=True)
    assert search.snapshot().kept_pairs == (("x2", "x3"),)
    search.start_retrain()
    assert search.retrain_pairs == ((2, 3),)
    assert search.snapshot().stage == "retrain"


def test_set_grda_applies_at_next_step():
    search = small_search()
    search.set_grda(c=1000.0, mu=0.5)
    snapshot = search.snapshot()
    assert snapshot.grda == {"lr": 0.1, "c": 1000.0, "mu": 0.5}
    assert snapshot.zero_gates == 0
    search.step()
    assert search.snapshot().zero_gates == 15


def test_set_gate_sets_value_and_grda_continues():
    search = small_search()
    search.step()
    search.set_gate("x2", "x0", 0.25)
    index = search.pairs.index((0, 2))
    assert search.snapshot().gates[index] == pytest.approx(0.25)
    search.set_grda(c=1000.0)
    search.step()
    assert search.snapshot().search_gates[index] == 0.0


def test_start_retrain_ends_search_now():
    search = small_search(search_epochs=5)
    search.step()
    gates = search.snapshot().gates.copy()
    search.start_retrain()
    snapshot = search.snapshot()
    assert snapshot.stage == "retrain"
    np.testing.assert_array_equal(snapshot.search_gates, gates)
    search.step()
    assert search.snapshot().stages == ("search", "retrain")


def test_stop_ends_search():
    search = small_search()
    search.step()
    search.stop()
    snapshot = search.snapshot()
    assert snapshot.done
    assert snapshot.reason == "stopped"
    assert snapshot.stage == "done"
    with pytest.raises(RuntimeError, match="done"):
        search.step()
    assert search.predict_proba(split(3000)[2][:5]).shape == (5, 2)


def test_steering_after_search_is_rejected():
    search = small_search()
    search.start_retrain()
    with pytest.raises(ValueError, match="'retrain' stage"):
        search.force_pair(0, 1, keep=True)
    with pytest.raises(ValueError, match="'retrain' stage"):
        search.set_grda(c=0.1)
    with pytest.raises(ValueError, match="'retrain' stage"):
        search.start_retrain()
    with pytest.raises(ValueError, match="'retrain' stage"):
        search.set_gate(0, 1, 0.5)


@pytest.mark.parametrize("arguments, error, message", [
    (("x0", "x0", True), ValueError, "two different fields"),
    (("x0", "price", True), ValueError, "'price' is not one of"),
    ((0, 9, True), ValueError, "field must be <= 5, got 9"),
    ((0, 1, "yes"), TypeError, "keep must be True or False"),
])
def test_force_pair_rejects_bad_arguments(arguments, error, message):
    search = small_search()
    with pytest.raises(error, match=message):
        search.force_pair(*arguments)
    assert len(search.steering_log) == 0


def test_set_grda_rejects_bad_settings():
    search = small_search()
    with pytest.raises(ValueError, match="mu must be <= 1.0, got 3.0"):
        search.set_grda(mu=3.0)
    assert search.snapshot().grda["mu"] == 0.85


def test_steering_log_replays_to_same_gates():
    search = small_search(search_epochs=3)
    search.step()
    search.force_pair("x1", "x2", keep=False)
    search.set_grda(c=0.5)
    search.step()
    search.set_gate(0, 3, 0.3)
    recorded = run(search)
    replayed = search.steering_log.replay(small_search(search_epochs=3))
    np.testing.assert_array_equal(replayed.snapshot().search_gates, recorded.search_gates)
    assert replayed.retrain_pairs == search.retrain_pairs


def test_runner_drives_search():
    search = small_search()
    runner = Runner(search)
    assert runner.run() == RunnerState.FINISHED
    assert search.snapshot().done


# ----- divergence -----------------------------------------------------------------


def inject_nan(model, after_calls):
    """Make the model's forward return NaN logits from call ``after_calls + 1`` on."""
    forward = model.forward
    calls = {"count": 0}

    def broken_forward(codes):
        calls["count"] += 1
        logits = forward(codes)
        return logits * float("nan") if calls["count"] > after_calls else logits

    model.forward = broken_forward


def test_nan_loss_in_search_keeps_last_good_state():
    search = small_search()
    search.step()
    good_gates = search.snapshot().gates.copy()
    good_state = {name: value.clone() for name, value in search.model.state_dict().items()}
    inject_nan(search.model, after_calls=2)
    event = search.step()
    snapshot = search.snapshot()
    assert event["diverged"] == {"stage": "search", "epoch": 2, "step": 2, "batch": 3}
    assert snapshot.diverged == event["diverged"]
    assert snapshot.done
    assert snapshot.reason == "diverged"
    np.testing.assert_array_equal(snapshot.gates, good_gates)
    for name, value in search.model.state_dict().items():
        assert torch.equal(value, good_state[name]), name
    with pytest.raises(RuntimeError):
        search.step()


def test_nan_loss_in_retrain_keeps_best_state():
    search = small_search(search_epochs=0, retrain_epochs=5)
    search.step()
    best_state = {name: value.clone() for name, value in search.model.state_dict().items()}
    inject_nan(search.model, after_calls=0)
    search.step()
    snapshot = search.snapshot()
    assert snapshot.diverged == {"stage": "retrain", "epoch": 2, "step": 2, "batch": 1}
    assert snapshot.reason == "diverged"
    for name, value in search.model.state_dict().items():
        assert torch.equal(value, best_state[name]), name


# ----- inputs ---------------------------------------------------------------------


def test_table_inputs_give_cardinalities_and_names():
    train_codes, y_train, valid_codes, y_valid, cardinalities, _ = split(3000)
    names = ("a", "b", "c", "d", "e", "f")
    train = types.SimpleNamespace(codes=train_codes, cardinalities=cardinalities,
                                  field_names=names)
    valid = types.SimpleNamespace(codes=valid_codes, cardinalities=cardinalities,
                                  field_names=names)
    search = AutoFIS(train, y_train, valid, y_valid, search_epochs=1, retrain_epochs=1)
    assert search.field_names == names
    final = run(search)
    assert final.field_names == names
    assert search.predict_proba(valid).shape == (len(valid_codes), 2)


def test_constant_fields_are_accepted():
    train_codes, y_train, valid_codes, y_valid, cardinalities, names = split(3000)
    train_codes[:, 4:] = 1
    valid_codes[:, 4:] = 1
    final = run(AutoFIS(train_codes, y_train, valid_codes, y_valid, cardinalities, names,
                        search_epochs=2, retrain_epochs=1))
    assert np.all(np.isfinite(final.train_loss))
    assert np.all(np.isfinite(final.gates))


def test_single_field_needs_order_one():
    codes = np.random.default_rng(0).integers(0, 5, size=(200, 1))
    labels = (codes[:, 0] > 2).astype(int)
    with pytest.raises(ValueError, match="at least 2 fields"):
        AutoFIS(codes, labels, codes, labels, [5])
    final = run(AutoFIS(codes, labels, codes, labels, [5], order=1, retrain_epochs=2))
    assert final.pairs == ()
    assert final.validation_auc[-1] > 0.9


def test_order_three_needs_three_fields():
    codes = np.random.default_rng(0).integers(0, 5, size=(200, 2))
    labels = (codes[:, 0] > 2).astype(int)
    with pytest.raises(ValueError, match="at least 3 fields"):
        AutoFIS(codes, labels, codes, labels, [5, 5], order=3)


def bad_case(name):
    """Return AutoFIS arguments of a small valid problem with one argument made invalid."""
    train_codes, y_train, valid_codes, y_valid, cardinalities, names = split(400)
    arguments = dict(train_codes=train_codes.astype(float), y_train=y_train.astype(float),
                     valid_codes=valid_codes, y_valid=y_valid, cardinalities=cardinalities,
                     field_names=names)
    if name == "nan_code":
        arguments["train_codes"][3, 2] = np.nan
    elif name == "nan_label":
        arguments["y_train"][5] = np.nan
    elif name == "fractional_code":
        arguments["train_codes"][0, 0] = 1.5
    elif name == "code_too_large":
        arguments["valid_codes"] = valid_codes.copy()
        arguments["valid_codes"][1, 4] = 61
    elif name == "negative_code":
        arguments["train_codes"][2, 1] = -1
    elif name == "label_two":
        arguments["y_valid"] = np.where(y_valid == 1, 2, 0)
    elif name == "single_class":
        arguments["y_train"] = np.zeros(len(y_train))
    elif name == "codes_1d":
        arguments["train_codes"] = train_codes[:, 0]
    elif name == "valid_width":
        arguments["valid_codes"] = valid_codes[:, :5]
    elif name == "label_length":
        arguments["y_train"] = y_train[:-1]
    elif name == "cardinalities_length":
        arguments["cardinalities"] = cardinalities[:5]
        arguments["field_names"] = None
    elif name == "cardinalities_missing":
        arguments["cardinalities"] = None
    elif name == "zero_cardinality":
        arguments["cardinalities"] = np.array([61, 61, 0, 61, 61, 61])
    elif name == "names_count":
        arguments["field_names"] = ("a", "b")
    elif name == "string_codes":
        arguments["train_codes"] = train_codes.astype(str)
    return arguments


@pytest.mark.parametrize("case, options, error, message", [
    ("nan_code", {}, ValueError, r"train_codes contains nan at row 3, field 2"),
    ("nan_label", {}, ValueError, r"y_train contains NaN at row 5"),
    ("fractional_code", {}, ValueError, r"non-integer code 1.5"),
    ("code_too_large", {}, ValueError, r"valid_codes contains code 61 .* outside \[0, 60\]"),
    ("negative_code", {}, ValueError, r"code -1 at row 2, field 1"),
    ("label_two", {}, ValueError, r"y_valid must contain only 0 and 1"),
    ("single_class", {}, ValueError, r"y_train contains only the label 0"),
    ("codes_1d", {}, ValueError, r"train_codes must have shape \(n_rows, 6\)"),
    ("valid_width", {}, ValueError, r"valid_codes must have shape \(n_rows, 6\)"),
    ("label_length", {}, ValueError, r"y_train has 319 labels but the table has 320 rows"),
    ("cardinalities_length", {}, ValueError, r"train_codes must have shape \(n_rows, 5\)"),
    ("cardinalities_missing", {}, ValueError, r"cardinalities is missing"),
    ("zero_cardinality", {}, ValueError, r"cardinalities\[2\] is 0"),
    ("names_count", {}, ValueError, r"field_names has 2 names for 6 fields"),
    ("string_codes", {}, TypeError, r"train_codes must contain integer category codes"),
    (None, {"order": 0}, ValueError, r"order must be >= 1, got 0"),
    (None, {"order": 4}, ValueError, r"order must be <= 3, got 4"),
    (None, {"model": "xgboost"}, ValueError, r"model must be one of 'fm', 'deepfm'"),
    (None, {"grda_mu": 2.0}, ValueError, r"grda_mu must be <= 1.0, got 2.0"),
    (None, {"grda_c": -1.0}, ValueError, r"grda_c must be >= 0.0"),
    (None, {"grda_lr": 0.0}, ValueError, r"grda_lr must be > 0.0"),
    (None, {"batch_size": 1}, ValueError, r"batch_size must be >= 2, got 1"),
    (None, {"search_epochs": -1}, ValueError, r"search_epochs must be >= 0"),
    (None, {"embedding_dim": 0}, ValueError, r"embedding_dim must be >= 1"),
    (None, {"seed": -3}, ValueError, r"seed must be >= 0"),
])
def test_bad_input_raises(case, options, error, message):
    with pytest.raises(error, match=message):
        AutoFIS(**bad_case(case), **options)


def test_predict_requires_done_and_valid_codes():
    search = small_search()
    codes = split(3000)[2]
    with pytest.raises(RuntimeError, match="step it until done"):
        search.predict_proba(codes)
    search.stop()
    bad = codes.copy()
    bad[0, 0] = 99
    with pytest.raises(ValueError, match="codes contains code 99"):
        search.predict_proba(bad)


# ----- the scikit-learn estimator -------------------------------------------------------


def test_classifier_fits_and_predicts():
    train_codes, y_train, valid_codes, y_valid, cardinalities, names = split(3000)
    classifier = AutoFISClassifier(search_epochs=1, retrain_epochs=1, batch_size=128)
    with pytest.raises(NotFittedError):
        classifier.predict_proba(valid_codes)
    classifier.fit(train_codes, y_train, cardinalities=cardinalities, field_names=names,
                   valid=(valid_codes, y_valid))
    probabilities = classifier.predict_proba(valid_codes)
    assert probabilities.shape == (len(valid_codes), 2)
    assert set(np.unique(classifier.predict(valid_codes))) <= {0, 1}
    assert classifier.search_.snapshot().done
    assert clone(classifier).get_params() == classifier.get_params()


def test_classifier_holds_out_validation_and_infers_cardinalities():
    train_codes, y_train, _, _, _, _ = split(3000)
    classifier = AutoFISClassifier(search_epochs=1, retrain_epochs=1, batch_size=128)
    classifier.fit(train_codes, y_train)
    np.testing.assert_array_equal(classifier.cardinalities_, train_codes.max(axis=0) + 1)
    assert len(classifier.search_._y_valid) == pytest.approx(0.1 * len(y_train), abs=2)
    assert classifier.n_features_in_ == 6


# ----- the synthetic data ---------------------------------------------------------------


def test_planted_data_shapes_and_ranges():
    codes, y, cardinalities, names = planted_interaction_data(5000, seed=2)
    assert codes.shape == (5000, 6)
    assert codes.dtype == np.int64
    assert codes.min() == 1
    assert codes.max() == 60
    np.testing.assert_array_equal(cardinalities, np.full(6, 61))
    assert names == ("x0", "x1", "x2", "x3", "x4", "x5")
    assert set(np.unique(y)) == {0, 1}
    assert 0.4 < y.mean() < 0.6


@pytest.mark.parametrize("options", [{}, {"interaction_rank": None}, {"label": "threshold"},
                                     {"noise": 1.0, "n_fields": 4, "pairs": ((0, 3),)}])
def test_planted_data_is_reproducible(options):
    first = planted_interaction_data(500, seed=7, **options)
    second = planted_interaction_data(500, seed=7, **options)
    other = planted_interaction_data(500, seed=8, **options)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert not np.array_equal(first[0], other[0])


def test_threshold_label_splits_at_median():
    _, y, _, _ = planted_interaction_data(1001, label="threshold", seed=0)
    assert y.sum() == 500


@pytest.mark.parametrize("options, message", [
    ({"pairs": ((0, 0),)}, "names field 0 twice"),
    ({"pairs": ((0, 6),)}, "pairs field index must be <= 5"),
    ({"pairs": ((0, 1), (1, 0))}, "contains a field pair twice"),
    ({"pairs": (3,)}, "must be two field indices"),
    ({"label": "logit"}, "label must be one of"),
    ({"interaction_rank": 0}, "interaction_rank must be >= 1"),
    ({"noise": -1.0}, "noise must be >= 0.0"),
])
def test_planted_data_rejects_bad_arguments(options, message):
    with pytest.raises(ValueError, match=message):
        planted_interaction_data(100, **options)


@pytest.mark.parametrize("n_train", [257, 513, 512])
def test_epoch_batches_cover_rows_once(n_train):
    from workbench.features.synthetic import planted_interaction_data

    codes, y, cardinalities, names = planted_interaction_data(n_train + 200, seed=0)
    search = AutoFIS(codes[:n_train], y[:n_train], codes[n_train:], y[n_train:], cardinalities,
                     names, batch_size=256, search_epochs=1, retrain_epochs=1)
    batches = search._batches()
    rows = torch.cat(batches)

    assert sorted(rows.tolist()) == list(range(n_train))
    assert min(len(batch) for batch in batches) >= 2
