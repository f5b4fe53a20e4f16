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
