"""FIVES: planted edge, cross derivation, steering, reproducibility, bad input, transformer."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError

from workbench.core import Runner
from workbench.features.categorical_table import CategoricalTable
from workbench.features.crosses import cross_name
from workbench.features.fives import Fives, FivesSnapshot, derive_crosses
from workbench.features.fives_transformer import FivesTransformer

torch.set_num_threads(1)

FIELDS = ("a", "b", "c", "d", "e", "f")


def planted_xor(n=4000, seed=0, n_categories=4):
    """Six fields with codes 1..4; the label is the XOR of the parities of a and b.

    A weak linear term on field c and label noise make the other fields
    carry a little signal, but only the pair (a, b) interacts.
    """
    rng = np.random.default_rng(seed)
    codes = rng.integers(1, n_categories + 1, size=(n, len(FIELDS)))
    xor = (codes[:, 0] % 2) ^ (codes[:, 1] % 2)
    score = 2.5 * np.where(xor == 1, 1.0, -1.0) + 0.3 * (codes[:, 2] - 2.5)
    labels = (rng.random(n) < 1.0 / (1.0 + np.exp(-score))).astype(np.int64)
    cut = int(0.7 * n)
    cardinalities = np.full(len(FIELDS), n_categories + 1)
    return codes[:cut], labels[:cut], codes[cut:], labels[cut:], cardinalities


def small_search(seed=0, **overrides):
    train, y_train, valid, y_valid, cardinalities = planted_xor(2000, seed=seed)
    settings = dict(order=2, embedding_dim=4, batches_per_step=5, max_epochs=2,
                    batch_size=128, seed=seed)
    settings.update(overrides)
    return Fives(train, y_train, valid, y_valid, cardinalities, FIELDS, **settings)


def run(search):
    while not search.done:
        search.step()
    return search.snapshot()


# --- search ---------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_planted_pair_ranks_first(seed):
    train, y_train, valid, y_valid, cardinalities = planted_xor(seed=seed)
    search = Fives(train, y_train, valid, y_valid, cardinalities, FIELDS, order=2,
                   embedding_dim=4, batches_per_step=20, max_epochs=5, batch_size=256,
                   seed=seed)
    snapshot = run(search)
    assert snapshot.reason == "max_epochs"
    assert snapshot.validation_auc[-1] > 0.75

    pairs = snapshot.adjacency[0].copy()
    np.fill_diagonal(pairs, -1.0)
    target, source = np.unravel_index(np.argmax(pairs), pairs.shape)
    assert {FIELDS[target], FIELDS[source]} == {"a", "b"}
    assert snapshot.crosses[0] == ("a", "b")


def test_snapshot_fields_and_shapes():
    search = small_search()
    search.step()
    snapshot = search.snapshot()
    assert isinstance(snapshot, FivesSnapshot)
    assert snapshot.step == 1
    assert snapshot.field_names == FIELDS
    assert len(snapshot.adjacency) == 2
    assert len(snapshot.forced) == 2
    for matrix, forced in zip(snapshot.adjacency, snapshot.forced):
        assert matrix.shape == (6, 6)
        assert forced.dtype == np.int8
        assert (matrix >= 0).all()
        assert (matrix <= 1).all()
        assert (np.diag(matrix) == 0).all()
        assert not matrix.flags.writeable
    assert snapshot.thresholds == (0.5, 0.5)
    assert len(snapshot.train_loss) == 1
    assert len(snapshot.validation_auc) == 1
    assert snapshot.epoch == pytest.approx(5 * 128 / 1400)
    assert not snapshot.done
    assert snapshot.reason is None
    assert all(len(cross) >= 2 for cross in snapshot.crosses)
    assert len(set(snapshot.crosses)) == len(snapshot.crosses)


def test_table_input_names_the_fields():
    train, y_train, valid, y_valid, cardinalities = planted_xor(1000)
    names = ("education", "occupation", "sex", "race", "age", "hours")
    search = Fives(CategoricalTable(train, names, cardinalities), y_train,
                   CategoricalTable(valid, names, cardinalities), y_valid, order=1,
                   batches_per_step=2, max_epochs=1)
    search.step()
    assert search.snapshot().field_names == names


def test_same_seed_same_adjacency():
    runs = []
    for _ in range(2):
        search = small_search(seed=3)
        search.step()
        search.step()
        runs.append(search.snapshot())
    for first, second in zip(runs[0].adjacency, runs[1].adjacency):
        np.testing.assert_array_equal(first, second)
    assert runs[0].validation_auc == runs[1].validation_auc

    other = small_search(seed=4)
    other.step()
    other.step()
    assert not np.array_equal(other.snapshot().adjacency[0], runs[0].adjacency[0])


def test_straight_through_is_reproducible():
    adjacencies = []
    for _ in range(2):
        search = small_search(seed=5, relaxation="straight_through")
        search.step()
        adjacencies.append(search.snapshot().adjacency[0])
    np.testing.assert_array_equal(adjacencies[0], adjacencies[1])


def test_nan_loss_stops_and_keeps_edges():
    search = small_search()
    search.step()
    before = search.snapshot().adjacency
    with torch.no_grad():
        search.model.embedding.weight[:] = float("nan")
    event = search.step()
    snapshot = search.snapshot()
    assert event["nan"] == {"step": 2, "batch": 1, "split": "train"}
    assert snapshot.done
    assert snapshot.reason == "nan"
    assert snapshot.nan == {"step": 2, "batch": 1, "split": "train"}
    for old, new in zip(before, snapshot.adjacency):
        np.testing.assert_array_equal(old, new)
    assert len(snapshot.validation_auc) == 1


def test_constant_field_edges_forced_off():
    train, y_train, valid, y_valid, cardinalities = planted_xor(2000)
    train[:, 3] = 2
    search = Fives(train, y_train, valid, y_valid, cardinalities, FIELDS, order=2,
                   thresholds=0.0, batches_per_step=3, max_epochs=1, batch_size=128)
    search.step()
    snapshot = search.snapshot()
    for forced, matrix in zip(snapshot.forced, snapshot.adjacency):
        assert (forced[3, :] == -1).all()
        assert (forced[:, 3] == -1).all()
        assert (matrix[3, :] == 0).all()
        assert (matrix[:, 3] == 0).all()
    assert not any("d" in cross for cross in snapshot.crosses)

    search.set_edge(1, "d", "a", None)
    assert search.snapshot().adjacency[0][0, 3] > 0


# --- steering -------------------------------------------------------------------------------


def test_set_edge_forces_and_frees():
    search = small_search(thresholds=0.9)
    search.step()
    logits_before = search.model.edge_logits.detach().clone()

    search.set_edge(1, "c", "d", True)
    snapshot = search.snapshot()
    assert snapshot.adjacency[0][3, 2] == 1.0
    assert snapshot.forced[0][3, 2] == 1
    assert ("c", "d") in snapshot.crosses
    assert search.model.edge_weights()[0, 3, 2] == 1.0

    search.step()
    assert search.model.edge_logits[0, 3, 2] == logits_before[0, 3, 2]

    search.set_edge(1, 2, 3, False)
    snapshot = search.snapshot()
    assert snapshot.adjacency[0][3, 2] == 0.0
    assert snapshot.forced[0][3, 2] == -1
    assert ("c", "d") not in snapshot.crosses

    search.set_edge(1, "c", "d", None)
    snapshot = search.snapshot()
    assert snapshot.forced[0][3, 2] == 0
    expected = torch.sigmoid(search.model.edge_logits[0, 3, 2]).item()
    assert snapshot.adjacency[0][3, 2] == pytest.approx(expected)
    assert [record.action for record in search.steering_log] == ["set_edge"] * 3


def test_set_threshold_changes_crosses():
    search = small_search(thresholds=0.0)
    search.step()
    assert len(search.snapshot().crosses) > 10
    search.set_edge(1, "a", "b", True)
    search.set_threshold(1, 1.0)
    search.set_threshold(2, 1.0)
    snapshot = search.snapshot()
    assert snapshot.thresholds == (1.0, 1.0)
    assert snapshot.crosses == (("a", "b"),)


def test_arch_lr_zero_freezes_edges_and_stop():
    search = small_search()
    search.set_arch_lr(0.0)
    search.step()
    assert (search.model.edge_logits == 0).all()
    assert search.snapshot().arch_lr == 0.0

    search.stop()
    assert search.done
    assert search.snapshot().reason == "stopped"
    with pytest.raises(RuntimeError, match="done"):
        search.step()


def test_steering_rejects_bad_arguments():
    search = small_search()
    with pytest.raises(ValueError, match="order must be <= 2"):
        search.set_threshold(3, 0.5)
    with pytest.raises(ValueError, match="value must be <= 1.0"):
        search.set_threshold(1, 1.5)
    with pytest.raises(ValueError, match="value must be >= 0.0"):
        search.set_threshold(1, -0.1)
    with pytest.raises(ValueError, match="no self-loops"):
        search.set_edge(1, "a", "a", True)
    with pytest.raises(ValueError, match="source 'zip' is not a field"):
        search.set_edge(1, "zip", "a", True)
    with pytest.raises(ValueError, match="target must be <= 5"):
        search.set_edge(1, "a", 6, True)
    with pytest.raises(TypeError, match="state must be True"):
        search.set_edge(1, "a", "b", "on")
    with pytest.raises(ValueError, match="value must be >= 0.0"):
        search.set_arch_lr(-1.0)
    assert len(search.steering_log) == 0


def test_steering_through_runner():
    search = small_search(max_epochs=50)
    runner = Runner(search)
    try:
        runner.step_once()
        runner.wait(timeout=60)
        search.set_threshold(2, 0.25).result(timeout=60)
        search.set_edge(2, "e", "f", True).result(timeout=60)
        snapshot = search.snapshot()
        assert snapshot.thresholds == (0.5, 0.25)
        assert snapshot.forced[1][5, 4] == 1
        search.stop().result(timeout=60)
    finally:
        runner.close()
    assert search.snapshot().reason == "stopped"


# --- bad input ------------------------------------------------------------------------------


def test_bad_input_is_rejected():
    train, y_train, valid, y_valid, cardinalities = planted_xor(500)

    def build(**changes):
        arguments = dict(train_codes=train, y_train=y_train, valid_codes=valid,
                         y_valid=y_valid, cardinalities=cardinalities, field_names=FIELDS)
        settings = {key: changes.pop(key) for key in list(changes) if key not in arguments}
        arguments.update(changes)
        return Fives(**arguments, **settings)

    with pytest.raises(ValueError, match="order must be >= 1"):
        build(order=0)
    with pytest.raises(ValueError, match=r"thresholds\[1\] must be <= 1.0, got 1.5"):
        build(order=2, thresholds=[0.5, 1.5])
    with pytest.raises(ValueError, match=r"thresholds\[0\] must be >= 0.0"):
        build(thresholds=-0.2)
    with pytest.raises(ValueError, match="thresholds has 2 values but there are 3 orders"):
        build(thresholds=[0.5, 0.5])

    with_nan = train.astype(float)
    with_nan[7, 2] = np.nan
    with pytest.raises(ValueError, match="train_codes contains nan at row 7, field 2"):
        build(train_codes=with_nan)
    out_of_range = valid.copy()
    out_of_range[0, 4] = 9
    with pytest.raises(ValueError, match="valid_codes has code 9 in field 'e'"):
        build(valid_codes=out_of_range)
    negative = train.copy()
    negative[0, 0] = -1
    with pytest.raises(ValueError, match=r"negative code -1 at row \d+, field 0"):
        build(train_codes=negative)

    with pytest.raises(ValueError, match="single field"):
        build(train_codes=train[:, :1], valid_codes=valid[:, :1], cardinalities=[5],
              field_names=["a"])
    with pytest.raises(ValueError, match="no fields"):
        build(train_codes=train[:, :0], valid_codes=valid[:, :0], cardinalities=[],
              field_names=[])
    with pytest.raises(ValueError, match="valid_codes has 5 fields but train_codes has 6"):
        build(valid_codes=valid[:, :5])
    with pytest.raises(TypeError, match="integer category codes"):
        build(train_codes=train.astype(str))

    with pytest.raises(ValueError, match="y_train must contain only 0 and 1, got 2"):
        build(y_train=y_train * 2)
    with pytest.raises(ValueError, match="y_valid contains only the label 0"):
        build(y_valid=np.zeros_like(y_valid))
    with pytest.raises(ValueError, match="y_train contains NaN"):
        build(y_train=np.where(np.arange(len(y_train)) == 3, np.nan, y_train))
    with pytest.raises(ValueError, match="field_names must be distinct"):
        build(field_names=("a", "a", "c", "d", "e", "f"))
    with pytest.raises(ValueError, match="relaxation must be one of"):
        build(relaxation="gumbel")


# --- derivation -----------------------------------------------------------------------------


def hand_set_adjacency():
    """Edges chosen so that each derivation rule shows up once (rows: target, columns: source)."""
    a, b, c, d = range(4)
    first, second, third = np.zeros((3, 4, 4))
    first[c, a] = 0.9          # (a, c)
    first[b, d] = 0.6          # (b, d)
    first[a, c] = 0.5          # (a, c) again, weaker; at the threshold, so kept
    first[d, c] = 0.3          # below the threshold
    first[d, d] = 1.0          # diagonal, ignored
    second[b, c] = 0.8         # b x (a, c) -> (a, b, c), 0.72
    second[a, c] = 0.9         # a x (a, c) repeats a, skipped
    second[c, b] = 0.4         # below the threshold
    second[a, b] = 0.6         # a x (b, d) -> (a, b, d), 0.36
    third[d, b] = 1.0          # d x (a, b, c) -> (a, b, c, d), 0.72
    return [first, second, third]


def test_derive_crosses_hand_set():
    crosses = derive_crosses(hand_set_adjacency(), [0.5, 0.5, 0.5], ["a", "b", "c", "d"])
    assert crosses == [("a", "c"), ("a", "b", "c"), ("a", "b", "c", "d"), ("b", "d"),
                       ("a", "b", "d")]


def test_derive_crosses_max_and_thresholds():
    adjacency = hand_set_adjacency()
    names = ["a", "b", "c", "d"]
    assert derive_crosses(adjacency, 0.5, names, max_crosses=2) == [("a", "c"),
                                                                    ("a", "b", "c")]
    assert derive_crosses(adjacency, [0.7, 0.5, 0.5], names) == [
        ("a", "c"), ("a", "b", "c"), ("a", "b", "c", "d")]
    assert derive_crosses(adjacency, [1.0, 1.0, 1.0], names) == []
    assert ("c", "d") in derive_crosses(adjacency, [0.0, 1.0, 1.0], names)


def test_derive_crosses_max_keeps_exact_top():
    rng = np.random.default_rng(0)
    adjacency = rng.random((3, 7, 7))
    names = [f"x{j}" for j in range(7)]
    everything = derive_crosses(adjacency, 0.3, names)
    assert derive_crosses(adjacency, 0.3, names, max_crosses=15) == everything[:15]
    assert len({frozenset(cross) for cross in everything}) == len(everything)
    assert all(len(set(cross)) == len(cross) for cross in everything)


def test_derive_crosses_rejects_bad_input():
    adjacency = hand_set_adjacency()
    names = ["a", "b", "c", "d"]
    with pytest.raises(ValueError, match=r"thresholds\[0\] must be <= 1.0, got 1.2"):
        derive_crosses(adjacency, [1.2, 0.5, 0.5], names)
    with pytest.raises(ValueError, match=r"thresholds\[2\] must be >= 0.0, got -0.5"):
        derive_crosses(adjacency, [0.5, 0.5, -0.5], names)
    with pytest.raises(ValueError, match="must be finite"):
        derive_crosses(adjacency, float("nan"), names)
    with pytest.raises(ValueError, match="thresholds has 2 values but there are 3 orders"):
        derive_crosses(adjacency, [0.5, 0.5], names)
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]"):
        derive_crosses([adjacency[0] * 2], 0.5, names)
    with pytest.raises(ValueError, match="NaN"):
        derive_crosses([np.full((4, 4), np.nan)], 0.5, names)
    with pytest.raises(ValueError, match="field_names has 3 names for 4 fields"):
        derive_crosses(adjacency, 0.5, names[:3])
    with pytest.raises(ValueError, match="max_crosses must be >= 1"):
        derive_crosses(adjacency, 0.5, names, max_crosses=0)
    with pytest.raises(ValueError, match="adjacency is empty"):
        derive_crosses([], 0.5, names)


# --- transformer ----------------------------------------------------------------------------


def xor_tables(n=2000, seed=0):
    train, y_train, valid, y_valid, cardinalities = planted_xor(n, seed=seed)
    return (CategoricalTable(train, FIELDS, cardinalities), y_train,
            CategoricalTable(valid, FIELDS, cardinalities), y_valid)


def test_transformer_appends_named_crosses():
    train, y_train, valid, y_valid = xor_tables()
    transformer = FivesTransformer(order=2, embedding_dim=4, batches_per_step=10,
                                   max_epochs=2, batch_size=128, max_crosses=3)
    crossed = transformer.fit(train, y_train, valid=(valid, y_valid)).transform(valid)
    assert len(transformer.crosses_) == 3
    assert transformer.crosses_[0] == ("a", "b")
    names = tuple(cross_name(cross) for cross in transformer.crosses_)
    assert transformer.cross_names_ == names
    assert crossed.field_names == FIELDS + names
    assert crossed.field_names[6] == "a x b"
    np.testing.assert_array_equal(crossed.codes[:, :6], valid.codes)
    assert transformer.snapshot_.done
    assert transformer.search_seconds_ > 0


def test_transformer_maps_unseen_to_zero():
    train, y_train, valid, y_valid = xor_tables()
    # Training rows with at most one code 4, so two codes 4 together are an unseen combination.
    rows = (train.codes == 4).sum(axis=1) <= 1
    train, y_train = train.take(rows), y_train[rows]
    transformer = FivesTransformer(order=2, embedding_dim=4, batches_per_step=10,
                                   max_epochs=1, batch_size=128, thresholds=0.0,
                                   max_crosses=5)
    transformer.fit(train, y_train, valid=(valid, y_valid))
    assert len(transformer.crosses_) == 5

    seen = train.codes[0]
    unseen_category = seen.copy()
    unseen_category[0] = 0
    unseen_combination = np.full(6, 4)
    table = CategoricalTable(np.vstack([seen, unseen_category, unseen_combination]), FIELDS,
                             train.cardinalities)
    crossed = transformer.transform(table).codes[:, 6:]
    assert (crossed[0] > 0).all()
    for j, cross in enumerate(transformer.crosses_):
        assert crossed[1, j] == (0 if "a" in cross else crossed[0, j])
    assert (crossed[2] == 0).all()


def test_transformer_without_validation_split():
    train, y_train, _, _ = xor_tables()
    transformer = FivesTransformer(order=1, embedding_dim=4, batches_per_step=10,
                                   max_epochs=1, batch_size=128, max_crosses=2)
    crossed = transformer.fit_transform(train, y_train)
    assert crossed.n_fields == 6 + len(transformer.crosses_)
    assert len(crossed) == len(train)


def test_transformer_rejects_bad_input():
    train, y_train, valid, y_valid = xor_tables(500)
    transformer = FivesTransformer(order=1, batches_per_step=2, max_epochs=1)
    with pytest.raises(NotFittedError, match="not fitted"):
        transformer.transform(train)
    with pytest.raises(TypeError, match="CategoricalTable"):
        transformer.fit(train.codes, y_train)
    with pytest.raises(TypeError, match=r"valid must be a tuple \(table, labels\)"):
        transformer.fit(train, y_train, valid=valid)
    with pytest.raises(ValueError, match="valid\\[0\\] has fields"):
        transformer.fit(train, y_train, valid=(valid.select(FIELDS[:5]), y_valid))
    with pytest.raises(ValueError, match="single field"):
        transformer.fit(train.select(["a"]), y_train)
    with pytest.raises(ValueError, match="order must be >= 1"):
        FivesTransformer(order=0).fit(train, y_train, valid=(valid, y_valid))
    with pytest.raises(ValueError, match=r"thresholds\[0\] must be <= 1.0"):
        FivesTransformer(thresholds=2.0).fit(train, y_train, valid=(valid, y_valid))

    transformer.fit(train, y_train, valid=(valid, y_valid))
    with pytest.raises(ValueError, match="table has fields"):
        transformer.transform(train.select(list(reversed(FIELDS))))
