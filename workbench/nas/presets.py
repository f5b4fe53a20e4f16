"""Named DARTS settings: the data split, the supernet and the evaluation budget.

A preset bundles everything a notebook, a test or the benchmark needs to run
the same search: which images, how many of them, the supernet size, the
search budget, and the stand-alone network that trains a derived genotype.

- ``"digits"``: scikit-learn's 8x8 digits with the CPU operation set. The
  tour and the tests use it; one first-order epoch takes seconds.
- ``"mnist"``: 1,600 training and 1,600 search-validation MNIST images
  (28x28) with the CPU operation set, 5 cells of 8 channels, 8 epochs. It is
  sized so that a first-order search finishes within 15 minutes on a 2-core
  CPU; ``tests/benchmarks/bench_darts.py`` measures it.

Both presets raise the architecture learning rate from 3e-4 (Liu et al.,
ICLR 2019) to ``PRESET_ARCH_LR`` = 3e-3. Their CIFAR-10 search takes about
20,000 architecture steps (50 epochs of 391 batches), but these budgets take
only 100 to 200. An Adam step moves a logit by about ``arch_lr`` at most, so
at 3e-4 alpha could move by about 0.06. The mixing weights then stay near
uniform and the derived genotype is close to a random one: on the MNIST
preset at 3e-4 the parameter-free share ended at 0.666, its uniform value.

``quick=True`` shrinks any preset to a smoke-test budget (under a minute on a
laptop CPU), which is what notebooks use when ``WORKBENCH_QUICK=1``.

Example
-------
>>> split, search = preset_search("digits", quick=True)           # doctest: +SKIP
>>> while not search.done:                                        # doctest: +SKIP
...     _ = search.step()
"""

from __future__ import annotations

import dataclasses
from typing import Any

from workbench.core.validation import check_choice, check_int
from workbench.nas.darts import Darts, ImageSplit, digits_split, mnist_split


PRESET_ARCH_LR = 3e-3


@dataclasses.dataclass(frozen=True)
class DartsPreset:
    """Settings of one named preset.

    Attributes
    ----------
    name : str
    split : dict
        Keyword arguments of the split function (``digits_split`` or ``mnist_split``).
    search : dict
        Keyword arguments of :class:`~workbench.nas.Darts`.
    evaluation : dict
        Keyword arguments of :func:`~workbench.nas.evaluate_genotype`: the
        stand-alone network and its training budget.
    quick_split, quick_search, quick_evaluation : dict
        Overrides applied with ``quick=True``.
    """

    name: str
    split: dict[str, Any]
    search: dict[str, Any]
    evaluation: dict[str, Any]
    quick_split: dict[str, Any]
    quick_search: dict[str, Any]
    quick_evaluation: dict[str, Any]

    def split_arguments(self, quick: bool = False) -> dict[str, Any]:
        return {**self.split, **(self.quick_split if quick else {})}

    def search_arguments(self, quick: bool = False) -> dict[str, Any]:
        return {**self.search, **(self.quick_search if quick else {})}

    def evaluation_arguments(self, quick: bool = False) -> dict[str, Any]:
        return {**self.evaluation, **(self.quick_evaluation if quick else {})}


PRESETS = {
    "digits": DartsPreset(
        name="digits",
        split={},
        search={"operations": "cpu", "C": 8, "layers": 5, "steps": 4, "multiplier": 4,
                "batch_size": 64, "epochs": 10, "arch_lr": PRESET_ARCH_LR},
        evaluation={"C": 12, "layers": 5, "epochs": 20, "batch_size": 64},
        quick_split={},
        quick_search={"C": 4, "layers": 3, "steps": 2, "multiplier": 2, "epochs": 2,
                      "batches_per_step": 3, "eval_size": 128},
        quick_evaluation={"C": 4, "layers": 3, "epochs": 2},
    ),
    "mnist": DartsPreset(
        name="mnist",
        split={"n_train": 1600, "n_val": 1600},
        search={"operations": "cpu", "C": 8, "layers": 5, "steps": 4, "multiplier": 4,
                "batch_size": 64, "epochs": 8, "eval_size": 512, "arch_lr": PRESET_ARCH_LR},
        evaluation={"C": 8, "layers": 5, "epochs": 8, "batch_size": 64},
        quick_split={"n_train": 256, "n_val": 256, "n_test": 512},
        quick_search={"C": 4, "layers": 3, "steps": 2, "multiplier": 2, "epochs": 1,
                      "batches_per_step": 2, "eval_size": 128},
        quick_evaluation={"C": 4, "layers": 3, "epochs": 2},
    ),
}


def load_preset_split(name: str, *, seed: int = 0, quick: bool = False) -> ImageSplit:
    """Load the train, search-validation and test images of preset ``name``."""
    preset = PRESETS[check_choice("name", name, tuple(PRESETS))]
    seed = check_int("seed", seed, minimum=0)
    loader = digits_split if preset.name == "digits" else mnist_split
    return loader(seed, **preset.split_arguments(quick))


def preset_search(name: str, *, order: str = "first", seed: int = 0, quick: bool = False,
                  split: ImageSplit | None = None, **overrides: Any) -> tuple[ImageSplit, Darts]:
    """Build the data split and a :class:`~workbench.nas.Darts` search from preset ``name``.

    Parameters
    ----------
    name : {"digits", "mnist"}
    order : {"first", "second"}
    seed : int
        Seeds the split and the search.
    quick : bool
        Use the smoke-test budget.
    split : ImageSplit or None
        Reuse an already loaded split instead of loading the preset's.
    **overrides
        Any other :class:`~workbench.nas.Darts` keyword, such as ``epochs=2``.

    Returns
    -------
    (ImageSplit, Darts)
    """
    preset = PRESETS[check_choice("name", name, tuple(PRESETS))]
    if split is None:
        split = load_preset_split(name, seed=seed, quick=quick)
    elif not isinstance(split, ImageSplit):
        raise TypeError(f"split must be an ImageSplit or None, got {type(split).__name__}; "
                        f"pass the result of load_preset_split({name!r}).")
    arguments = {**preset.search_arguments(quick), **overrides, "order": order, "seed": seed}
    return split, Darts(split, **arguments)
