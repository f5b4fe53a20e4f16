"""Synthetic categorical data with planted field interactions, for testing interaction search.

:func:`planted_interaction_data` follows the synthetic check of AutoFIS
(Liu et al., "AutoFIS: Automatic Feature Interaction Selection in
Factorization Models for Click-Through Rate Prediction", KDD 2020). It has 6
categorical fields with 60 categories each, and a label that depends on every
field's own value plus the interactions of a few planted field pairs only. A
search that works keeps the planted pairs and drops all others.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from workbench.core.validation import check_choice, check_float, check_int, check_seed

LABELS = ("bernoulli", "threshold")


def planted_interaction_data(
    n_rows: int, *, n_fields: int = 6, n_categories: int = 60,
    pairs: Sequence[tuple[int, int]] = ((0, 1), (2, 5), (3, 4)),
    interaction_rank: int | None = 2, interaction_scale: float = 1.0, noise: float = 0.0,
    label: str = "bernoulli", seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[str, ...]]:
    """Draw rows of categorical codes and a 0/1 label with interactions only on ``pairs``.

    Each field's category is drawn uniformly from 1..``n_categories`` (code 0
    stays free for rare or unseen values). The score of a row is

        z = sum_f w_f[x_f] + interaction_scale * sum_{(i, j) in pairs} v_ij[x_i, x_j] + eps

    with one weight ``w_f[a] ~ N(0, 1)`` per field value, a weight table
    ``v_ij`` per planted pair and ``eps ~ N(0, noise^2)``. With
    ``interaction_rank=r`` the table is ``v_ij[a, b] = <u_i[a], u_j[b]> / sqrt(r)``
    with ``u ~ N(0, 1)`` vectors of length r, a rank-r table with unit-variance
    entries that a factorization machine of embedding size >= r can
    represent. ``interaction_rank=None`` draws every entry ``v_ij[a, b] ~ N(0, 1)``,
    a full-rank table.

    ``label="bernoulli"`` draws ``y ~ Bernoulli(sigmoid(z - median(z)))``, so
    the true log-odds are exactly additive in the per-field and planted-pair
    terms and no other pair carries signal. ``label="threshold"`` sets
    ``y = 1[z > median(z)]``. A threshold makes the log-odds a nonlinear
    function of z, and then every field pair carries some signal, so a
    search keeps noise pairs too.

    NOTE: the weight distributions, the rank, the noise and the labeling are
    this function's choices. The field and category counts and the planted
    pairs are the setting of AutoFIS's synthetic check.

    Parameters
    ----------
    n_rows : int
        Number of rows (>= 2).
    n_fields : int, default 6
    n_categories : int, default 60
        Categories per field, coded 1..n_categories.
    pairs : sequence of (int, int), default ((0, 1), (2, 5), (3, 4))
        The planted field pairs, 0-based, each of two different fields.
    interaction_rank : int or None, default 2
        Rank of each planted pair's weight table; None for a full-rank table.
    interaction_scale : float, default 1.0
        Weight of the interaction terms against the per-field terms (>= 0).
    noise : float, default 0.0
        Standard deviation of the Gaussian noise added to the score (>= 0).
    label : {"bernoulli", "threshold"}, default "bernoulli"
    seed : int, default 0

    Returns
    -------
    codes : ndarray of int64, shape (n_rows, n_fields)
        Values in 1..n_categories.
    y : ndarray of int64, shape (n_rows,)
        0/1 labels, about half of them 1.
    cardinalities : ndarray of int64, shape (n_fields,)
        ``n_categories + 1`` for every field, counting the unused code 0.
    field_names : tuple of str
        ``("x0", "x1", ...)``.

    Example
    -------
    >>> codes, y, cardinalities, names = planted_interaction_data(1000, seed=1)
    >>> codes.shape, int(codes.min()), int(codes.max()), int(cardinalities[0]), names[:2]
    ((1000, 6), 1, 60, 61, ('x0', 'x1'))
    """
    n_rows = check_int("n_rows", n_rows, minimum=2)
    n_fields = check_int("n_fields", n_fields, minimum=1)
    n_categories = check_int("n_categories", n_categories, minimum=1)
    if interaction_rank is not None:
        interaction_rank = check_int("interaction_rank", interaction_rank, minimum=1)
    interaction_scale = check_float("interaction_scale", interaction_scale, minimum=0.0)
    noise = check_float("noise", noise, minimum=0.0)
    label = check_choice("label", label, LABELS)
    seed = check_seed("seed", seed)
    pairs = _check_pairs(pairs, n_fields)
    rng = np.random.default_rng(seed)

    codes = rng.integers(1, n_categories + 1, size=(n_rows, n_fields), dtype=np.int64)
    field_weights = rng.normal(size=(n_fields, n_categories + 1))
    score = field_weights[np.arange(n_fields), codes].sum(axis=1)     # (n_rows,)
    for first, second in pairs:
        if interaction_rank is None:
            pair_weights = rng.normal(size=(n_categories + 1, n_categories + 1))
        else:
            factors = rng.normal(size=(2, n_categories + 1, interaction_rank))
            pair_weights = factors[0] @ factors[1].T / np.sqrt(interaction_rank)
        score += interaction_scale * pair_weights[codes[:, first], codes[:, second]]
    if noise > 0.0:
        score += rng.normal(scale=noise, size=n_rows)

    centered = score - np.median(score)
    if label == "bernoulli":
        y = (rng.random(n_rows) < 1.0 / (1.0 + np.exp(-centered))).astype(np.int64)
    else:
        y = (centered > 0.0).astype(np.int64)
    cardinalities = np.full(n_fields, n_categories + 1, dtype=np.int64)
    field_names = tuple(f"x{field}" for field in range(n_fields))
    return codes, y, cardinalities, field_names


def _check_pairs(pairs: Sequence[tuple[int, int]], n_fields: int) -> tuple[tuple[int, int], ...]:
    """Return ``pairs`` as sorted tuples after checking that each names two different fields."""
    checked = []
    for pair in pairs:
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ValueError(f"each entry of pairs must be two field indices, got {pair!r}.")
        for index in pair:
            if isinstance(index, (int, np.integer)) and not 0 <= index < n_fields:
                raise ValueError(f"pairs field index must be <= {n_fields - 1}, got {index} in "
                                 f"{tuple(pair)!r}; the default pairs need 6 fields, so pass "
                                 f"pairs within range(n_fields={n_fields}).")
        first = check_int("pairs field index", pair[0], minimum=0, maximum=n_fields - 1)
        second = check_int("pairs field index", pair[1], minimum=0, maximum=n_fields - 1)
        if first == second:
            raise ValueError(f"pairs entry {pair!r} names field {first} twice; a planted "
                             f"interaction needs two different fields.")
        checked.append((min(first, second), max(first, second)))
    if len(set(checked)) != len(checked):
        raise ValueError(f"pairs contains a field pair twice: {list(pairs)!r}; list each once.")
    return tuple(checked)
