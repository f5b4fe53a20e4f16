"""MultiGranularityDiscretizer and the feature-data preparation for the crossing searches."""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from threadpoolctl import threadpool_limits

from workbench.features.categorical_table import TableEncoder
from workbench.features.discretize import MultiGranularityDiscretizer
from workbench.features.feature_data import prepare_feature_data


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Run BLAS and OpenMP on one thread, because threads only slow down these many small fits."""
    with threadpool_limits(limits=1):
        yield


def numeric_frame(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"income": rng.lognormal(10, 1, n), "age": rng.uniform(18, 90, n)})
    y = ((frame["age"] > 50) ^ (rng.random(n) < 0.2)).astype(int)
    return frame, y


def test_granularities_bound_the_bucket_counts():
    frame, _ = numeric_frame()
    discretizer = MultiGranularityDiscretizer(keep="all").fit(frame)
    assert discretizer.granularities_ == (10, 100, 1000)
    assert discretizer.kept_columns_ == ["income@10", "income@100", "income@1000",
                                         "age@10", "age@100", "age@1000"]
    output = discretizer.transform(frame)
    for granularity in (10, 100, 1000):
        for column in ("income", "age"):
            buckets = output[f"{column}@{granularity}"]
            assert buckets.min() >= 1
            assert buckets.max() <= granularity
            assert buckets.nunique() <= granularity
    # Continuous values fill every quantile bucket, in nearly equal shares.
    counts = output["income@10"].value_counts()
    assert len(counts) == 10
    assert counts.max() - counts.min() <= 2


def test_uniform_strategy_uses_equal_widths():
    frame = pd.DataFrame({"x": np.linspace(0.0, 10.0, 1001)})
    discretizer = MultiGranularityDiscretizer(granularities=[10], strategy="uniform",
                                              keep="all").fit(frame)
    np.testing.assert_allclose(discretizer.edges_["x", 10], np.arange(1.0, 10.0))
    output = discretizer.transform(pd.DataFrame({"x": [-5.0, 0.5, 9.99, 10.0, 50.0]}))
    assert output["x@10"].tolist() == [1, 1, 10, 10, 10]    # outside the range: end buckets


@pytest.mark.parametrize("max_power, expected", [(1, 1), (2, 1), (3, 2), (4, 2)])
def test_best_half_keeps_ceil_half(max_power, expected):
    frame, y = numeric_frame(n=20_000)
    discretizer = MultiGranularityDiscretizer(max_power=max_power).fit(frame, y)
    kept = discretizer.scores_[discretizer.scores_["kept"]]
    assert expected == math.ceil(max_power / 2)
    assert kept.groupby("column").size().to_dict() == {"age": expected, "income": expected}


def test_best_half_keeps_the_best_scores():
    frame, y = numeric_frame()
    discretizer = MultiGranularityDiscretizer().fit(frame, y)
    for column, group in discretizer.scores_.groupby("column"):
        kept_scores = group.loc[group["kept"], "score"]
        dropped_scores = group.loc[~group["kept"], "score"]
        assert kept_scores.min() >= dropped_scores.max()
    # The label depends on age > 50, so the age buckets beat the income buckets.
    scores = discretizer.scores_.set_index("name")["score"]
    assert scores["age@10"] > 0.7
    assert scores["income@10"] < 0.6


def test_constant_column_gets_one_bucket(caplog):
    frame = pd.DataFrame({"flat": np.full(200, 3.5), "x": np.arange(200.0)})
    y = (frame["x"] > 100).astype(int)
    with caplog.at_level(logging.WARNING, logger="workbench.features.discretize"):
        discretizer = MultiGranularityDiscretizer().fit(frame, y)
    assert "'flat' is constant" in caplog.text
    flat = discretizer.scores_[discretizer.scores_["column"] == "flat"]
    assert flat["n_buckets"].tolist() == [1, 1, 1]
    assert flat["duplicate_of"].tolist()[1:] == [10, 10]
    assert flat.loc[flat["kept"], "name"].tolist() == ["flat@10"]
    assert discretizer.transform(frame)["flat@10"].unique().tolist() == [1]


def test_few_distinct_values_drop_duplicate_granularities():
    frame = pd.DataFrame({"children": np.tile([0, 1, 2, 3, 4], 100)})
    discretizer = MultiGranularityDiscretizer(keep="all").fit(frame)
    assert discretizer.kept_columns_ == ["children@10"]
    assert discretizer.transform(frame)["children@10"].nunique() == 5


def test_missing_values_get_the_missing_bucket():
    values = np.r_[np.arange(100.0), [np.nan] * 20]
    frame = pd.DataFrame({"x": values})
    discretizer = MultiGranularityDiscretizer(granularities=[10], keep="all").fit(frame)
    output = discretizer.transform(frame)
    assert str(output["x@10"].dtype) == "Int64"
    assert output["x@10"].isna().sum() == 20
    table = TableEncoder().fit_transform(output)
    assert (table.column("x@10")[100:] == 0).all()
    assert (table.column("x@10")[:100] > 0).all()


def test_all_missing_column(caplog):
    frame = pd.DataFrame({"empty": [np.nan] * 50, "x": np.arange(50.0)})
    with caplog.at_level(logging.WARNING, logger="workbench.features.discretize"):
        output = MultiGranularityDiscretizer(keep="all").fit_transform(frame)
    assert "no non-missing training value" in caplog.text
    assert output["empty@10"].isna().all()


def test_tiny_frame_still_scores():
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]})
    discretizer = MultiGranularityDiscretizer(max_power=2).fit(frame, [0, 0, 0, 1, 1, 1])
    assert discretizer.scores_["score"].notna().sum() >= 1
    assert len(discretizer.kept_columns_) == 1


def test_transform_keeps_the_index():
    frame, y = numeric_frame(n=500)
    frame.index = np.arange(1000, 1500)
    output = MultiGranularityDiscretizer().fit(frame, y).transform(frame)
    assert output.index.equals(frame.index)
    assert not output.isna().any().any()


def test_discretizer_rejects_bad_input():
    frame, y = numeric_frame(n=100)
    with pytest.raises(ValueError, match="fit needs y"):
        MultiGranularityDiscretizer().fit(frame)
    with pytest.raises(ValueError, match="granularities\\[0\\] must be >= 2"):
        MultiGranularityDiscretizer(granularities=[1, 10]).fit(frame, y)
    with pytest.raises(ValueError, match="repeat a value"):
        MultiGranularityDiscretizer(granularities=[10, 10]).fit(frame, y)
    with pytest.raises(ValueError, match="max_power must be >= 1"):
        MultiGranularityDiscretizer(max_power=0).fit(frame, y)
    with pytest.raises(ValueError, match="strategy must be one of"):
        MultiGranularityDiscretizer(strategy="kmeans").fit(frame, y)
    with pytest.raises(ValueError, match="only 0 and 1"):
        MultiGranularityDiscretizer().fit(frame, y * 3)
    with pytest.raises(ValueError, match="'city' has dtype"):
        MultiGranularityDiscretizer(columns=["city"]).fit(frame.assign(city="x"), y)
    with pytest.raises(ValueError, match="no int or float columns"):
        MultiGranularityDiscretizer().fit(pd.DataFrame({"city": ["x"] * 100}), y)
    with pytest.raises(ValueError, match="infinite values"):
        MultiGranularityDiscretizer().fit(frame.assign(age=np.inf), y)
    with pytest.raises(NotFittedError):
        MultiGranularityDiscretizer().transform(frame)
    fitted = MultiGranularityDiscretizer().fit(frame, y)
    with pytest.raises(ValueError, match=r"\['age'\] are missing"):
        fitted.transform(frame.drop(columns="age"))


# ----- prepare_feature_data -----------------------------------------------


def mixed_frame(n=1000, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"color": rng.choice(["red", "blue", "green"], n),
                          "size": rng.normal(size=n)})
    y = ((frame["color"] == "red") ^ (frame["size"] > 0)).astype(int)
    return frame, y


def test_prepare_splits_and_encodes():
    frame, y = mixed_frame()
    data = prepare_feature_data(frame, y, max_power=2)
    assert (len(data.train), len(data.valid), len(data.test)) == (600, 200, 200)
    assert data.categorical == ["color"]
    assert data.numeric == ["size"]
    assert data.train.field_names[0] == "color"
    assert data.train.field_names[1].startswith("size@")
    assert data.valid.field_names == data.train.field_names
    for split in (data.y_train, data.y_valid, data.y_test):
        assert split.dtype == np.int64
        assert 0.3 < split.mean() < 0.7                    # stratified


def test_prepare_handles_nan_and_unseen():
    frame, y = mixed_frame()
    frame.loc[:99, "size"] = np.nan
    frame.loc[100:199, "color"] = None
    data = prepare_feature_data(frame, y, max_power=1)
    all_codes = np.vstack([data.train.codes, data.valid.codes, data.test.codes])
    assert (all_codes == 0).any(axis=0).all()           # missing values map to index 0


def test_prepare_without_categorical_fields():
    frame, y = mixed_frame()
    data = prepare_feature_data(frame[["size"]], y, max_power=2)
    assert data.categorical == []
    assert data.train.n_fields == 1


def test_prepare_single_categorical_field():
    frame, y = mixed_frame()
    data = prepare_feature_data(frame[["color"]], y)
    assert data.discretizer is None
    assert data.train.field_names == ("color",)


def test_prepare_keeps_constant_field(caplog):
    frame, y = mixed_frame()
    frame["country"] = "nl"
    with caplog.at_level(logging.WARNING, logger="workbench.features.feature_data"):
        data = prepare_feature_data(frame, y, max_power=1)
    assert "'country' is constant" in caplog.text
    assert "country" in data.train.field_names


def test_prepare_rejects_bad_input():
    frame, y = mixed_frame()
    with pytest.raises(ValueError, match="no fields"):
        prepare_feature_data(frame, y, categorical=[], numeric=[])
    with pytest.raises(ValueError, match="both categorical and numeric"):
        prepare_feature_data(frame, y, categorical=["size"], numeric=["size"])
    with pytest.raises(ValueError, match=r"\['zzz'\] are missing"):
        prepare_feature_data(frame, y, categorical=["zzz"])
    with pytest.raises(ValueError, match="3 missing labels"):
        prepare_feature_data(frame, y.astype(float).mask(y.index < 3))
    with pytest.raises(ValueError, match="rarer class"):
        prepare_feature_data(frame, (y.index < 2).astype(int))
    with pytest.raises(TypeError, match="DataFrame"):
        prepare_feature_data(frame.to_numpy(), y)
    with pytest.raises(ValueError, match="cannot infer a field kind"):
        prepare_feature_data(frame.assign(when=pd.Timestamp("2020-01-01")), y)
