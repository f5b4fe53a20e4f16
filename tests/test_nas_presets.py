"""Named DARTS presets: the split, the search settings and the quick budget."""

from __future__ import annotations

import pytest
import torch

from data_fixtures import real_data_fixture  # noqa: F401  (pytest finds it by name)
from workbench.nas import PRESETS, Darts, load_preset_split, preset_search
from workbench.nas.presets import PRESET_ARCH_LR


def test_digits_quick_search_builds():
    split, search = preset_search("digits", quick=True)
    quick = PRESETS["digits"].search_arguments(quick=True)

    assert isinstance(search, Darts)
    assert search.supernet.layers == quick["layers"]
    assert search.epochs == quick["epochs"]
    assert search.batches_per_step == quick["batches_per_step"]
    assert search.arch_lr == PRESET_ARCH_LR
    assert split.x_train.shape[1:] == (1, 8, 8)


def test_overrides_and_order_applied():
    split = load_preset_split("digits")
    _, search = preset_search("digits", order="second", seed=3, split=split, epochs=1, C=4)

    assert search.order == "second"
    assert search.seed == 3
    assert search.epochs == 1
    assert search.supernet.C == 4


def test_quick_run_derives_genotype():
    _, search = preset_search("digits", quick=True, epochs=1)
    while not search.done:
        search.step()
    genotype = search.snapshot().final_genotype

    assert genotype is not None
    assert genotype.steps == PRESETS["digits"].search_arguments(quick=True)["steps"]


def test_same_seed_same_split():
    first = load_preset_split("digits", seed=1)
    second = load_preset_split("digits", seed=1)
    other = load_preset_split("digits", seed=2)

    assert torch.equal(first.x_test, second.x_test)
    assert not torch.equal(first.x_test, other.x_test)


def test_mnist_quick_split_sizes(real_data):
    split = load_preset_split("mnist", quick=True)
    sizes = PRESETS["mnist"].split_arguments(quick=True)

    assert len(split.y_train) == sizes["n_train"]
    assert len(split.y_val) == sizes["n_val"]
    assert len(split.y_test) == sizes["n_test"]
    assert split.x_train.shape[1:] == (1, 28, 28)


def test_unknown_preset_rejected():
    with pytest.raises(ValueError, match="cifar"):
        preset_search("cifar")
    with pytest.raises(ValueError, match="cifar"):
        load_preset_split("cifar")


def test_bad_split_and_seed_rejected():
    with pytest.raises(TypeError, match="split must be an ImageSplit"):
        preset_search("digits", split="digits")
    with pytest.raises(ValueError, match="seed"):
        load_preset_split("digits", seed=-1)
    with pytest.raises(ValueError, match="order"):
        preset_search("digits", quick=True, order="third")
