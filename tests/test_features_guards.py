"""Input guards of the discretizer, the feature-data loader and the panels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from widgets import AdjacencyPanel, DartsPanel
from workbench.core import Runner
from workbench.features import CategoricalTable, Fives
from workbench.features.discretize import MultiGranularityDiscretizer
from workbench.features.synthetic import planted_interaction_data

from data_fixtures import real_data_fixture  # noqa: F401  (pytest finds it by name)


def test_granularity_too_large_rejected():
    frame = pd.DataFrame({"x": np.arange(400.0)})
    y = np.arange(400) % 2
    discretizer = MultiGranularityDiscretizer(["x"], granularities=[10, 10**9], keep="all")
    with pytest.raises(ValueError, match=r"granularities\[1\]"):
        discretizer.fit(frame, y)


def test_panel_title_must_be_text():
    codes, y, cardinalities, names = planted_interaction_data(600, seed=0)
    table = CategoricalTable(codes, tuple(names), np.asarray(cardinalities))
    runner = Runner(Fives(table.take(np.arange(400)), y[:400], table.take(np.arange(400, 600)),
                          y[400:], order=1))
    try:
        with pytest.raises(TypeError, match="title must be a str"):
            AdjacencyPanel(runner, title=5)
        with pytest.raises(TypeError, match="Darts"):
            DartsPanel(runner)
    finally:
        runner.close()


def test_panel_evaluation_data_checked():
    codes, y, cardinalities, names = planted_interaction_data(600, seed=0)
    table = CategoricalTable(codes, tuple(names), np.asarray(cardinalities))
    train, valid = table.take(np.arange(400)), table.take(np.arange(400, 600))
    runner = Runner(Fives(train, y[:400], valid, y[400:], order=1))
    try:
        other = CategoricalTable(codes[:400, :5], tuple(names[:5]), np.asarray(cardinalities[:5]))
        with pytest.raises(ValueError, match="fields"):
            AdjacencyPanel(runner, train=other, y_train=y[:400], valid=valid, y_valid=y[400:])
        with pytest.raises(ValueError, match="y_train"):
            AdjacencyPanel(runner, train=train, y_train=y[:300], valid=valid, y_valid=y[400:])
    finally:
        runner.close()


@pytest.mark.parametrize("name", ["credit", "employee"])
def test_tiny_max_rows_rejected(real_data, name):
    from workbench.features import load_feature_data

    with pytest.raises(ValueError, match="pass a larger max_rows"):
        load_feature_data(name, max_rows=50)


def test_transformer_arguments_checked():
    from workbench.features import AutoCrossTransformer, FivesTransformer

    codes, y, cardinalities, names = planted_interaction_data(600, seed=0)
    table = CategoricalTable(codes, tuple(names), np.asarray(cardinalities))
    with pytest.raises(ValueError, match="seed"):
        AutoCrossTransformer(seed=-1).fit(table, y)
    with pytest.raises(ValueError, match="validation_fraction"):
        FivesTransformer(validation_fraction=1.0).fit(table, y)


def test_fives_order_limited_by_fields():
    codes, y, cardinalities, names = planted_interaction_data(600, seed=0)
    table = CategoricalTable(codes, tuple(names), np.asarray(cardinalities))
    train, valid = table.take(np.arange(400)), table.take(np.arange(400, 600))
    with pytest.raises(ValueError, match="order"):
        Fives(train, y[:400], valid, y[400:], order=6)
    assert Fives(train, y[:400], valid, y[400:], order=5).order == 5


def test_table_encoder_names_unhashable_column():
    from workbench.features import TableEncoder

    good = pd.DataFrame({"tags": ["a", "b", "a"], "city": ["x", "y", "x"]})
    listed = pd.DataFrame({"tags": [["a", "b"], ["c"], ["a", "b"]], "city": ["x", "y", "x"]})
    with pytest.raises(ValueError, match="column 'tags' contains unhashable values"):
        TableEncoder().fit(listed)
    encoder = TableEncoder().fit(good)
    with pytest.raises(ValueError, match=r"frame\['tags'\].map\(str\)"):
        encoder.transform(listed)


@pytest.mark.parametrize("transformer_name", ["AutoCrossTransformer", "FivesTransformer"])
def test_cross_transformers_share_fit_arguments(transformer_name):
    import workbench.features as features

    codes, y, cardinalities, names = planted_interaction_data(800, seed=0)
    table = CategoricalTable(codes, tuple(names), np.asarray(cardinalities))
    train, valid = table.take(np.arange(600)), table.take(np.arange(600, 800))
    options = {"max_crosses": 2}
    if transformer_name == "FivesTransformer":
        options.update(order=1, max_epochs=1, batches_per_step=5)
    transformer = getattr(features, transformer_name)(**options)
    crossed = transformer.fit(train, y[:600], valid=(valid, y[600:])).transform(valid)
    assert len(transformer.crosses_) <= 2
    assert len(transformer.cross_names_) == len(transformer.crosses_)
    assert crossed.field_names == table.field_names + transformer.cross_names_
    assert transformer.search_seconds_ > 0
    with pytest.raises(ValueError, match="validation_fraction"):
        getattr(features, transformer_name)(validation_fraction=0.9).fit(train, y[:600])
    with pytest.raises(ValueError, match=r"valid\[1\] has 199 labels"):
        transformer.fit(train, y[:600], valid=(valid, y[601:]))


def test_check_codes_tensors_and_bad_codes():
    import torch

    from workbench.features.code_checks import check_codes, check_field_names

    np.testing.assert_array_equal(check_codes("codes", torch.tensor([[1, 2], [0, 3]])),
                                  [[1, 2], [0, 3]])
    with pytest.raises(ValueError, match="non-integer code 0.5 at row 1, field 0"):
        check_codes("codes", np.array([[1.0, 2.0], [0.5, 3.0]]))
    with pytest.raises(ValueError, match=r"contains inf at row 0, field 1"):
        check_codes("codes", np.array([[1.0, np.inf]]))
    with pytest.raises(ValueError, match=r"code 4 at row 0, field 1, outside \[0, 3\]"):
        check_codes("codes", np.array([[1, 4]]), np.array([5, 4]))
    with pytest.raises(ValueError, match="no rows"):
        check_codes("codes", np.zeros((0, 2), dtype=int))
    with pytest.raises(TypeError, match="integer category codes"):
        check_codes("codes", np.array([[True, False]]))
    assert check_field_names(None, 2, default_prefix="f") == ("f0", "f1")
    with pytest.raises(TypeError, match="sequence of str"):
        check_field_names(None, 2)
    with pytest.raises(ValueError, match=r"\['a'\] occur more than once"):
        check_field_names(["a", "a"], 2)


def test_check_codes_negative_huge_ragged():
    from workbench.features.code_checks import check_codes

    with pytest.raises(ValueError, match="negative code -3 at row 0, field 1"):
        check_codes("codes", np.array([[1, -3]]))
    with pytest.raises(ValueError, match="beyond the int64 range"):
        check_codes("codes", np.array([[1e19, 2.0]]))
    with pytest.raises(ValueError, match="beyond the int64 range"):
        check_codes("codes", np.array([[2**63 + 5]], dtype=np.uint64))
    with pytest.raises(ValueError, match="codes must be a rectangular array"):
        check_codes("codes", [[1, 2], [3]])


def test_autofis_rejects_reordered_validation_fields():
    from workbench.features import AutoFIS, AutoFISClassifier

    codes, y, cardinalities, names = planted_interaction_data(600, seed=0)
    table = CategoricalTable(codes, tuple(names), np.asarray(cardinalities))
    train, valid = table.take(np.arange(400)), table.take(np.arange(400, 600))
    reordered = valid.select(list(reversed(names)))
    with pytest.raises(ValueError, match="valid_codes has fields"):
        AutoFIS(train, y[:400], reordered, y[400:], search_epochs=0, retrain_epochs=1)
    with pytest.raises(ValueError, match="valid_codes has fields"):
        AutoFISClassifier(search_epochs=0, retrain_epochs=1).fit(
            train, y[:400], valid=(reordered, y[400:]))
    with pytest.raises(TypeError, match="tuple of 1 items"):
        AutoFISClassifier().fit(train, y[:400], valid=(valid,))


@pytest.mark.parametrize("transformer_name", ["AutoCrossTransformer", "FivesTransformer"])
def test_cross_transformers_reject_tiny_tables(transformer_name):
    import workbench.features as features

    codes, y, cardinalities, names = planted_interaction_data(600, seed=0)
    table = CategoricalTable(codes, tuple(names), np.asarray(cardinalities))
    transformer = getattr(features, transformer_name)()
    with pytest.raises(ValueError, match="table has no rows"):
        transformer.fit(table.take(np.arange(0)), np.array([], dtype=int))
    rows = np.concatenate([np.flatnonzero(y == 0)[:1], np.flatnonzero(y == 1)[:5]])
    with pytest.raises(ValueError, match="only 1 rows of its rarer class"):
        transformer.fit(table.take(rows), y[rows])
    with pytest.raises(TypeError, match="tuple of 1 items"):
        transformer.fit(table, y, valid=(table,))


def test_finished_searches_give_specific_advice():
    from workbench.features import AutoCross

    codes, y, cardinalities, names = planted_interaction_data(600, seed=0)
    table = CategoricalTable(codes, tuple(names), np.asarray(cardinalities))
    train, valid = table.take(np.arange(400)), table.take(np.arange(400, 600))
    fives = Fives(train, y[:400], valid, y[400:], order=1)
    fives.stop()
    with pytest.raises(RuntimeError, match="with more max_epochs"):
        fives.step()
    search = AutoCross(train, y[:400], valid, y[400:], max_crosses=1)
    search.stop()
    with pytest.raises(RuntimeError, match="ended by 'stopped'"):
        search.step()


def test_table_checks_bad_train_encoding():
    from workbench.features.sparse_lr import logistic_regression_auc

    codes, y, cardinalities, names = planted_interaction_data(600, seed=0)
    table = CategoricalTable(codes, tuple(names), np.asarray(cardinalities))
    train, valid = table.take(np.arange(400)), table.take(np.arange(400, 600))
    with pytest.raises(TypeError, match="train must be a CategoricalTable"):
        logistic_regression_auc(train.codes, y[:400], valid, y[400:])
    wider = CategoricalTable(valid.codes, valid.field_names, valid.cardinalities + 1)
    with pytest.raises(ValueError, match="valid has cardinalities"):
        logistic_regression_auc(train, y[:400], wider, y[400:])
