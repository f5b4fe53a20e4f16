"""No search crosses two granularities of one discretized column."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from workbench.features.autocross import AutoCross
from workbench.features.categorical_table import CategoricalTable
from workbench.features.discretize import shares_source, source_column
from workbench.features.fives import Fives

torch.set_num_threads(1)


@pytest.mark.parametrize("name, source", [
    ("age@10", "age"), ("age@1000", "age"), ("e-mail@home@10", "e-mail@home"),
    ("age", "age"), ("user@host", "user@host"), ("@10", "@10"), ("age@", "age@"),
])
def test_source_column(name, source):
    assert source_column(name) == source


def test_shares_source():
    assert shares_source(("age@10", "age@100"))
    assert shares_source(("age@10", "sex", "age@1000"))
    assert not shares_source(("age@10", "sex"))
    assert not shares_source(("age", "agent@10"))


def granularity_table(n_rows=3000, seed=0):
    """Return a table where y depends on a@10 x a@100 (one column) and on b x c."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(1, 11, n_rows)
    fine = (coarse - 1) * 10 + rng.integers(1, 11, n_rows)
    b, c = rng.integers(1, 4, n_rows), rng.integers(1, 4, n_rows)
    logit = 1.5 * ((fine % 2 == 0) == (coarse % 2 == 0)) + 1.5 * ((b == c) * 2 - 1)
    y = (rng.random(n_rows) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    codes = np.column_stack([coarse, fine, b, c])
    table = CategoricalTable(codes, ("a@10", "a@100", "b", "c"), np.array([11, 101, 4, 4]))
    return table, y


def test_autocross_skips_same_source_pairs():
    table, y = granularity_table()
    train, valid = table.take(np.arange(2000)), table.take(np.arange(2000, 3000))
    search = AutoCross(train, y[:2000], valid, y[2000:], max_crosses=3, seed=0)
    while not search.done:
        search.step()
    snapshot = search.snapshot()

    for frame in snapshot.levels:
        for fields in frame["fields"]:
            assert not shares_source(fields), fields
    assert all(not shares_source(cross) for cross in snapshot.chosen)


def test_fives_forces_same_source_edges_off():
    table, y = granularity_table()
    train, valid = table.take(np.arange(2000)), table.take(np.arange(2000, 3000))
    search = Fives(train, y[:2000], valid, y[2000:], order=2, max_epochs=1, seed=0)
    search.step()
    snapshot = search.snapshot()

    for forced, adjacency in zip(snapshot.forced, snapshot.adjacency):
        assert forced[0, 1] == -1
        assert forced[1, 0] == -1
        assert adjacency[0, 1] == 0.0
        assert adjacency[1, 0] == 0.0
        assert forced[2, 3] == 0
    search.set_threshold(1, 0.0)
    search.set_threshold(2, 0.0)
    assert all(not shares_source(cross) for cross in search.snapshot().crosses)
