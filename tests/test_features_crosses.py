"""CategoricalTable, TableEncoder, CrossEncoder and the one-hot logistic regression."""

from __future__ import annotations

import logging
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from threadpoolctl import threadpool_limits

from workbench.features.categorical_table import CategoricalTable, TableEncoder
from workbench.features.crosses import CrossEncoder, cross_codes, cross_keys, cross_name
from workbench.features.sparse_lr import (check_binary_labels, fit_logistic_regression,
                                          logistic_regression_auc, one_hot,
                                          tune_logistic_regression)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Run BLAS and OpenMP on one thread, because threads only slow down these many small fits."""
    with threadpool_limits(limits=1):
        yield


def small_table():
    codes = np.array([[1, 1, 2], [1, 2, 1], [2, 1, 1], [1, 1, 1], [0, 2, 1], [2, 2, 0]])
    return CategoricalTable(codes, ("a", "b", "c"), np.array([3, 3, 3]))


def xor_table(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    codes = rng.integers(1, 3, size=(n, 3))
    y = ((codes[:, 0] == 1) ^ (codes[:, 1] == 1)).astype(np.int64)
    return CategoricalTable(codes, ("a", "b", "c"), np.full(3, 3)), y


# ----- CategoricalTable ---------------------------------------------------


def test_table_accessors():
    table = small_table()
    assert len(table) == 6
    assert table.n_fields == 3
    assert table.column("b").tolist() == [1, 2, 1, 1, 2, 2]
    assert table.take([0, 2]).codes.tolist() == [[1, 1, 2], [2, 1, 1]]
    assert table.take(np.array([True, False] * 3)).codes.shape == (3, 3)
    selected = table.select(["c", "a"])
    assert selected.field_names == ("c", "a")
    assert selected.codes[0].tolist() == [2, 1]
    assert selected.cardinalities.tolist() == [3, 3]
    appended = table.append(["d"], np.arange(6) % 2, [2])
    assert appended.field_names == ("a", "b", "c", "d")
    assert appended.cardinalities.tolist() == [3, 3, 3, 2]


def test_table_is_read_only():
    table = small_table()
    with pytest.raises(ValueError):
        table.codes[0, 0] = 2
    with pytest.raises(ValueError):
        table.cardinalities[0] = 9


@pytest.mark.parametrize("codes, names, cardinalities, error, match", [
    (np.array([[3, 1]]), ("a", "b"), [3, 3], ValueError, "field 'a' has codes in \\[3, 3\\]"),
    (np.array([[-1, 1]]), ("a", "b"), [3, 3], ValueError, "outside"),
    (np.array([[1.0, 1.0]]), ("a", "b"), [3, 3], TypeError, "integer dtype"),
    (np.array([1, 1]), ("a", "b"), [3, 3], ValueError, "2-D"),
    (np.array([[1, 1]]), ("a", "a"), [3, 3], ValueError, "distinct"),
    (np.array([[1, 1]]), ("a",), [3], ValueError, "one name per column"),
    (np.array([[1, 1]]), ("a", "b"), [3], ValueError, "one per field"),
    (np.array([[0, 0]]), ("a", "b"), [3, 0], ValueError, "at least 1"),
    (np.array([[1, 1]]), ("a", 2), [3, 3], TypeError, "str"),
])
def test_table_rejects_bad_input(codes, names, cardinalities, error, match):
    with pytest.raises(error, match=match):
        CategoricalTable(codes, names, np.array(cardinalities))


def test_table_unknown_field():
    with pytest.raises(ValueError, match="'zzz' is not in the table"):
        small_table().column("zzz")


# ----- TableEncoder -------------------------------------------------------


def test_encoder_orders_vocabulary_by_count():
    frame = pd.DataFrame({"city": ["b", "a", "a", "c", "b", "a"]})
    encoder = TableEncoder().fit(frame)
    assert list(encoder.vocabularies_["city"]) == ["a", "b", "c"]
    assert encoder.transform(frame).column("city").tolist() == [2, 1, 1, 3, 2, 1]
    assert encoder.cardinalities_.tolist() == [4]


def test_encoder_merges_rare_values():
    frame = pd.DataFrame({"city": ["a", "a", "b", "b", "c", "d"]})
    table = TableEncoder(min_count=2).fit_transform(frame)
    assert table.column("city").tolist() == [1, 1, 2, 2, 0, 0]
    assert table.cardinalities.tolist() == [3]


def test_encoder_missing_and_unseen():
    train = pd.DataFrame({"city": ["a", None, " ", np.nan, "b"], "size": [1, 2, np.nan, 1, 2]})
    encoder = TableEncoder().fit(train)
    assert list(encoder.vocabularies_["city"]) == ["a", "b"]
    test = pd.DataFrame({"city": ["z", "a", None, ""], "size": [3, 1.0, None, 2]})
    assert encoder.transform(test).codes.tolist() == [[0, 0], [1, 1], [0, 0], [0, 2]]


def test_encoder_numbers_are_values():
    frame = pd.DataFrame({"code": pd.Series([10, 20, 10], dtype="category"),
                          "flag": [True, False, True]})
    table = TableEncoder().fit_transform(frame)
    assert table.field_names == ("code", "flag")
    assert table.codes.tolist() == [[1, 1], [2, 2], [1, 1]]


def test_encoder_warns_when_all_unseen(caplog):
    encoder = TableEncoder().fit(pd.DataFrame({"age": [25] * 20}))
    with caplog.at_level(logging.WARNING, logger="workbench.features.categorical_table"):
        table = encoder.transform(pd.DataFrame({"age": ["25"] * 20}))
    assert not table.codes.any()
    assert "unseen" in caplog.text


def test_encoder_rejects_bad_input():
    with pytest.raises(TypeError, match="DataFrame"):
        TableEncoder().fit(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="no columns"):
        TableEncoder().fit(pd.DataFrame(index=range(3)))
    with pytest.raises(ValueError, match="no rows"):
        TableEncoder().fit(pd.DataFrame({"a": []}))
    with pytest.raises(ValueError, match="min_count must be >= 1"):
        TableEncoder(min_count=0).fit(pd.DataFrame({"a": [1]}))
    with pytest.raises(ValueError, match=r"\['zzz'\] are missing"):
        TableEncoder(columns=["zzz"]).fit(pd.DataFrame({"a": [1]}))
    with pytest.raises(TypeError, match="list of column names"):
        TableEncoder(columns="a").fit(pd.DataFrame({"a": [1]}))
    with pytest.raises(NotFittedError):
        TableEncoder().transform(pd.DataFrame({"a": [1]}))
    encoder = TableEncoder().fit(pd.DataFrame({"a": [1], "b": [2]}))
    with pytest.raises(ValueError, match=r"\['b'\] are missing"):
        encoder.transform(pd.DataFrame({"a": [1]}))


# ----- crosses ------------------------------------------------------------


def test_cross_name():
    assert cross_name(("education", "occupation", "sex")) == "education x occupation x sex"


def test_exact_cross_gives_each_combination_an_index():
    table = small_table()
    crossed = CrossEncoder([("a", "b")]).fit_transform(table)
    assert crossed.field_names == ("a", "b", "c", "a x b")
    codes = crossed.column("a x b")
    pairs = list(zip(table.column("a"), table.column("b")))
    for i in range(len(table)):
        for j in range(len(table)):
            if 0 not in pairs[i] and 0 not in pairs[j]:
                assert (codes[i] == codes[j]) == (pairs[i] == pairs[j])
    assert codes[4] == 0                          # a is missing in row 4
    assert (codes[[0, 1, 2, 3, 5]] > 0).all()
    assert crossed.cardinalities[-1] == len(set(codes[codes > 0])) + 1


def test_exact_cross_unseen_and_rare_combinations():
    table = small_table()
    encoder = CrossEncoder([("a", "b")], min_count=2).fit(table)
    # (1, 1) occurs twice in training; every other combination once.
    assert encoder.transform(table).column("a x b").tolist() == [1, 0, 0, 1, 0, 0]
    unseen = CategoricalTable(np.array([[2, 1, 1], [1, 1, 1]]), table.field_names,
                              table.cardinalities)
    assert encoder.transform(unseen).column("a x b").tolist() == [0, 1]


def test_three_field_cross_is_one_feature():
    table = small_table()
    crossed = CrossEncoder([("a", "b", "c")]).fit_transform(table)
    codes = crossed.column("a x b x c")
    assert codes[4] == 0                          # a is missing
    assert codes[5] == 0                          # c is missing
    assert len(set(codes[:4])) == 4               # four distinct full combinations


def test_hashed_cross_buckets():
    table = small_table()
    encoder = CrossEncoder([("a", "b")], n_buckets=5).fit(table)
    codes = encoder.transform(table).column("a x b")
    assert codes[4] == 0
    assert ((codes[[0, 1, 2, 3, 5]] >= 1) & (codes[[0, 1, 2, 3, 5]] <= 4)).all()
    assert codes[0] == codes[3]                   # equal combinations share a bucket
    assert encoder.cardinalities_.tolist() == [5]
    unseen = CategoricalTable(np.array([[2, 2, 1]]), table.field_names, table.cardinalities)
    assert encoder.transform(unseen).column("a x b")[0] >= 1    # hashing covers unseen rows


def test_hashed_cross_is_stable_across_processes():
    script = ("import numpy as np\n"
              "from workbench.features.categorical_table import CategoricalTable\n"
              "from workbench.features.crosses import CrossEncoder\n"
              "t = CategoricalTable(np.array([[1, 2], [2, 1], [3, 3]]), ('a', 'b'), "
              "np.array([4, 4]))\n"
              "print(CrossEncoder([('a', 'b')], n_buckets=1000).fit_transform(t)"
              ".column('a x b').tolist())\n")
    outputs = set()
    for hash_seed in ("1", "2"):
        result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                                env={"PYTHONHASHSEED": hash_seed}, check=True, timeout=120)
        outputs.add(result.stdout.strip())
    table = CategoricalTable(np.array([[1, 2], [2, 1], [3, 3]]), ("a", "b"), np.array([4, 4]))
    here = CrossEncoder([("a", "b")], n_buckets=1000).fit_transform(table).column("a x b")
    assert outputs == {str(here.tolist())}


def test_cross_keys_hash_path_for_huge_cardinalities():
    codes = np.array([[5, 6, 7, 8, 9], [5, 6, 7, 8, 1], [5, 6, 7, 8, 9], [0, 6, 7, 8, 9]])
    table = CategoricalTable(codes, tuple("abcde"), np.full(5, 10**5))
    keys = cross_keys(table, tuple("abcde"))
    assert keys[0] == keys[2]
    assert keys[0] != keys[1]
    assert keys[3] == -1
    assert (keys[:3] >= 0).all()


def test_cross_codes_helper():
    codes, vocabulary, cardinality = cross_codes(small_table(), ("a", "b"))
    assert cardinality == len(vocabulary) + 1 == 5
    assert codes.tolist() == [1, 2, 3, 1, 0, 4]
    hashed, vocabulary, cardinality = cross_codes(small_table(), ("a", "b"), n_buckets=8)
    assert vocabulary is None
    assert cardinality == 8
    assert hashed.max() < 8


@pytest.mark.parametrize("crosses, error, match", [
    ([("a",)], ValueError, "at least two"),
    ([("a", "zzz")], ValueError, "'zzz' is not in the table"),
    ([("a", "a")], ValueError, "repeats a field"),
    ([("a", "b"), ("b", "a")], ValueError, "list each cross once"),
    (["ab"], TypeError, "tuple of field names"),
])
def test_cross_encoder_rejects_bad_crosses(crosses, error, match):
    with pytest.raises(error, match=match):
        CrossEncoder(crosses).fit(small_table())


def test_cross_encoder_rejects_bad_tables():
    with pytest.raises(ValueError, match="n_buckets must be >= 2"):
        CrossEncoder([("a", "b")], n_buckets=1).fit(small_table())
    with pytest.raises(TypeError, match="CategoricalTable"):
        CrossEncoder([("a", "b")]).fit(pd.DataFrame({"a": [1]}))
    with pytest.raises(NotFittedError):
        CrossEncoder([("a", "b")]).transform(small_table())
    encoder = CrossEncoder([("a", "b")]).fit(small_table())
    other = CategoricalTable(np.ones((2, 3), dtype=int), ("a", "b", "c"), np.array([3, 4, 3]))
    with pytest.raises(ValueError, match="field 'b' has cardinality 4 but 3 at fit"):
        encoder.transform(other)
    with pytest.raises(ValueError, match="already has fields named"):
        encoder.transform(encoder.transform(small_table()))


# ----- one-hot logistic regression -----------------------------------------


def test_one_hot_layout():
    matrix = one_hot(small_table())
    assert matrix.shape == (6, 9)
    assert matrix.sum(axis=1).A1.tolist() == [3] * 6
    assert matrix[4].indices.tolist() == [0, 5, 7]     # a=0 -> column 0; b=2 -> 3+2; c=1 -> 6+1


def test_cross_lifts_xor_auc():
    table, y = xor_table()
    train, valid = table.take(np.arange(1500)), table.take(np.arange(1500, 2000))
    plain = logistic_regression_auc(train, y[:1500], valid, y[1500:])
    crossed = logistic_regression_auc(train, y[:1500], valid, y[1500:], crosses=[("a", "b")])
    assert plain < 0.6
    assert crossed > 0.99
    C, auc = tune_logistic_regression(train, y[:1500], valid, y[1500:], [("a", "b")],
                                      Cs=(0.1, 1.0))
    assert C in (0.1, 1.0)
    assert auc > 0.99


def test_logistic_regression_rejects_bad_labels():
    table, y = xor_table(n=20)
    with pytest.raises(ValueError, match="only 0 and 1, got 2"):
        fit_logistic_regression(table, np.where(y == 1, 2, 0))
    with pytest.raises(ValueError, match="contains NaN at row 1"):
        check_binary_labels("y", np.array([0.0, np.nan, 1.0]))
    with pytest.raises(ValueError, match="only the label 1"):
        fit_logistic_regression(table, np.ones(20, dtype=int))
    with pytest.raises(ValueError, match="19 labels but the table has 20 rows"):
        fit_logistic_regression(table, y[:19])
    with pytest.raises(ValueError, match="C must be > 0.0"):
        fit_logistic_regression(table, y, C=0)
    other = table.select(["a", "b"])
    with pytest.raises(ValueError, match="encode both with the same TableEncoder"):
        logistic_regression_auc(table, y, other, y)
