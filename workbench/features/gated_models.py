"""Factorization models whose field interactions carry gates, the models that AutoFIS searches.

:class:`GatedFM` is a factorization machine over categorical fields
(Rendle, "Factorization Machines", ICDM 2010) in which every field pair
``(i, j)`` has its own gate ``alpha_ij``, and with ``order=3`` every field
triple ``(i, j, k)`` has one too (Liu et al., "AutoFIS: Automatic Feature
Interaction Selection in Factorization Models for Click-Through Rate
Prediction", KDD 2020):

    logit = b + sum_f w_f[x_f]
              + sum_{i<j} alpha_ij * BN(<e_i, e_j>)
              + sum_{i<j<k} alpha_ijk * BN(sum_d e'_id * e'_jd * e'_kd)

``e_f`` is the embedding of the row's category in field f, and ``e'_f`` a second
embedding used only by the triples, as in the authors' code
(https://github.com/zhuchenxv/AutoFIS, ``tf_models.py``). ``BN`` is a batch
normalization of each interaction's output without a learned scale or shift.
It is there because ``alpha_ij * <e_i, e_j>`` does not fix the scale of
``alpha_ij``. The embeddings can grow while the gate shrinks and the product
stays the same, so a small gate would not mean an unimportant interaction.
The embeddings could also undo whatever the L1 threshold of GRDA takes from
a gate. Normalizing ``<e_i, e_j>`` to zero mean and unit variance over the
batch leaves the whole scale of the term to ``alpha_ij``.

:class:`GatedDeepFM` adds an MLP on the concatenated embeddings, as DeepFM
(Guo et al., IJCAI 2017) does.

With ``batch_norm=False``, ``learn_gates=False`` and ``gate_init=1.0`` the
models are the plain FM and DeepFM, the baselines of AutoFIS.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from workbench.core.validation import check_float, check_int

# The authors' code starts every gate at 0.6 plus uniform noise in +-0.001,
# and so do these models (``weight_base`` in https://github.com/zhuchenxv/AutoFIS).
GATE_INIT = 0.6
GATE_INIT_SPREAD = 1e-3

EMBEDDING_INIT_STD = 0.05    # standard deviation of the normal initialization of the embeddings
ORDERS = (1, 2, 3)


def field_pairs(n_fields: int) -> tuple[tuple[int, int], ...]:
    """Return every field pair ``(i, j)`` with ``i < j``, in lexicographic order."""
    return tuple(itertools.combinations(range(n_fields), 2))


def field_triples(n_fields: int) -> tuple[tuple[int, int, int], ...]:
    """Return every field triple ``(i, j, k)`` with ``i < j < k``, in lexicographic order."""
    return tuple(itertools.combinations(range(n_fields), 3))


def check_cardinalities(cardinalities: Any) -> np.ndarray:
    """Return ``cardinalities`` as a 1-D int64 array of values >= 1, one per field."""
    array = np.asarray(cardinalities)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"cardinalities must be a non-empty 1-D array with one count per field, "
                         f"got shape {array.shape}.")
    if not np.issubdtype(array.dtype, np.integer):
        if not np.issubdtype(array.dtype, np.floating) or not np.all(np.isfinite(array)) \
                or not np.all(array == np.round(array)):
            raise TypeError(f"cardinalities must be whole numbers, got {array.tolist()!r} of "
                            f"dtype {array.dtype}.")
    array = array.astype(np.int64)
    if (array < 1).any():
        field = int(np.argmin(array))
        raise ValueError(f"cardinalities[{field}] is {int(array[field])}; every field needs at "
                         f"least 1 index (index 0 for rare, unseen and missing values).")
    return array


def _check_groups(name: str, groups: Iterable[Sequence[int]] | None, size: int,
                  n_fields: int) -> tuple[tuple[int, ...], ...]:
    """Return field groups (pairs or triples) as sorted, distinct tuples of distinct fields."""
    if groups is None:
        return tuple(itertools.combinations(range(n_fields), size))
    checked = []
    for group in groups:
        fields = tuple(check_int(f"{name} field index", field, minimum=0, maximum=n_fields - 1)
                       for field in group)
        if len(fields) != size or len(set(fields)) != size:
            raise ValueError(f"each entry of {name} must list {size} different fields, got "
                             f"{tuple(group)!r}.")
        checked.append(tuple(sorted(fields)))
    if len(set(checked)) != len(checked):
        raise ValueError(f"{name} lists a field group twice: {checked!r}; list each once.")
    return tuple(checked)


class InteractionGates(nn.Module):
    """Batch-normalized interaction outputs times one gate each, summed per row.

    Parameters
    ----------
    n_interactions : int
        Number of interactions (pairs or triples), >= 1.
    batch_norm : bool
        Normalize each interaction over the batch (no learned scale or shift).
    learn_gates : bool
        Train the gates (a parameter), or keep them fixed (a buffer).
    gate_init : float
        Initial gate value; learned gates get uniform noise of +-GATE_INIT_SPREAD.
    """

    def __init__(self, n_interactions: int, *, batch_norm: bool, learn_gates: bool,
                 gate_init: float) -> None:
        super().__init__()
        self.norm = (nn.BatchNorm1d(n_interactions, affine=False) if batch_norm
                     else nn.Identity())
        gates = torch.full((n_interactions,), float(gate_init))
        if learn_gates:
            gates += torch.empty(n_interactions).uniform_(-GATE_INIT_SPREAD, GATE_INIT_SPREAD)
            self.gates = nn.Parameter(gates)
        else:
            self.register_buffer("gates", gates)
        # 1 keeps an interaction, 0 drops it (a steering choice), shape (n_interactions,).
        self.register_buffer("mask", torch.ones(n_interactions))

    def forward(self, interactions: torch.Tensor) -> torch.Tensor:
        """Return ``sum_p mask_p * gate_p * BN(interactions)_p``, shape (batch,).

        ``interactions`` has shape (batch, n_interactions).
        """
        normalized = self.norm(interactions)                    # (batch, n_interactions)
        return normalized @ (self.gates * self.mask)


class GatedFM(nn.Module):
    """Factorization machine with a gate on every field pair (and triple for ``order=3``).

    Parameters
    ----------
    cardinalities : array-like of int, shape (n_fields,)
        Number of codes of each field, index 0 included; field ``f`` takes
        codes in ``0 .. cardinalities[f] - 1``.
    embedding_dim : int, default 16
    order : {1, 2, 3}, default 2
        Highest interaction order: 1 is logistic regression, 2 adds the
        pairs and 3 adds the triples.
    pairs : sequence of (int, int), optional
        The field pairs to model; default every pair when ``order >= 2``.
        AutoFIS's re-train stage passes the selected pairs only.
    triples : sequence of (int, int, int), optional
        The field triples to model; default every triple when ``order == 3``.
    batch_norm : bool, default True
        Batch-normalize each interaction before its gate (AutoFIS).
    learn_gates : bool, default True
        Train the gates, or keep them fixed at ``gate_init``.
    gate_init : float, default GATE_INIT (0.6)

    Attributes
    ----------
    pairs, triples : tuple of tuples of int
        The modeled interactions, in the order of the gate vectors.
    pair_gates, triple_gates : InteractionGates or None
        None when there are no pairs or no triples.
    """

    def __init__(self, cardinalities: Any, embedding_dim: int = 16, order: int = 2, *,
                 pairs: Iterable[Sequence[int]] | None = None,
                 triples: Iterable[Sequence[int]] | None = None, batch_norm: bool = True,
                 learn_gates: bool = True, gate_init: float = GATE_INIT) -> None:
        super().__init__()
        cardinalities = check_cardinalities(cardinalities)
        self.n_fields = len(cardinalities)
        self.embedding_dim = check_int("embedding_dim", embedding_dim, minimum=1)
        self.order = check_int("order", order, minimum=min(ORDERS), maximum=max(ORDERS))
        gate_init = check_float("gate_init", gate_init)
        pairs = None if pairs is None else tuple(pairs)
        triples = None if triples is None else tuple(triples)
        check_interaction_fields(self.order, self.n_fields, pairs, triples)
        self.pairs = _check_groups("pairs", pairs, 2, self.n_fields) if order >= 2 else ()
        self.triples = _check_groups("triples", triples, 3, self.n_fields) if order == 3 else ()

        # Field f's codes map to rows offsets[f] .. offsets[f] + cardinalities[f] - 1 of the tables.
        offsets = np.concatenate([[0], np.cumsum(cardinalities)[:-1]])
        self.register_buffer("offsets", torch.as_tensor(offsets, dtype=torch.long))
        self.register_buffer("cardinalities", torch.as_tensor(cardinalities, dtype=torch.long))
        n_codes = int(cardinalities.sum())
        self.linear = nn.Embedding(n_codes, 1)
        nn.init.zeros_(self.linear.weight)
        self.bias = nn.Parameter(torch.zeros(()))
        self.embedding = nn.Embedding(n_codes, self.embedding_dim)
        nn.init.normal_(self.embedding.weight, std=EMBEDDING_INIT_STD)

        gate_options = dict(batch_norm=batch_norm, learn_gates=learn_gates, gate_init=gate_init)
        self.pair_gates = None
        if self.pairs:
            self.register_buffer("pair_index", torch.as_tensor(self.pairs, dtype=torch.long).T)
            self.pair_gates = InteractionGates(len(self.pairs), **gate_options)
        self.triple_embedding = None
        self.triple_gates = None
        if self.triples:
            self.triple_embedding = nn.Embedding(n_codes, self.embedding_dim)
            nn.init.normal_(self.triple_embedding.weight, std=EMBEDDING_INIT_STD)
            self.register_buffer("triple_index",
                                 torch.as_tensor(self.triples, dtype=torch.long).T)
            self.triple_gates = InteractionGates(len(self.triples), **gate_options)

    def gate_parameters(self) -> list[nn.Parameter]:
        """Return the learned gates (AutoFIS's architecture parameters); empty if they are fixed."""
        return [module.gates for module in (self.pair_gates, self.triple_gates)
                if module is not None and isinstance(module.gates, nn.Parameter)]

    def weight_parameters(self) -> list[nn.Parameter]:
        """Return every parameter except the gates."""
        gate_ids = {id(gate) for gate in self.gate_parameters()}
        return [parameter for parameter in self.parameters() if id(parameter) not in gate_ids]

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        """Return logits of shape (batch,) for ``codes`` of shape (batch, n_fields)."""
        rows = codes + self.offsets                             # (batch, fields)
        logits = self.bias + self.linear(rows).sum(dim=(1, 2))  # (batch,)
        embeddings = self.embedding(rows)                       # (batch, fields, dim)
        if self.pair_gates is not None:
            first, second = self.pair_index
            products = (embeddings[:, first] * embeddings[:, second]).sum(-1)  # (batch, pairs)
            logits = logits + self.pair_gates(products)
        if self.triple_gates is not None:
            triple_embeddings = self.triple_embedding(rows)     # (batch, fields, dim)
            first, second, third = self.triple_index
            products = (triple_embeddings[:, first] * triple_embeddings[:, second]
                        * triple_embeddings[:, third]).sum(-1)  # (batch, triples)
            logits = logits + self.triple_gates(products)
        return logits + self.deep_logits(embeddings)

    def deep_logits(self, embeddings: torch.Tensor) -> torch.Tensor | float:
        """Return the deep part's logits; a factorization machine has none."""
        return 0.0


class GatedDeepFM(GatedFM):
    """A :class:`GatedFM` plus an MLP on the concatenated field embeddings (DeepFM).

    Parameters
    ----------
    cardinalities, embedding_dim, order, pairs, triples, batch_norm, learn_gates, gate_init
        As for :class:`GatedFM`.
    hidden_units : sequence of int, default (64, 64)
        Widths of the MLP's hidden layers, each followed by a ReLU.
    dropout : float, default 0.0
        Dropout probability after each hidden layer, in [0, 1).
    """

    def __init__(self, cardinalities: Any, embedding_dim: int = 16, order: int = 2, *,
                 hidden_units: Sequence[int] = (64, 64), dropout: float = 0.0,
                 **options: Any) -> None:
        super().__init__(cardinalities, embedding_dim, order, **options)
        dropout = check_float("dropout", dropout, minimum=0.0)
        if dropout >= 1.0:
            raise ValueError(f"dropout must be below 1, got {dropout}; pass a probability "
                             f"in [0, 1).")
        widths = [self.n_fields * self.embedding_dim]
        widths += [check_int("hidden_units entry", width, minimum=1) for width in hidden_units]
        layers: list[nn.Module] = []
        for width_in, width_out in itertools.pairwise(widths):
            layers += [nn.Linear(width_in, width_out), nn.ReLU()]
            if dropout > 0.0:
                layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(widths[-1], 1))
        self.mlp = nn.Sequential(*layers)

    def deep_logits(self, embeddings: torch.Tensor) -> torch.Tensor:
        """Return the MLP's logits, shape (batch,), for embeddings of shape (batch, fields, dim)."""
        return self.mlp(embeddings.flatten(1)).squeeze(-1)


def check_interaction_fields(order: int, n_fields: int, pairs: Any, triples: Any) -> None:
    """Raise ``ValueError`` where ``order`` needs interactions that ``n_fields`` cannot form.

    A pair needs two different fields and a triple three, so the default
    "every pair" of ``order >= 2`` needs at least 2 fields and the default
    "every triple" of ``order == 3`` at least 3. Explicit ``pairs`` or
    ``triples`` (possibly empty) skip this check, and ``order < 2`` with
    explicit pairs, or ``order < 3`` with explicit triples, is an error.
    """
    if order >= 2 and pairs is None and n_fields < 2:
        raise ValueError(f"order={order} models field pairs, which need at least 2 fields, but "
                         f"there is {n_fields}; pass order=1 for a single field.")
    if order == 3 and triples is None and n_fields < 3:
        raise ValueError(f"order=3 models field triples, which need at least 3 fields, but "
                         f"there are {n_fields}; pass order=2.")
    if order < 2 and pairs:
        raise ValueError(f"pairs were given but order={order} has no pair interactions; pass "
                         f"order=2 or 3.")
    if order < 3 and triples:
        raise ValueError(f"triples were given but order={order} has no triple interactions; "
                         f"pass order=3.")
