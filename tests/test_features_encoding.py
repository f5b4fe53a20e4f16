"""Tests of FieldEncoder, binary_labels and the CTR loaders.

The encoder tests use small hand-made frames whose expected encodings are
worked out by hand or with numpy. The loader tests compare against counts
taken from the raw offline files with plain pandas, and skip when those
files are absent.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from data_fixtures import real_data_module_fixture, require_file  # noqa: F401 (pytest fixture)
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from workbench.data import TabularDataset
from workbench.features import ctr_data as ctr_data_module
from workbench.features.ctr_data import (
    CTRData,
    binary_labels,
    load_criteo_ctr,
    load_movielens_ctr,
)
from workbench.features.encoding import FieldEncoder
from workbench.features.fields import OUT_OF_VOCABULARY, EncodedFields, FieldSpec


def make_train_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "color": ["red", "blue", "red", "green", "red", "blue"],
        "size": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        "tags": ["a|b", "b", "a|b|c", "", "b|a", "c"],
    })


# --- categorical fields ------------------------------------------------------


def test_unseen_category_maps_to_zero():
    encoder = FieldEncoder(categorical=["color"]).fit(make_train_frame())
    encoded = encoder.transform(pd.DataFrame({"color": ["purple", "red", "blue", "green"]}))

    assert encoded.categorical[0, 0] == OUT_OF_VOCABULARY
    assert encoded.categorical[1, 0] != OUT_OF_VOCABULARY
    assert len(set(encoded.categorical[1:, 0])) == 3


def test_vocabulary_most_frequent_first():
    encoder = FieldEncoder(categorical=["color"]).fit(make_train_frame())

    # red occurs 3 times, blue 2, green 1.
    assert encoder.vocabularies_["color"] == ["red", "blue", "green"]
    encoded = encoder.transform(pd.DataFrame({"color": ["red", "blue", "green"]}))
    assert encoded.categorical[:, 0].tolist() == [1, 2, 3]


def test_vocabulary_ties_keep_first_occurrence():
    frame = pd.DataFrame({"letter": ["z", "y", "x", "y", "z", "x"]})
    encoder = FieldEncoder(categorical=["letter"]).fit(frame)

    assert encoder.vocabularies_["letter"] == ["z", "y", "x"]


def test_rare_category_maps_to_zero():
    encoder = FieldEncoder(categorical=["color"], min_count=2).fit(make_train_frame())
    encoded = encoder.transform(pd.DataFrame({"color": ["green", "red", "blue"]}))

    assert encoder.vocabularies_["color"] == ["red", "blue"]
    assert encoder.fields_[0].vocabulary_size == 3
    assert encoded.categorical[:, 0].tolist() == [0, 1, 2]


def test_missing_categories_map_to_zero():
    train = pd.DataFrame({"city": ["x", "y", None, np.nan, "", "  ", "x"]})
    encoder = FieldEncoder(categorical=["city"]).fit(train)

    # Missing values are not vocabulary entries.
    assert encoder.vocabularies_["city"] == ["x", "y"]
    encoded = encoder.transform(train)
    assert encoded.categorical[:, 0].tolist() == [1, 2, 0, 0, 0, 0, 1]


def test_missing_in_category_and_nullable_dtypes():
    train = pd.DataFrame({
        "city": pd.Series(["x", None, "y"], dtype="category"),
        "code": pd.Series([7, None, 7], dtype="Int64"),
        "name": pd.Series(["p", None, ""], dtype="string"),
    })
    encoded = FieldEncoder(categorical=["city", "code", "name"]).fit_transform(train)

    assert encoded.categorical[1].tolist() == [0, 0, 0]
    assert encoded.categorical[0].tolist() == [1, 1, 1]
    assert encoded.categorical[2, 2] == 0


def test_integer_categories_match_across_dtypes():
    encoder = FieldEncoder(categorical=["code"]).fit(pd.DataFrame({"code": [10, 20, 10]}))

    # A NaN in the new frame turns the column into float64.
    encoded = encoder.transform(pd.DataFrame({"code": [20.0, np.nan, 10.0, 30.0]}))
    assert encoded.categorical[:, 0].tolist() == [2, 0, 1, 0]


# --- numeric fields ----------------------------------------------------------


def test_numeric_uses_training_statistics():
    train = pd.DataFrame({"size": [1.0, 2.0, 4.0, np.nan, 8.0]})
    test = pd.DataFrame({"size": [0.0, 10.0, np.nan]})
    encoder = FieldEncoder(numeric=["size"]).fit(train)
    encoded = encoder.transform(test)

    observed = np.array([1.0, 2.0, 4.0, 8.0])
    mean, std = observed.mean(), observed.std()
    assert encoder.mean_[0] == pytest.approx(mean)
    assert encoder.scale_[0] == pytest.approx(std)
    assert encoded.numeric.dtype == np.float32
    assert encoded.numeric[0, 0] == pytest.approx((0.0 - mean) / std, rel=1e-6)
    assert encoded.numeric[1, 0] == pytest.approx((10.0 - mean) / std, rel=1e-6)
    assert encoded.numeric[2, 0] == 0.0


def test_numeric_statistics_ignore_transform_frames():
    train = pd.DataFrame({"size": [1.0, 3.0]})
    encoder = FieldEncoder(numeric=["size"]).fit(train)
    encoder.transform(pd.DataFrame({"size": [100.0, 200.0]}))

    assert encoder.mean_[0] == 2.0
    assert encoder.scale_[0] == 1.0


def test_constant_numeric_field():
    train = pd.DataFrame({"rate": [0.1] * 10})
    encoder = FieldEncoder(numeric=["rate"]).fit(train)

    assert encoder.scale_[0] == 1.0
    assert np.all(encoder.transform(train).numeric == 0.0)
    shifted = encoder.transform(pd.DataFrame({"rate": [1.1, np.nan]})).numeric[:, 0]
    assert shifted[0] == pytest.approx(1.0)
    assert shifted[1] == 0.0


def test_all_missing_numeric_field_encodes_zero():
    train = pd.DataFrame({"rate": [np.nan, np.nan]})
    encoded = FieldEncoder(numeric=["rate"]).fit_transform(train)

    assert np.all(encoded.numeric == 0.0)


def test_bool_and_nullable_numeric_columns():
    train = pd.DataFrame({
        "flag": [True, False, True, False],
        "count": pd.Series([1, None, 3, 2], dtype="Int64"),
    })
    encoded = FieldEncoder(numeric=["flag", "count"]).fit_transform(train)

    assert encoded.numeric[:, 0].tolist() == [1.0, -1.0, 1.0, -1.0]
    assert encoded.numeric[1, 1] == 0.0


# --- multi-valued fields -----------------------------------------------------


def test_multi_vocabulary_and_padding():
    encoder = FieldEncoder(multi=["tags"]).fit(make_train_frame())

    # Item counts in training: b 4, a 3, c 2. The max cell length is 3 items.
    assert encoder.vocabularies_["tags"] == ["b", "a", "c"]
    assert encoder.multi_length_ == 3
    assert encoder.fields_ == (FieldSpec("tags", "multi", 4),)
    encoded = encoder.transform(pd.DataFrame({"tags": ["a|c", "b", None, "", "z|a"]}))
    assert encoded.multi.shape == (5, 1, 3)
    assert encoded.multi[0, 0].tolist() == [2, 3, 0]
    assert encoded.multi[1, 0].tolist() == [1, 0, 0]
    assert encoded.multi[2, 0].tolist() == [0, 0, 0]
    assert encoded.multi[3, 0].tolist() == [0, 0, 0]
    # The unseen item z is dropped, so a keeps the first position.
    assert encoded.multi[4, 0].tolist() == [2, 0, 0]


def test_multi_list_cells_and_whitespace():
    train = pd.DataFrame({"tags": [["a", "b"], ("b",), np.array(["c", "a"]), [], None, " a | c "]})
    encoded = FieldEncoder(multi=["tags"]).fit_transform(train)

    encoder = FieldEncoder(multi=["tags"]).fit(train)
    assert encoder.vocabularies_["tags"] == ["a", "b", "c"]
    assert encoded.multi[:, 0].tolist() == [
        [1, 2], [2, 0], [3, 1], [0, 0], [0, 0], [1, 3],
    ]


def test_multi_custom_separator():
    train = pd.DataFrame({"tags": ["a,b", "b"]})
    encoded = FieldEncoder(multi=["tags"], multi_separator=",").fit_transform(train)

    assert encoded.multi[:, 0].tolist() == [[2, 1], [1, 0]]


def test_multi_max_length_truncates():
    encoder = FieldEncoder(multi=["tags"], max_multi_length=2).fit(make_train_frame())
    encoded = encoder.transform(pd.DataFrame({"tags": ["c|a|b"]}))

    assert encoder.multi_length_ == 2
    assert encoded.multi[0, 0].tolist() == [3, 2]


def test_multi_length_after_min_count():
    train = pd.DataFrame({"tags": ["a|x|y", "a", "a|b", "b"]})
    encoder = FieldEncoder(multi=["tags"], min_count=2).fit(train)

    assert encoder.vocabularies_["tags"] == ["a", "b"]
    # The first cell keeps only "a", so the max in-vocabulary cell length is 2.
    assert encoder.multi_length_ == 2
    assert encoder.transform(train).multi[0, 0].tolist() == [1, 0]


def test_multi_all_empty_has_length_one():
    encoded = FieldEncoder(multi=["tags"]).fit_transform(pd.DataFrame({"tags": ["", None]}))

    assert encoded.multi.shape == (2, 1, 1)
    assert np.all(encoded.multi == 0)


# --- layout ------------------------------------------------------------------


def test_fields_order_and_vocabulary_sizes():
    frame = make_train_frame().assign(shape=["o", "o", "x", "o", "x", "o"], weight=1.0)
    encoder = FieldEncoder(
        categorical=["shape", "color"], numeric=["weight", "size"], multi=["tags"]
    ).fit(frame)

    assert encoder.fields_ == (
        FieldSpec("shape", "categorical", 3),
        FieldSpec("color", "categorical", 4),
        FieldSpec("weight", "numeric", 1),
        FieldSpec("size", "numeric", 1),
        FieldSpec("tags", "multi", 4),
    )
    encoded = encoder.transform(frame)
    assert isinstance(encoded, EncodedFields)
    assert encoded.field_names == ["shape", "color", "weight", "size", "tags"]
    assert encoded.categorical.shape == (6, 2)
    assert encoded.categorical.dtype == np.int64
    assert encoded.numeric.shape == (6, 2)
    assert encoded.multi.shape == (6, 1, 3)
    assert encoded.multi.dtype == np.int64
    for field, column in zip(encoded.fields[:2], encoded.categorical.T):
        assert column.max() < field.vocabulary_size


def test_take_selects_rows():
    frame = make_train_frame()
    encoded = FieldEncoder(["color"], ["size"], ["tags"]).fit_transform(frame)
    rows = np.array([4, 1])
    part = encoded.take(rows)

    assert len(part) == 2
    assert part.fields == encoded.fields
    np.testing.assert_array_equal(part.categorical, encoded.categorical[rows])
    np.testing.assert_array_equal(part.numeric, encoded.numeric[rows])
    np.testing.assert_array_equal(part.multi, encoded.multi[rows])
    mask = frame["color"].to_numpy() == "red"
    assert len(encoded.take(mask)) == 3


def test_fit_transform_equals_fit_then_transform():
    frame = make_train_frame()
    together = FieldEncoder(["color"], ["size"], ["tags"]).fit_transform(frame)
    apart = FieldEncoder(["color"], ["size"], ["tags"]).fit(frame).transform(frame)

    np.testing.assert_array_equal(together.categorical, apart.categorical)
    np.testing.assert_array_equal(together.numeric, apart.numeric)
    np.testing.assert_array_equal(together.multi, apart.multi)


def test_single_field_kinds():
    frame = make_train_frame()

    only_categorical = FieldEncoder(categorical=["color"]).fit_transform(frame)
    assert only_categorical.categorical.shape == (6, 1)
    assert only_categorical.numeric.shape == (6, 0)
    assert only_categorical.multi.shape == (6, 0, 0)

    only_numeric = FieldEncoder(numeric=["size"]).fit_transform(frame)
    assert only_numeric.categorical.shape == (6, 0)
    assert only_numeric.numeric.shape == (6, 1)

    only_multi = FieldEncoder(multi=["tags"]).fit_transform(frame)
    assert only_multi.categorical.shape == (6, 0)
    assert only_multi.multi.shape == (6, 1, 3)


def test_transform_extra_columns_and_empty_frame():
    encoder = FieldEncoder(["color"], ["size"], ["tags"]).fit(make_train_frame())
    extra = make_train_frame().assign(unused=0)

    assert encoder.transform(extra).field_names == ["color", "size", "tags"]
    empty = encoder.transform(make_train_frame().iloc[:0])
    assert len(empty) == 0
    assert empty.multi.shape == (0, 1, 3)


def test_inferred_kinds_by_dtype():
    frame = pd.DataFrame({
        "count": [1, 2, 3],
        "label": ["a", "b", "a"],
        "flag": [True, False, True],
        "group": pd.Series(["u", "v", "u"], dtype="category"),
        "price": [0.5, 1.5, 2.5],
        "text": pd.Series(["p", "q", "p"], dtype="string"),
    })
    encoder = FieldEncoder().fit(frame)

    assert encoder.categorical_ == ["label", "flag", "group", "text"]
    assert encoder.numeric_ == ["count", "price"]
    assert encoder.multi_ == []
    assert [field.kind for field in encoder.fields_] == ["categorical"] * 4 + ["numeric"] * 2


def test_fit_keeps_frame_and_parameters():
    frame = make_train_frame()
    before = frame.copy()
    columns = ["color"]
    encoder = FieldEncoder(categorical=columns, min_count=1)
    encoder.fit(frame)

    pd.testing.assert_frame_equal(frame, before)
    assert encoder.categorical is columns
    assert encoder.get_params()["min_count"] == 1
    assert not hasattr(clone(encoder), "fields_")


# --- bad input ---------------------------------------------------------------


def test_frame_must_be_dataframe():
    with pytest.raises(TypeError, match="frame must be a pandas DataFrame, got ndarray"):
        FieldEncoder(categorical=[0]).fit(np.zeros((2, 2)))
    encoder = FieldEncoder(categorical=["color"]).fit(make_train_frame())
    with pytest.raises(TypeError, match="got dict"):
        encoder.transform({"color": ["red"]})


def test_transform_before_fit_raises():
    with pytest.raises(NotFittedError, match="not fitted"):
        FieldEncoder(categorical=["color"]).transform(make_train_frame())


def test_unknown_column_at_fit_names_it():
    with pytest.raises(ValueError, match=r"\['weight'\] are missing from the frame passed to fit"):
        FieldEncoder(categorical=["color"], numeric=["weight"]).fit(make_train_frame())


def test_missing_column_at_transform_names_it():
    encoder = FieldEncoder(["color"], ["size"], ["tags"]).fit(make_train_frame())

    with pytest.raises(ValueError, match=r"\['size'\] are missing .* passed to transform"):
        encoder.transform(make_train_frame().drop(columns=["size"]))
    renamed = make_train_frame().rename(columns={"tags": "labels", "color": "colour"})
    with pytest.raises(ValueError, match=r"\['color', 'tags'\]"):
        encoder.transform(renamed)


def test_same_column_in_two_kinds():
    with pytest.raises(ValueError, match="'size' is listed as both categorical and numeric"):
        FieldEncoder(categorical=["size"], numeric=["size"]).fit(make_train_frame())
    with pytest.raises(ValueError, match="'tags' is listed as both categorical and multi"):
        FieldEncoder(categorical=["tags"], multi=["tags"]).fit(make_train_frame())


def test_no_fields_raises():
    with pytest.raises(ValueError, match="no fields to encode"):
        FieldEncoder(categorical=[], numeric=[], multi=[]).fit(make_train_frame())
    with pytest.raises(ValueError, match="frame has no columns"):
        FieldEncoder().fit(pd.DataFrame(index=range(3)))


def test_non_numeric_numeric_column_names_it():
    with pytest.raises(ValueError, match="numeric column 'color' has dtype"):
        FieldEncoder(numeric=["color"]).fit(make_train_frame())

    encoder = FieldEncoder(numeric=["size"]).fit(make_train_frame())
    text = pd.DataFrame({"size": ["1.0", "2.0"]})
    with pytest.raises(ValueError, match="numeric column 'size'.*pandas.to_numeric"):
        encoder.transform(text)


def test_infinite_numeric_value_raises():
    with pytest.raises(ValueError, match="numeric column 'size' contains infinite"):
        FieldEncoder(numeric=["size"]).fit(pd.DataFrame({"size": [1.0, np.inf]}))


def test_column_list_must_be_a_list():
    with pytest.raises(TypeError, match=r"categorical must be a list .* pass \['color'\]"):
        FieldEncoder(categorical="color").fit(make_train_frame())
    with pytest.raises(TypeError, match="numeric must be a list"):
        FieldEncoder(numeric=5).fit(make_train_frame())
    with pytest.raises(ValueError, match=r"lists columns \['color'\] more than once"):
        FieldEncoder(categorical=["color", "color"]).fit(make_train_frame())


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"min_count": 0}, ValueError, "min_count must be >= 1"),
        ({"min_count": 1.5}, TypeError, "min_count must be an integer"),
        ({"min_count": True}, TypeError, "min_count must be an integer"),
        ({"multi_separator": ""}, ValueError, "multi_separator must be a non-empty"),
        ({"multi_separator": None}, TypeError, "multi_separator must be a str"),
        ({"max_multi_length": 0}, ValueError, "max_multi_length must be >= 1"),
    ],
)
def test_invalid_options(options, error, message):
    with pytest.raises(error, match=message):
        FieldEncoder(categorical=["color"], multi=["tags"], **options).fit(make_train_frame())


def test_empty_training_frame_raises():
    with pytest.raises(ValueError, match="frame has no rows"):
        FieldEncoder(categorical=["color"]).fit(make_train_frame().iloc[:0])


def test_uninferable_dtype_names_column():
    frame = pd.DataFrame({"when": pd.to_datetime(["2020-01-01", "2021-01-01"]), "n": [1, 2]})
    with pytest.raises(ValueError, match="cannot infer a field kind for columns 'when'"):
        FieldEncoder().fit(frame)


def test_list_values_in_categorical_column():
    frame = pd.DataFrame({"tags": [["a"], ["b"]]})
    with pytest.raises(ValueError, match="column 'tags' contains unhashable values"):
        FieldEncoder(categorical=["tags"]).fit(frame)


def test_duplicate_frame_columns_raise():
    frame = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.raises(ValueError, match=r"\['a'\] occur more than once"):
        FieldEncoder(numeric=["a"]).fit(frame)


# --- binary labels -----------------------------------------------------------


def test_binary_labels_accepts_zero_one():
    for values in ([0, 1, 1], np.array([0.0, 1.0, 1.0]), pd.Series([False, True, True])):
        labels = binary_labels(values, "click")
        assert labels.dtype == np.int64
        assert labels.tolist() == [0, 1, 1]


@pytest.mark.parametrize(
    "values",
    [[0, 1, 2], [0.0, np.nan], [-1, 1], [0.5, 1.0], pd.Series([0, None], dtype="Int64")],
)
def test_binary_labels_rejects_other_values(values):
    with pytest.raises(ValueError, match="label column 'click' must contain only 0 and 1"):
        binary_labels(values, "click")


def test_binary_labels_rejects_text_and_shape():
    with pytest.raises(ValueError, match="label column 'click' has dtype"):
        binary_labels(["0", "1"], "click")
    with pytest.raises(ValueError, match="label column 'click' must be one-dimensional"):
        binary_labels(np.zeros((2, 2)), "click")


def test_ctr_data_checks_lengths():
    frame = pd.DataFrame({"a": [1, 2]})
    labels = np.array([0, 1])
    with pytest.raises(ValueError, match="train has 2 rows but y_train has 1 labels"):
        CTRData(frame, frame, frame, labels[:1], labels, labels, ["a"], [], [], "toy")
    with pytest.raises(ValueError, match=r"\['b'\] are listed but missing from train"):
        CTRData(frame, frame, frame, labels, labels, labels, ["b"], [], [], "toy")


# --- loaders: arguments and label checks -------------------------------------


@pytest.mark.parametrize(
    ("seed", "error"), [(-1, ValueError), ("0", TypeError), (None, TypeError)]
)
def test_loaders_check_seed(seed, error):
    with pytest.raises(error, match="seed"):
        load_movielens_ctr(seed=seed)
    with pytest.raises(error, match="seed"):
        load_criteo_ctr(seed=seed)


def test_movielens_ctr_invalid_variant():
    with pytest.raises(ValueError, match="variant='10m'"):
        load_movielens_ctr("10m")


def test_criteo_ctr_rejects_non_binary_label(monkeypatch):
    frame = pd.DataFrame({"I1": [1.0, 5.0], "C1": pd.Series(["a", "b"], dtype="category")})
    target = pd.Series([0, 2], name="label")
    fake = TabularDataset("criteo_sample", frame, target, ["C1"], ["I1"], "multiclass")
    monkeypatch.setattr(ctr_data_module, "load_criteo_sample", lambda download=True: fake)

    with pytest.raises(ValueError, match="label column 'label' must contain only 0 and 1"):
        load_criteo_ctr()


# --- loaders on the offline data ---------------------------------------------


@pytest.fixture(scope="module")
def movielens_raw(real_data_module):
    ratings_path = require_file("movielens_100k", "u.data")
    return pd.read_csv(ratings_path, sep="\t", names=["user", "item", "rating", "timestamp"])


@pytest.fixture(scope="module")
def movielens(movielens_raw):
    return load_movielens_ctr("100k", seed=0)


def test_movielens_ctr_drops_neutral_ratings(movielens, movielens_raw):
    non_neutral = movielens_raw[movielens_raw["rating"] != 3]
    n_rows = len(movielens.train) + len(movielens.validation) + len(movielens.test)
    labels = np.concatenate([movielens.y_train, movielens.y_validation, movielens.y_test])

    assert n_rows == len(non_neutral)
    assert labels.dtype == np.int64
    assert set(np.unique(labels)) == {0, 1}
    assert labels.mean() == pytest.approx((non_neutral["rating"] > 3).mean())


def test_movielens_ctr_split_sizes(movielens, movielens_raw):
    n_rows = int((movielens_raw["rating"] != 3).sum())

    assert len(movielens.validation) == n_rows // 10
    assert len(movielens.test) == n_rows // 10
    assert len(movielens.train) == n_rows - 2 * (n_rows // 10)
    assert len(movielens.y_train) == len(movielens.train)


def test_movielens_ctr_seven_fields(movielens):
    assert movielens.categorical == ["gender", "age", "occupation", "zip_code", "release_time"]
    assert movielens.numeric == ["request_time"]
    assert movielens.multi == ["genres"]
    assert sorted(movielens.train.columns) == sorted(
        movielens.categorical + movielens.numeric + movielens.multi
    )
    assert movielens.name == "movielens_100k_ctr"


def test_movielens_ctr_field_values(movielens, movielens_raw):
    train = movielens.train
    assert set(train["age"].unique()) <= {1, 18, 25, 35, 45, 50, 56}
    assert train["request_time"].min() >= movielens_raw["timestamp"].min()
    assert train["request_time"].max() <= movielens_raw["timestamp"].max()

    periods = train["release_time"].dropna().astype(str)
    single_years = periods[~periods.str.endswith("s")].astype(int)
    decades = periods[periods.str.endswith("s")].str[:-1].astype(int)
    assert single_years.min() >= 1970
    assert decades.max() < 1970
    assert (decades % 10 == 0).all()


def test_movielens_ctr_genres_are_multi_valued(movielens):
    encoder = movielens.field_encoder().fit(movielens.train)
    encoded = encoder.transform(movielens.test)
    genres = encoded.multi[:, 0, :]
    items_per_row = (genres != 0).sum(axis=1)
    expected = movielens.test["genres"].str.split("|").str.len().to_numpy()

    assert items_per_row.max() >= 2
    np.testing.assert_array_equal(items_per_row, expected)
    assert encoder.multi_length_ == movielens.train["genres"].str.count(r"\|").max() + 1
    assert encoder.fields_[-1] == FieldSpec(
        "genres", "multi", len(set("|".join(movielens.train["genres"]).split("|"))) + 1
    )


def test_movielens_ctr_seed_reproducible(movielens):
    again = load_movielens_ctr("100k", seed=0)
    other = load_movielens_ctr("100k", seed=1)

    pd.testing.assert_frame_equal(again.train, movielens.train)
    np.testing.assert_array_equal(again.y_test, movielens.y_test)
    assert len(other.train) == len(movielens.train)
    assert not other.test.equals(movielens.test)


@pytest.fixture(scope="module")
def criteo_raw(real_data_module):
    parts = [
        pd.read_csv(require_file("criteo_sample", f"{split}.csv.gz"), sep="\t", header=None)
        for split in ("train", "dev", "test")
    ]
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def criteo(criteo_raw):
    return load_criteo_ctr(seed=0)


def test_criteo_ctr_fields_and_splits(criteo):
    assert criteo.numeric == [f"I{i}" for i in range(1, 14)]
    assert criteo.categorical == [f"C{i}" for i in range(1, 27)]
    assert criteo.multi == []
    assert (len(criteo.train), len(criteo.validation), len(criteo.test)) == (6400, 800, 800)
    assert criteo.train.shape[1] == 39

    encoder = criteo.field_encoder(min_count=2).fit(criteo.train)
    kinds = [field.kind for field in encoder.fields_]
    assert kinds.count("categorical") == 26
    assert kinds.count("numeric") == 13


def test_criteo_ctr_labels_match_file(criteo, criteo_raw):
    labels = np.concatenate([criteo.y_train, criteo.y_validation, criteo.y_test])

    assert labels.dtype == np.int64
    assert labels.sum() == criteo_raw[0].sum()


def test_criteo_ctr_log_transform(criteo, criteo_raw):
    raw_i2 = criteo_raw[2]    # column 0 is the label, so column n is In
    features = pd.concat([criteo.train, criteo.validation, criteo.test])

    assert features["I2"].max() == pytest.approx(math.log(raw_i2.max()) ** 2)
    assert features["I2"].min() == raw_i2.min()
    assert features["I1"].isna().sum() == criteo_raw[1].isna().sum()
    raw_i10 = criteo_raw[10].dropna().unique()
    expected = sorted(value if value <= 2 else math.log(value) ** 2 for value in raw_i10)
    assert sorted(features["I10"].dropna().unique()) == pytest.approx(expected)


def test_criteo_ctr_seed_reproducible(criteo):
    again = load_criteo_ctr(seed=0)
    other = load_criteo_ctr(seed=7)

    pd.testing.assert_frame_equal(again.validation, criteo.validation)
    np.testing.assert_array_equal(again.y_train, criteo.y_train)
    assert not other.validation.equals(criteo.validation)


def test_all_unseen_column_logs_a_warning(caplog):
    import logging

    from workbench.features import FieldEncoder

    frame = pd.DataFrame({"age": [25, 30, 35] * 10, "city": ["a", "b", "c"] * 10})
    encoder = FieldEncoder(categorical=["age", "city"]).fit(frame)
    with caplog.at_level(logging.WARNING, logger="workbench.features.encoding"):
        encoded = encoder.transform(frame.assign(age=frame["age"].astype(str)))
    assert not encoded.categorical[:, 0].any()
    assert any("every value of column 'age' is unseen" in record.message
               for record in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="workbench.features.encoding"):
        encoder.transform(frame)
    assert caplog.records == []
