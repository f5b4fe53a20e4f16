"""AutoCross: planted interactions, successive halving, termination, steering, real data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from data_fixtures import real_data_fixture  # noqa: F401 (pytest fixture)
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from threadpoolctl import threadpool_limits

from workbench.core import Runner, RunnerState
from workbench.features.autocross import AutoCross, AutoCrossTransformer
from workbench.features.categorical_table import CategoricalTable
from workbench.features.feature_data import load_feature_data
from workbench.features.fieldwise_lr import (CandidateEncoding, FieldWeights,
                                             successive_halving, train_field_weights)
from workbench.features.sparse_lr import logistic_regression_auc

FIELDS = ("n1", "a", "n2", "b", "n3", "n4")


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Run BLAS and OpenMP on one thread, because threads only slow down these many small fits."""
    with threadpool_limits(limits=1):
        yield


def xor_split(n=4000, seed=0, noise=0.1):
    """Four noise fields and fields a and b; the label is the XOR of a's and b's parity."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(1, 5, size=(n, len(FIELDS)))
    y = (codes[:, 1] % 2) ^ (codes[:, 3] % 2)
    y = np.where(rng.random(n) < noise, 1 - y, y).astype(np.int64)
    table = CategoricalTable(codes, FIELDS, np.full(len(FIELDS), 5))
    cut = int(0.75 * n)
    return table.take(np.arange(cut)), y[:cut], table.take(np.arange(cut, n)), y[cut:]


def run(search):
    while not search.done:
        search.step()
    return search.snapshot()


def test_planted_xor_pair_is_chosen_first():
    snapshot = run(AutoCross(*xor_split(), max_crosses=3))
    assert snapshot.chosen[0] == ("a", "b")
    first_level = snapshot.levels[0]
    assert first_level.loc[0, "candidate"] == "a x b"
    assert first_level["chosen"].tolist() == [True] + [False] * (len(first_level) - 1)
    assert snapshot.validation_auc[0] < 0.6
    assert snapshot.validation_auc[1] > 0.85


@pytest.mark.parametrize("options", [
    {"n_finalists": 1, "oof_folds": 0},          # as Luo et al. describe
    {"metric": "logloss"},
    {"n_blocks": 1},
    {"l2": 0.0, "learning_rate": 0.5},
])
def test_planted_pair_with_options(options):
    snapshot = run(AutoCross(*xor_split(), max_crosses=1, **options))
    assert snapshot.chosen == (("a", "b"),)


def test_max_order_limits_crosses():
    snapshot = run(AutoCross(*xor_split(), max_crosses=3, max_order=2,
                             min_improvement=-1.0))
    assert len(snapshot.chosen) == 3
    for level in snapshot.levels:
        assert level["fields"].map(len).max() == 2


def test_planted_pair_wins_at_every_seed():
    for seed in (1, 2, 3):
        snapshot = run(AutoCross(*xor_split(n=3000, seed=seed), max_crosses=1, seed=seed))
        assert snapshot.chosen == (("a", "b"),)
        assert snapshot.reason == "max_crosses"


def test_finalists_are_refitted():
    snapshot = run(AutoCross(*xor_split(), max_crosses=1, n_finalists=3))
    level = snapshot.levels[0]
    finalists = level[level["validation_auc"].notna()]
    assert len(finalists) == 3
    assert finalists["rounds"].nunique() == 1
    assert finalists["C"].notna().all()
    best = finalists.loc[finalists["validation_auc"].idxmax()]
    assert best["chosen"]
    assert best["candidate"] == "a x b"


def test_successive_halving_rounds():
    snapshot = run(AutoCross(*xor_split(), max_crosses=1, n_finalists=1))
    level = snapshot.levels[0]
    n = len(level)
    assert n == math.comb(len(FIELDS), 2)
    n_rounds = math.ceil(math.log2(n))
    # Round r keeps ceil(n / 2**r) candidates; each round's losers stop there.
    remaining = n
    for r in range(1, n_rounds + 1):
        assert (level["rounds"] >= r).sum() == remaining
        remaining = math.ceil(remaining / 2)
    assert level["rounds"].max() == n_rounds
    assert level.loc[level["chosen"], "rounds"].item() == n_rounds


def test_halving_keeps_the_informative_candidate():
    rng = np.random.default_rng(0)
    n = 4000
    signal = rng.integers(0, 4, n)
    y = (signal % 2).astype(np.int64)
    y_valid = y[3000:]

    def encode(i):
        codes = signal if i == 5 else rng.integers(0, 4, n)
        return CandidateEncoding(codes[:3000], codes[3000:], 4, np.zeros(3000), np.zeros(1000))

    blocks = np.array_split(np.arange(3000), 4)
    result = successive_halving(12, encode, y[:3000], blocks, y_valid, keep=2)
    assert result.survivors[0] == 5
    assert len(result.survivors) == 2
    assert result.rounds.tolist().count(1) == 6
    assert result.rounds[5] == result.rounds.max() == 3
    assert set(result.weights) == set(result.survivors)


def test_field_weights_reach_the_log_odds():
    codes = np.repeat([0, 1, 2], 3000)
    y = np.concatenate([np.tile([1, 0, 0, 0], 750), np.tile([1, 1, 1, 0], 750),
                        np.tile([1, 0], 1500)])
    state = FieldWeights.zeros(3)
    for _ in range(5):
        train_field_weights(state, codes, np.zeros(len(codes)), y, l2=0.0, batch_size=500)
    np.testing.assert_allclose(state.weights, [np.log(1 / 3), np.log(3), 0.0], atol=0.05)


def test_stops_without_improvement_on_noise():
    train, y_train, valid, y_valid = xor_split()
    rng = np.random.default_rng(5)
    snapshot = run(AutoCross(train, rng.integers(0, 2, len(train)), valid,
                             rng.integers(0, 2, len(valid)), min_improvement=0.05))
    assert snapshot.reason == "no_improvement"
    assert snapshot.chosen == ()
    assert len(snapshot.validation_auc) == 1
    assert snapshot.rejected_auc < snapshot.validation_auc[0] + 0.05
    assert not snapshot.levels[0]["chosen"].any()


def test_exhausts_two_fields():
    train, y_train, valid, y_valid = xor_split()
    snapshot = run(AutoCross(train.select(["a", "b"]), y_train, valid.select(["a", "b"]),
                             y_valid, max_crosses=5))
    assert snapshot.chosen == (("a", "b"),)
    assert snapshot.reason == "exhausted"


def test_max_seconds_ends_after_a_level():
    search = AutoCross(*xor_split(), max_seconds=1e-6, max_crosses=5)
    search.step()
    assert search.done
    assert search.snapshot().reason == "max_seconds"
    assert search.snapshot().elapsed_seconds > 0
    with pytest.raises(RuntimeError, match="done"):
        search.step()
    search.set_max_seconds(None)
    assert not search.done


def test_higher_order_crosses_arise():
    rng = np.random.default_rng(0)
    n = 6000
    codes = rng.integers(1, 3, size=(n, 4))
    y = ((codes[:, 0] == 1) ^ (codes[:, 1] == 1) ^ (codes[:, 2] == 1)).astype(np.int64)
    table = CategoricalTable(codes, ("a", "b", "c", "d"), np.full(4, 3))
    train, valid = table.take(np.arange(4500)), table.take(np.arange(4500, n))
    snapshot = run(AutoCross(train, y[:4500], valid, y[4500:], max_crosses=2))
    assert ("a", "b", "c") in snapshot.chosen
    assert snapshot.validation_auc[-1] > 0.99


def test_beam_search_keeps_several_members():
    snapshot = run(AutoCross(*xor_split(), beam_width=2, max_crosses=2))
    # Each member crosses a with b, alone or inside a cross of order three.
    for member in snapshot.beam:
        assert any({"a", "b"} <= set(cross) for cross in member)
    assert snapshot.levels[0].loc[0, "candidate"] == "a x b"
    assert len(snapshot.beam) == 2
    assert snapshot.levels[0]["chosen"].sum() == 2


def test_stop_takes_effect_at_next_step():
    search = AutoCross(*xor_split(), max_crosses=5)
    search.step()
    search.stop()
    assert search.done
    assert search.snapshot().reason == "stopped"
    assert search.snapshot().chosen == (("a", "b"),)
    assert [record.action for record in search.steering_log] == ["stop"]


def test_forbid_field_and_cross():
    search = AutoCross(*xor_split(), max_crosses=1)
    search.forbid_field("a")
    snapshot = run(search)
    assert not any("a" in fields for fields in snapshot.levels[0]["fields"])
    assert "a" not in snapshot.chosen[0]

    search = AutoCross(*xor_split(), max_crosses=2)
    search.step()
    search.forbid_cross(["n1", "a", "b"])
    search.step()
    assert ("n1", "a", "b") not in set(search.snapshot().levels[1]["fields"])
    assert len(search.snapshot().levels[1]) == len(search.snapshot().levels[0]) + 2


def test_set_max_crosses_resumes_a_finished_search():
    search = AutoCross(*xor_split(), max_crosses=1)
    run(search)
    assert search.snapshot().reason == "max_crosses"
    search.set_max_crosses(2)
    assert not search.done
    search.step()
    assert search.snapshot().level == 2
    search.set_max_crosses(1)
    assert search.done


def test_runs_under_a_runner():
    search = AutoCross(*xor_split(), max_crosses=3)
    runner = Runner(search)
    runner.step_once()
    runner.wait(timeout=60)
    runner.submit_steering("set_max_crosses", {"n": 1}).result(timeout=60)
    try:
        assert runner.run() == RunnerState.FINISHED
    finally:
        runner.close()
    assert search.snapshot().chosen == (("a", "b"),)
    assert search.snapshot().reason == "max_crosses"
    assert [record.action for record in search.steering_log] == ["set_max_crosses"]


def test_same_seed_same_run():
    first = run(AutoCross(*xor_split(), max_crosses=2, seed=7))
    second = run(AutoCross(*xor_split(), max_crosses=2, seed=7))
    other = run(AutoCross(*xor_split(), max_crosses=2, seed=8))
    assert first.chosen == second.chosen
    for left, right in zip(first.levels, second.levels):
        pd.testing.assert_frame_equal(left, right)
    assert not np.allclose(first.levels[0]["score"], other.levels[0]["score"])


def test_hashed_crosses_find_the_pair():
    snapshot = run(AutoCross(*xor_split(), max_crosses=1, n_buckets=64))
    assert snapshot.chosen == (("a", "b"),)


def test_rejects_bad_input():
    train, y_train, valid, y_valid = xor_split(n=400)
    with pytest.raises(ValueError, match="at least two fields"):
        AutoCross(train.select(["a"]), y_train, valid.select(["a"]), y_valid)
    with pytest.raises(ValueError, match="encode both with the same TableEncoder"):
        AutoCross(train, y_train, valid.select(["a", "b"]), y_valid)
    with pytest.raises(ValueError, match="only 0 and 1"):
        AutoCross(train, y_train + 1, valid, y_valid)
    with pytest.raises(ValueError, match="labels but the table has"):
        AutoCross(train, y_train[:10], valid, y_valid)
    with pytest.raises(ValueError, match="beam_width must be >= 1"):
        AutoCross(train, y_train, valid, y_valid, beam_width=0)
    with pytest.raises(ValueError, match="metric must be one of"):
        AutoCross(train, y_train, valid, y_valid, metric="accuracy")
    with pytest.raises(ValueError, match="max_seconds must be > 0"):
        AutoCross(train, y_train, valid, y_valid, max_seconds=0)
    with pytest.raises(TypeError, match="CategoricalTable"):
        AutoCross(train.codes, y_train, valid, y_valid)
    search = AutoCross(train, y_train, valid, y_valid)
    with pytest.raises(ValueError, match="'zzz' is not in the table"):
        search.forbid_field("zzz")
    with pytest.raises(ValueError, match="at least two"):
        search.forbid_cross(["a"])
    assert len(search.steering_log) == 0


def test_constant_field_is_not_crossed():
    train, y_train, valid, y_valid = xor_split()
    constant = np.ones((len(train), 1), dtype=np.int64)
    train = train.append(["flat"], constant, [2])
    valid = valid.append(["flat"], np.ones((len(valid), 1), dtype=np.int64), [2])
    snapshot = run(AutoCross(train, y_train, valid, y_valid, max_crosses=1))
    assert not any("flat" in fields for fields in snapshot.levels[0]["fields"])


def test_transformer_adds_the_crosses():
    train, y_train, valid, y_valid = xor_split()
    transformer = AutoCrossTransformer(max_crosses=1)
    with pytest.raises(NotFittedError):
        transformer.transform(train)
    crossed = transformer.fit_transform(train, y_train)
    assert transformer.crosses_ == (("a", "b"),)
    assert crossed.field_names == (*FIELDS, "a x b")
    assert transformer.transform(valid).n_fields == len(FIELDS) + 1
    assert clone(transformer).get_params()["max_crosses"] == 1
    with pytest.raises(TypeError, match=r"valid must be a tuple \(table, labels\)"):
        transformer.fit(train, y_train, valid)
    transformer.fit(train, y_train, valid=(valid, y_valid))
    assert transformer.snapshot_.validation_auc[1] > 0.85
    assert transformer.cross_names_ == ("a x b",)
    with pytest.raises(ValueError, match="table has fields"):
        transformer.transform(valid.select(list(reversed(FIELDS))))
    with pytest.raises(ValueError, match=r"valid\[1\] contains only the label"):
        transformer.fit(train, y_train, valid=(valid, np.zeros(len(valid), dtype=int)))


def test_adult_subsample_crosses_help(real_data):
    data = load_feature_data("adult", max_rows=6000, max_power=2)
    search = AutoCross(data.train, data.y_train, data.valid, data.y_valid, max_crosses=2,
                       C=0.3)
    snapshot = run(search)
    assert snapshot.level >= 1
    assert snapshot.validation_auc[0] > 0.85
    assert all(later > earlier for earlier, later in zip(snapshot.validation_auc,
                                                          snapshot.validation_auc[1:]))
    for cross in snapshot.chosen:
        assert set(cross) <= set(data.train.field_names)
    crossed = logistic_regression_auc(data.train, data.y_train, data.valid, data.y_valid,
                                      snapshot.chosen, C=0.3, min_count=2)
    assert crossed == pytest.approx(snapshot.validation_auc[-1], abs=1e-9)
