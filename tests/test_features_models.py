"""Tests of the field embedding, the CTR models, the training loop and CTRClassifier.

All data is synthetic and built here. Expected values come from explicit
loops and table lookups written in the tests, never from the code under test.
"""

from __future__ import annotations

import importlib.util
import logging
import math

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score
from torch import nn

from workbench.features.attention import masked_softmax
from workbench.features.autoint import AutoInt, AutoIntPlus
from workbench.features.classifier import (
    MODEL_CLASSES,
    CTRClassifier,
    build_ctr_model,
    train_ctr_model,
)
from workbench.features.embedding import FieldEmbedding, as_field_mask, to_tensors
from workbench.features.fields import OUT_OF_VOCABULARY, EncodedFields, FieldSpec
from workbench.features.fignn import FiGNN
from workbench.features.linear_models import FactorizationMachine, LogisticRegressionCTR

torch.set_num_threads(1)

FIELDS = (
    FieldSpec("city", "categorical", 5),
    FieldSpec("device", "categorical", 4),
    FieldSpec("hour", "categorical", 7),
    FieldSpec("price", "numeric"),
    FieldSpec("age", "numeric"),
    FieldSpec("genres", "multi", 6),
)
MAX_GENRES = 3


def make_encoded(n_rows: int, seed: int = 0) -> EncodedFields:
    """Random rows over FIELDS, with some out-of-vocabulary and padded entries."""
    rng = np.random.default_rng(seed)
    categorical = np.column_stack([rng.integers(0, field.vocabulary_size, n_rows)
                                   for field in FIELDS if field.kind == "categorical"])
    numeric = rng.normal(size=(n_rows, 2)).astype(np.float32)
    multi = rng.integers(0, 6, size=(n_rows, 1, MAX_GENRES))
    return EncodedFields(FIELDS, categorical.astype(np.int64), numeric, multi.astype(np.int64))


def build_model(name: str, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    if name == "lr":
        return LogisticRegressionCTR(FIELDS)
    if name == "fm":
        return FactorizationMachine(FIELDS, embedding_dim=4)
    if name == "autoint":
        return AutoInt(FIELDS, embedding_dim=4, num_layers=2, num_heads=2)
    if name == "autoint+":
        return AutoIntPlus(FIELDS, embedding_dim=4, num_layers=2, num_heads=2, hidden_units=(8,))
    return FiGNN(FIELDS, embedding_dim=4, num_heads=2, num_steps=2)


MODEL_NAMES = ["lr", "fm", "autoint", "autoint+", "fignn"]


# --- embedding layer ---------------------------------------------------------


def test_embedding_output_shape():
    layer = FieldEmbedding(FIELDS, dim=5)
    output = layer(to_tensors(make_encoded(7)))
    assert output.shape == (7, len(FIELDS), 5)


def test_to_tensors_dtypes():
    tensors = to_tensors(make_encoded(4))
    assert tensors["categorical"].dtype == torch.long
    assert tensors["numeric"].dtype == torch.float32
    assert tensors["multi"].dtype == torch.long
    assert tensors["multi"].shape == (4, 1, MAX_GENRES)


def test_embedding_categorical_and_numeric_lookup():
    torch.manual_seed(0)
    layer = FieldEmbedding(FIELDS, dim=3)
    encoded = make_encoded(5)
    output = layer(to_tensors(encoded)).detach()

    for row in range(5):
        for column in range(3):
            expected = layer.categorical_tables[column].weight[encoded.categorical[row, column]]
            torch.testing.assert_close(output[row, column], expected.detach())
        for column in range(2):
            # e_m = v_m * x_m
            expected = layer.numeric_vectors[column] * float(encoded.numeric[row, column])
            torch.testing.assert_close(output[row, 3 + column], expected.detach())


def test_multi_mean_skips_padding():
    layer = FieldEmbedding(FIELDS, dim=3)
    encoded = make_encoded(3)
    multi = np.array([[[2, 5, 0]], [[4, 0, 0]], [[0, 0, 0]]], dtype=np.int64)
    encoded = EncodedFields(FIELDS, encoded.categorical, encoded.numeric, multi)
    output = layer(to_tensors(encoded)).detach()
    table = layer.multi_tables[0].weight.detach()

    torch.testing.assert_close(output[0, 5], (table[2] + table[5]) / 2)
    torch.testing.assert_close(output[1, 5], table[4])
    # A row without any known genre gets the out-of-vocabulary vector.
    torch.testing.assert_close(output[2, 5], table[OUT_OF_VOCABULARY])


def test_out_of_vocabulary_index_zero():
    encoded = make_encoded(4)
    zeros = EncodedFields(FIELDS, np.zeros_like(encoded.categorical), encoded.numeric,
                          np.zeros_like(encoded.multi))
    layer = FieldEmbedding(FIELDS, dim=3)
    output = layer(to_tensors(zeros)).detach()
    torch.testing.assert_close(output[0, 0], layer.categorical_tables[0].weight[0].detach())

    for name in MODEL_NAMES:
        logits = build_model(name)(to_tensors(zeros))
        assert logits.shape == (4,)
        assert torch.isfinite(logits).all(), name


def test_embedding_index_past_vocabulary():
    encoded = make_encoded(3)
    categorical = encoded.categorical.copy()
    categorical[1, 1] = 4        # the "device" field has vocabulary_size 4: indices 0..3
    bad = EncodedFields(FIELDS, categorical, encoded.numeric, encoded.multi)
    with pytest.raises(ValueError, match="'device'"):
        FieldEmbedding(FIELDS, dim=2)(to_tensors(bad))

    multi = encoded.multi.copy()
    multi[0, 0, 2] = 6
    bad = EncodedFields(FIELDS, encoded.categorical, encoded.numeric, multi)
    with pytest.raises(ValueError, match="'genres'"):
        FieldEmbedding(FIELDS, dim=2)(to_tensors(bad))


def test_embedding_field_mask_zeroes_fields():
    layer = FieldEmbedding(FIELDS, dim=3)
    mask = np.array([True, False, True, True, False, True])
    output = layer(to_tensors(make_encoded(4)), mask).detach()
    assert torch.all(output[:, 1] == 0)
    assert torch.all(output[:, 4] == 0)
    assert torch.any(output[:, 0] != 0)


def test_embedding_bad_arguments():
    with pytest.raises(ValueError, match="categorical fields first"):
        FieldEmbedding((FieldSpec("price", "numeric"), FieldSpec("city", "categorical", 3)), 2)
    with pytest.raises(ValueError, match="dim"):
        FieldEmbedding(FIELDS, dim=0)
    with pytest.raises(ValueError, match="at least one FieldSpec"):
        FieldEmbedding((), dim=2)
    with pytest.raises(TypeError, match="FieldSpec"):
        FieldEmbedding(["city"], dim=2)
    with pytest.raises(ValueError, match="kind"):
        FieldEmbedding((FieldSpec("city", "text", 3),), dim=2)
    with pytest.raises(TypeError, match="EncodedFields"):
        to_tensors({"categorical": np.zeros((2, 3))})
    with pytest.raises(ValueError, match="missing the keys"):
        FieldEmbedding(FIELDS, dim=2)({"categorical": torch.zeros(2, 3, dtype=torch.long)})


def test_field_mask_bad_values():
    with pytest.raises(ValueError, match="shape"):
        as_field_mask([True, False], 3)
    with pytest.raises(TypeError, match="boolean"):
        as_field_mask([1, 0, 1], 3)
    with pytest.raises(ValueError, match="at least one field"):
        as_field_mask([False, False, False], 3)
    assert as_field_mask(None, 3) is None


def test_masked_softmax_empty_slice_is_zero():
    scores = torch.tensor([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    allowed = torch.tensor([[True, False, True], [False, False, False]])
    weights = masked_softmax(scores, allowed)
    expected = torch.tensor([math.exp(1), 0.0, math.exp(3)]) / (math.exp(1) + math.exp(3))
    torch.testing.assert_close(weights[0], expected)
    assert torch.all(weights[1] == 0)


# --- models ------------------------------------------------------------------


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_model_output_shape(name):
    model = build_model(name)
    logits = model(to_tensors(make_encoded(9)))
    assert logits.shape == (9,)
    assert torch.isfinite(logits).all()


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_field_mask_changes_predictions(name):
    model = build_model(name)
    tensors = to_tensors(make_encoded(32))
    full = model(tensors).detach()
    mask = np.ones(len(FIELDS), dtype=bool)
    mask[0] = False
    masked = model(tensors, field_mask=mask).detach()
    assert not torch.allclose(full, masked)

    # With field 0 removed, its values no longer matter.
    changed = dict(tensors)
    changed["categorical"] = tensors["categorical"].clone()
    changed["categorical"][:, 0] = (changed["categorical"][:, 0] + 1) % FIELDS[0].vocabulary_size
    torch.testing.assert_close(model(changed, field_mask=mask).detach(), masked)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_model_seed_reproducibility(name):
    tensors = to_tensors(make_encoded(8))
    first = build_model(name, seed=3)(tensors).detach()
    second = build_model(name, seed=3)(tensors).detach()
    other = build_model(name, seed=4)(tensors).detach()
    torch.testing.assert_close(first, second, rtol=0, atol=0)
    assert not torch.allclose(first, other)


def test_logistic_regression_sums_weights():
    model = build_model("lr")
    encoded = make_encoded(6)
    logits = model(to_tensors(encoded)).detach()
    tables = model.weights.categorical_tables
    genre_table = model.weights.multi_tables[0].weight.detach()

    for row in range(6):
        expected = float(model.bias.detach())
        for column in range(3):
            expected += float(tables[column].weight[encoded.categorical[row, column], 0].detach())
        for column in range(2):
            expected += float(model.weights.numeric_vectors[column, 0].detach()) * float(
                encoded.numeric[row, column])
        genres = [g for g in encoded.multi[row, 0] if g != 0]
        expected += (float(np.mean([genre_table[g, 0] for g in genres])) if genres
                     else float(genre_table[0, 0]))
        assert float(logits[row]) == pytest.approx(expected, abs=1e-5)


def test_fm_square_of_sum_equals_pairwise():
    torch.manual_seed(0)
    embeddings = torch.randn(5, 6, 4)
    explicit = torch.zeros(5)
    for i in range(6):
        for j in range(i + 1, 6):
            explicit += (embeddings[:, i] * embeddings[:, j]).sum(dim=1)
    torch.testing.assert_close(FactorizationMachine.pairwise_interactions(embeddings), explicit)


def test_fm_forward_is_bias_linear_pairwise():
    model = build_model("fm")
    tensors = to_tensors(make_encoded(5))
    embeddings = model.factors(tensors).detach()
    expected = model.bias.detach() + model.linear(tensors).detach().sum(dim=(1, 2))
    for i in range(len(FIELDS)):
        for j in range(i + 1, len(FIELDS)):
            expected = expected + (embeddings[:, i] * embeddings[:, j]).sum(dim=1)
    torch.testing.assert_close(model(tensors).detach(), expected)


@pytest.mark.parametrize("name", ["autoint", "autoint+"])
def test_autoint_attention_rows_sum_to_one(name):
    model = build_model(name)
    maps = model.attention_maps(to_tensors(make_encoded(10)))
    weights = maps["weights"]
    assert weights.shape == (10, 2, 2, len(FIELDS), len(FIELDS))
    assert maps["mean"].shape == (2, 2, len(FIELDS), len(FIELDS))
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, atol=1e-5)
    assert (weights >= 0).all()
    np.testing.assert_allclose(maps["mean"], weights.mean(axis=0), atol=1e-6)


def test_autoint_attention_with_mask():
    model = build_model("autoint")
    mask = np.array([True, True, False, True, True, True])
    weights = model.attention_maps(to_tensors(make_encoded(10)), field_mask=mask)["weights"]
    assert np.all(weights[..., 2, :] == 0)
    assert np.all(weights[..., :, 2] == 0)
    np.testing.assert_allclose(weights[..., mask, :].sum(axis=-1), 1.0, atol=1e-5)


def test_attention_maps_keep_training_mode():
    model = build_model("autoint")
    model.train()
    model.attention_maps(to_tensors(make_encoded(3)))
    assert model.training


def test_fignn_attention_maps():
    model = build_model("fignn")
    maps = model.attention_maps(to_tensors(make_encoded(10)))
    edges, nodes = maps["edge_weights"], maps["node_weights"]
    n_fields = len(FIELDS)
    assert edges.shape == (10, n_fields, n_fields)
    assert nodes.shape == (10, n_fields)
    assert maps["edge_mean"].shape == (n_fields, n_fields)
    assert maps["node_mean"].shape == (n_fields,)
    np.testing.assert_allclose(edges.sum(axis=-1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(np.diagonal(edges, axis1=1, axis2=2), 0.0)
    np.testing.assert_allclose(nodes.sum(axis=-1), 1.0, atol=1e-5)


def test_fignn_attention_with_mask():
    model = build_model("fignn")
    mask = np.array([False, True, True, True, True, True])
    maps = model.attention_maps(to_tensors(make_encoded(10)), field_mask=mask)
    assert np.all(maps["edge_weights"][:, :, 0] == 0)
    assert np.all(maps["node_weights"][:, 0] == 0)
    np.testing.assert_allclose(maps["edge_weights"][:, 1:].sum(axis=-1), 1.0, atol=1e-5)


def test_fignn_single_kept_field_is_finite():
    model = build_model("fignn")
    mask = np.array([False, False, True, False, False, False])
    logits = model(to_tensors(make_encoded(4)), field_mask=mask)
    assert torch.isfinite(logits).all()


def test_model_bad_hyperparameters():
    with pytest.raises(ValueError, match="num_heads"):
        AutoInt(FIELDS, num_heads=0)
    with pytest.raises(ValueError, match="num_layers"):
        AutoInt(FIELDS, num_layers=0)
    with pytest.raises(TypeError, match="embedding_dim"):
        FiGNN(FIELDS, embedding_dim=2.5)
    with pytest.raises(ValueError, match="num_steps"):
        FiGNN(FIELDS, num_steps=0)
    with pytest.raises(TypeError, match="hidden_units"):
        AutoIntPlus(FIELDS, hidden_units=64)
    with pytest.raises(ValueError, match="dropout"):
        AutoIntPlus(FIELDS, dropout=1.5)


# --- planted interaction -------------------------------------------------------


def make_xor_rows(n_rows: int, seed: int) -> tuple[EncodedFields, np.ndarray]:
    """Five categorical fields; the label is field 0 XOR field 1, with 10% of labels flipped."""
    rng = np.random.default_rng(seed)
    fields = (FieldSpec("a", "categorical", 3), FieldSpec("b", "categorical", 3),
              *(FieldSpec(f"noise{i}", "categorical", 5) for i in range(3)))
    categorical = np.column_stack([rng.integers(1, 3, n_rows), rng.integers(1, 3, n_rows),
                                   *(rng.integers(1, 5, n_rows) for _ in range(3))])
    labels = (categorical[:, 0] == 1) ^ (categorical[:, 1] == 1)
    flipped = rng.random(n_rows) < 0.1
    labels = np.where(flipped, ~labels, labels).astype(np.float32)
    encoded = EncodedFields(fields, categorical.astype(np.int64),
                            np.zeros((n_rows, 0), np.float32), np.zeros((n_rows, 0, 0), np.int64))
    return encoded, labels


def test_autoint_attends_to_planted_pair():
    """The XOR pair (fields 0 and 1) gets the largest mean attention off the diagonal.

    One interacting layer: in deeper stacks, the ReLU after the first layer's
    value sum can already compute the XOR with near-uniform attention, so the
    first layer's map carries less signal.
    """
    train, y_train = make_xor_rows(2000, seed=0)
    validation, y_validation = make_xor_rows(500, seed=1)
    torch.manual_seed(0)
    model = AutoInt(train.fields, embedding_dim=8, num_layers=1, num_heads=2)
    result = train_ctr_model(model, train, y_train, validation, y_validation, epochs=8,
                             batch_size=128, learning_rate=1e-2, patience=8, seed=0)
    # Bayes-optimal AUC is 0.9 with 10% of labels flipped.
    assert max(entry["val_auc"] for entry in result.history) > 0.85

    mean = model.attention_maps(to_tensors(validation))["mean"].mean(axis=(0, 1))  # (F, F)
    off_diagonal = mean.copy()
    np.fill_diagonal(off_diagonal, -np.inf)
    planted = max(off_diagonal[0, 1], off_diagonal[1, 0])
    off_diagonal[0, 1] = off_diagonal[1, 0] = -np.inf
    assert planted > off_diagonal.max()
    assert planted > 1.0 / 5.0      # more than uniform attention over five fields


# --- training loop -------------------------------------------------------------


def make_labelled(n_rows: int, seed: int) -> tuple[EncodedFields, np.ndarray]:
    """Rows over FIELDS whose label depends on city, the price and an interaction."""
    encoded = make_encoded(n_rows, seed)
    rng = np.random.default_rng(seed + 100)
    score = ((encoded.categorical[:, 0] % 2 == 0) * 1.5 + encoded.numeric[:, 0]
             + (encoded.categorical[:, 1] == encoded.categorical[:, 2] % 4) * 1.0 - 1.0)
    labels = (score + rng.logistic(size=n_rows) * 0.5 > 0).astype(np.float32)
    return encoded, labels


class NaNAfter(nn.Module):
    """Wrap a model and return NaN logits from its ``nan_call``-th training forward on."""

    def __init__(self, model: nn.Module, nan_call: int) -> None:
        super().__init__()
        self.model = model
        self.nan_call = nan_call
        self.calls = 0

    def forward(self, batch, field_mask=None):
        logits = self.model(batch, field_mask)
        if self.training:
            self.calls += 1
            if self.calls >= self.nan_call:
                return logits * float("nan")
        return logits


def test_training_injected_nan_keeps_best(caplog):
    train, y_train = make_labelled(400, seed=0)
    validation, y_validation = make_labelled(200, seed=1)
    model = NaNAfter(build_model("autoint"), nan_call=3 * 4 + 2)   # 4 batches of 100 per epoch
    with caplog.at_level(logging.WARNING, logger="workbench.features.classifier"):
        result = train_ctr_model(model, train, y_train, validation, y_validation, epochs=10,
                                 batch_size=100, learning_rate=1e-2, patience=10, seed=0)

    assert result.diverged == {"epoch": 4, "batch": 2}
    assert len(result.history) == 3
    aucs = [entry["val_auc"] for entry in result.history]
    assert result.best_epoch == int(np.argmax(aucs)) + 1
    assert "diverged" in caplog.text

    # The restored weights reproduce the best epoch's validation AUC.
    logits = model(to_tensors(validation)).detach().numpy()
    assert np.isfinite(logits).all()
    assert roc_auc_score(y_validation, logits) == pytest.approx(max(aucs), abs=1e-6)
    assert not model.training


def test_training_nan_in_first_batch_keeps_initial_weights():
    train, y_train = make_labelled(200, seed=0)
    validation, y_validation = make_labelled(100, seed=1)
    inner = build_model("fm")
    initial = {key: value.clone() for key, value in inner.state_dict().items()}
    result = train_ctr_model(NaNAfter(inner, nan_call=1), train, y_train, validation,
                             y_validation, epochs=3, batch_size=50, seed=0)
    assert result.diverged == {"epoch": 1, "batch": 1}
    assert result.best_epoch == 0
    assert result.history == []
    for key, value in inner.state_dict().items():
        torch.testing.assert_close(value, initial[key], rtol=0, atol=0)


def test_training_early_stopping_and_history():
    train, y_train = make_labelled(600, seed=0)
    validation, y_validation = make_labelled(200, seed=1)
    model = build_model("fm")
    result = train_ctr_model(model, train, y_train, validation, y_validation, epochs=30,
                             batch_size=64, learning_rate=5e-2, patience=1, seed=0)
    aucs = [entry["val_auc"] for entry in result.history]
    assert result.diverged is None
    assert result.best_epoch == int(np.argmax(aucs)) + 1
    assert [entry["epoch"] for entry in result.history] == list(range(1, len(aucs) + 1))
    # Stopped one epoch (patience) after the best, unless the epoch budget ran out first.
    assert len(aucs) == min(result.best_epoch + 1, 30)
    assert set(result.history[0]) == {"epoch", "loss", "val_auc", "val_logloss"}


def test_training_seed_reproducibility():
    train, y_train = make_labelled(300, seed=0)
    validation, y_validation = make_labelled(100, seed=1)
    histories = []
    for training_seed in (5, 5, 6):
        model = build_model("autoint+", seed=0)
        result = train_ctr_model(model, train, y_train, validation, y_validation, epochs=2,
                                 batch_size=64, learning_rate=1e-2, seed=training_seed)
        histories.append([entry["loss"] for entry in result.history])
    assert histories[0] == histories[1]
    assert histories[0] != histories[2]


def test_training_leaves_global_rng_alone():
    train, y_train = make_labelled(100, seed=0)
    validation, y_validation = make_labelled(50, seed=1)
    model = build_model("lr")
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    train_ctr_model(model, train, y_train, validation, y_validation, epochs=1)
    torch.testing.assert_close(torch.rand(3), expected)


def test_training_bad_arguments():
    train, y_train = make_labelled(50, seed=0)
    model = build_model("lr")
    with pytest.raises(ValueError, match="y_train"):
        train_ctr_model(model, train, np.full(50, 2.0), train, y_train)
    with pytest.raises(ValueError, match="y_validation"):
        train_ctr_model(model, train, y_train, train, y_train[:10])
    with pytest.raises(ValueError, match="y_validation"):
        train_ctr_model(model, train, y_train, train, np.zeros(50))
    with pytest.raises(ValueError, match="learning_rate"):
        train_ctr_model(model, train, y_train, train, y_train, learning_rate=0.0)
    with pytest.raises(ValueError, match="epochs"):
        train_ctr_model(model, train, y_train, train, y_train, epochs=0)
    with pytest.raises(TypeError, match="train"):
        train_ctr_model(model, to_tensors(train), y_train, train, y_train)


def test_build_ctr_model_names_and_params():
    for name, model_class in MODEL_CLASSES.items():
        assert isinstance(build_ctr_model(name, FIELDS, embedding_dim=4), model_class)
    with pytest.raises(ValueError, match="model"):
        build_ctr_model("deepfm", FIELDS)
    with pytest.raises(TypeError, match="num_steps"):
        build_ctr_model("autoint", FIELDS, num_steps=2)


# --- CTRClassifier ---------------------------------------------------------------

requires_encoder = pytest.mark.skipif(
    importlib.util.find_spec("workbench.features.encoding") is None,
    reason="CTRClassifier encodes frames with workbench.features.encoding.FieldEncoder, "
           "which is not installed")


def make_frame(n_rows: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """A click log: the label is an XOR of two categorical columns plus a price effect."""
    rng = np.random.default_rng(seed)
    site = rng.choice(["news", "shop"], n_rows)
    device = rng.choice(["phone", "desktop"], n_rows)
    noise = rng.choice(["a", "b", "c", "d"], n_rows)
    price = rng.normal(size=n_rows)
    tags = rng.choice(["x|y", "y", "z|x", ""], n_rows)
    score = 2.5 * ((site == "news") ^ (device == "phone")) - 1.25 + 0.8 * price
    labels = (score + rng.logistic(size=n_rows) * 0.3 > 0).astype(int)
    frame = pd.DataFrame({"site": site, "device": device, "noise": noise, "price": price,
                          "tags": tags})
    return frame, labels


COLUMNS = {"categorical": ["site", "device", "noise"], "numeric": ["price"], "multi": ["tags"]}


@requires_encoder
def test_classifier_end_to_end():
    X, y = make_frame(1500, seed=0)
    X_test, y_test = make_frame(500, seed=1)
    classifier = CTRClassifier("autoint", embedding_dim=8, epochs=6, learning_rate=1e-2,
                               num_layers=2, **COLUMNS).fit(X, y)

    probabilities = classifier.predict_proba(X_test)
    assert probabilities.shape == (500, 2)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    assert roc_auc_score(y_test, probabilities[:, 1]) > 0.85
    assert set(np.unique(classifier.predict(X_test))) <= {0, 1}

    assert classifier.diverged_ is None
    assert 1 <= classifier.best_epoch_ <= len(classifier.history_) <= 6
    assert set(classifier.history_[0]) == {"epoch", "loss", "val_auc", "val_logloss"}
    assert [field.name for field in classifier.encoder_.fields_] == [
        "site", "device", "noise", "price", "tags"]

    maps = classifier.attention_maps(X_test.iloc[:40])
    assert maps["fields"] == ["site", "device", "noise", "price", "tags"]
    assert maps["weights"].shape == (40, 2, 2, 5, 5)
    assert maps["mean"].shape == (2, 2, 5, 5)
    one_row = classifier.attention_maps(X_test.iloc[:40], row=3)
    np.testing.assert_allclose(one_row["weights"], maps["weights"][3])
    np.testing.assert_allclose(one_row["mean"], maps["mean"])


@requires_encoder
@pytest.mark.parametrize("name", MODEL_NAMES)
def test_classifier_every_model(name):
    X, y = make_frame(600, seed=2)
    classifier = CTRClassifier(name, embedding_dim=4, epochs=2, learning_rate=1e-2,
                               **COLUMNS).fit(X, y)
    probabilities = classifier.predict_proba(X)
    assert probabilities.shape == (600, 2)
    assert np.isfinite(probabilities).all()


@requires_encoder
def test_classifier_fignn_attention_maps():
    X, y = make_frame(400, seed=3)
    classifier = CTRClassifier("fignn", embedding_dim=4, epochs=1, num_steps=2,
                               **COLUMNS).fit(X, y)
    maps = classifier.attention_maps(X.iloc[:25])
    assert maps["fields"] == ["site", "device", "noise", "price", "tags"]
    assert maps["edge_weights"].shape == (25, 5, 5)
    assert maps["node_weights"].shape == (25, 5)
    np.testing.assert_allclose(maps["edge_weights"].sum(axis=-1), 1.0, atol=1e-5)
    assert classifier.attention_maps(X.iloc[:25], row=0)["node_weights"].shape == (5,)


@requires_encoder
def test_classifier_seed_reproducibility():
    X, y = make_frame(500, seed=4)
    first = CTRClassifier("fm", embedding_dim=4, epochs=2, seed=7, **COLUMNS).fit(X, y)
    second = CTRClassifier("fm", embedding_dim=4, epochs=2, seed=7, **COLUMNS).fit(X, y)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    assert first.history_ == second.history_


@requires_encoder
def test_classifier_divergence_keeps_checkpoint():
    X, y = make_frame(800, seed=5)
    classifier = CTRClassifier("autoint", embedding_dim=8, epochs=5, learning_rate=1e6,
                               **COLUMNS).fit(X, y)
    assert classifier.diverged_ is not None
    assert set(classifier.diverged_) == {"epoch", "batch"}
    aucs = [entry["val_auc"] for entry in classifier.history_]
    assert len(aucs) == classifier.diverged_["epoch"] - 1
    assert classifier.best_epoch_ == (int(np.argmax(aucs)) + 1 if aucs else 0)
    assert np.isfinite(classifier.predict_proba(X)).all()


@requires_encoder
def test_classifier_validation_frame():
    X, y = make_frame(500, seed=6)
    X_val, y_val = make_frame(200, seed=7)
    classifier = CTRClassifier("lr", epochs=2, **COLUMNS).fit(X, y, validation=(X_val, y_val))
    assert len(classifier.encoder_.vocabularies_["site"]) == 2
    with pytest.raises(ValueError, match="no attention"):
        classifier.attention_maps(X)


def test_classifier_params_and_clone():
    classifier = CTRClassifier("fignn", epochs=3, num_steps=2)
    assert classifier.get_params()["num_steps"] == 2
    copied = clone(classifier)
    assert copied.get_params() == classifier.get_params()
    copied.set_params(num_steps=4, epochs=1)
    assert copied.model_params == {"num_steps": 4}
    assert copied.epochs == 1


@requires_encoder
def test_classifier_bad_inputs():
    X, y = make_frame(100, seed=8)
    with pytest.raises(ValueError, match="y must contain only the binary labels"):
        CTRClassifier("lr", **COLUMNS).fit(X, np.where(y == 1, 2, 0))
    with pytest.raises(ValueError, match="y must have shape"):
        CTRClassifier("lr", **COLUMNS).fit(X, y[:50])
    with pytest.raises(TypeError, match="X must be a pandas DataFrame"):
        CTRClassifier("lr", **COLUMNS).fit(X.to_numpy(), y)
    with pytest.raises(ValueError, match="model"):
        CTRClassifier("xgboost", **COLUMNS).fit(X, y)
    with pytest.raises(TypeError, match="num_levels"):
        CTRClassifier("autoint", num_levels=2, **COLUMNS).fit(X, y)
    with pytest.raises(ValueError, match="label 1"):
        CTRClassifier("lr", **COLUMNS).fit(X, np.r_[np.zeros(99), 1])
    with pytest.raises(ValueError, match="validation_fraction"):
        CTRClassifier("lr", **COLUMNS).fit(X, y, validation_fraction=1.0)
    with pytest.raises(TypeError, match="validation"):
        CTRClassifier("lr", **COLUMNS).fit(X, y, validation=[X, y])
    with pytest.raises(NotFittedError):
        CTRClassifier("lr").predict_proba(X)

    fitted = CTRClassifier("autoint", epochs=1, **COLUMNS).fit(X, y)
    with pytest.raises(ValueError, match="row"):
        fitted.attention_maps(X, row=100)


@pytest.mark.parametrize("name", ["fm", "autoint", "autoint+", "fignn"])
def test_blocking_a_pair_changes_predictions_until_cleared(name):
    model = build_model(name)
    model.eval()
    tensors = to_tensors(make_encoded(64))
    with torch.no_grad():
        before = model(tensors)
        model.block_pairs([(0, 1)])
        assert model.blocked_pairs == [(0, 1)]
        blocked = model(tensors)
        model.clear_blocked_pairs()
        after = model(tensors)
    assert not torch.allclose(before, blocked)
    torch.testing.assert_close(before, after)


def test_blocked_pair_gets_no_attention():
    model = build_model("autoint")
    model.block_pairs([(0, 2)])
    weights = model.attention_maps(to_tensors(make_encoded(16)))["weights"]
    assert np.all(weights[:, :, :, 0, 2] == 0)
    assert np.all(weights[:, :, :, 2, 0] == 0)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-5)
    graph = build_model("fignn")
    graph.block_pairs([(1, 3)])
    edges = graph.attention_maps(to_tensors(make_encoded(16)))["edge_weights"]
    assert np.all(edges[:, 1, 3] == 0)
    assert np.all(edges[:, 3, 1] == 0)


def test_fm_blocked_pair_matches_explicit_sum():
    model = build_model("fm")
    model.block_pairs([(0, 3)])
    tensors = to_tensors(make_encoded(8))
    with torch.no_grad():
        embeddings = model.factors(tensors)
        explicit = sum((embeddings[:, i] * embeddings[:, j]).sum(-1)
                       for i in range(len(FIELDS)) for j in range(i + 1, len(FIELDS))
                       if (i, j) != (0, 3))
        expected = model.bias + model.linear(tensors).sum(dim=(1, 2)) + explicit
        torch.testing.assert_close(model(tensors), expected)


def test_block_pairs_rejects_bad_pairs():
    model = build_model("autoint")
    with pytest.raises(ValueError, match="two different fields"):
        model.block_pairs([(1, 1)])
    with pytest.raises(ValueError, match="field index must be <="):
        model.block_pairs([(0, len(FIELDS))])
    with pytest.raises(ValueError, match="two field indices"):
        model.block_pairs([(0, 1, 2)])
