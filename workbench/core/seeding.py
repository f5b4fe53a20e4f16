"""Seeding helpers: one seed for Python's, numpy's and torch's generators."""

from __future__ import annotations

import random
import sys

import numpy as np

from workbench.core.validation import check_seed


def seed_everything(seed: int) -> int:
    """Seed Python's ``random``, numpy's global generator and torch (if imported).

    torch is seeded only when it has already been imported, so seeding stays
    cheap for code that never uses it. Returns ``seed``.
    """
    seed = check_seed("seed", seed)
    if seed is None:
        raise TypeError("seed must be an integer in [0, 2**32 - 1], got None.")
    random.seed(seed)
    np.random.seed(seed)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)
    return seed


def make_rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    """Return a numpy ``Generator`` for ``seed`` (an int, a Generator, or None)."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(check_seed("seed", seed))


def resolve_seed(seed: int | None) -> int:
    """Return ``seed`` checked, or a fresh random seed for ``None`` (an unseeded run).

    Searches store the result, so even an unseeded run can be replayed.
    """
    seed = check_seed("seed", seed)
    if seed is None:
        return int(np.random.SeedSequence().entropy % 2**32)
    return seed


def derive_seed(rng: np.random.Generator) -> int:
    """Draw a seed for a child component (a sampler, a model) from ``rng``."""
    return int(rng.integers(0, 2**32 - 1))
