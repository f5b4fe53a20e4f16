"""Multi-head self-attention over fields, shared by AutoInt and Fi-GNN.

The interacting layer follows Song et al., "AutoInt: Automatic Feature
Interaction Learning via Self-Attentive Neural Networks", CIKM 2019. For field
m and head h, with input vectors e_1 .. e_M:

    psi_h(e_m, e_k)   = <W_query_h e_m, W_key_h e_k>          (unscaled inner product)
    alpha_h(m, k)     = softmax over k of psi_h(e_m, e_k)
    e~_m^h            = sum_k alpha_h(m, k) W_value_h e_k
    e~_m              = e~_m^1 (+) ... (+) e~_m^H               (concatenation)
    e_m^res           = ReLU(e~_m + W_res e_m)

Fi-GNN (Li et al., CIKM 2019) uses the same layer to compute the initial node
states of its feature graph.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from workbench.core.validation import check_int


def masked_softmax(scores: torch.Tensor, allowed: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Apply a softmax over ``dim`` to the entries where ``allowed`` is True.

    ``allowed`` broadcasts against ``scores``. Entries that are not allowed get
    weight 0, and a slice with no allowed entry is all zeros (not NaN), so a
    node without neighbours sends and receives nothing.
    """
    lowest = torch.finfo(scores.dtype).min
    weights = torch.softmax(scores.masked_fill(~allowed, lowest), dim=dim)
    return weights * allowed.to(weights.dtype)


class PairMasking:
    """Mixin for models whose fields interact in pairs: block chosen pairs for an ablation.

    A blocked pair (i, j) does not interact in either direction: attention
    between them is zero (AutoInt, Fi-GNN) or their factor product is left
    out (factorization machine). Blocking changes no weights, so the
    validation score with and without a pair measures how much the trained
    model relies on that interaction.
    """

    num_fields: int

    def _init_pair_mask(self, num_fields: int) -> None:
        # True where a pair may interact; a buffer, so it follows .to(device).
        self.register_buffer("pair_allowed", torch.ones(num_fields, num_fields, dtype=torch.bool),
                             persistent=False)

    def block_pairs(self, pairs) -> None:
        """Block the interaction of each field pair ``(i, j)`` in ``pairs`` (field indices).

        A single pair such as ``(0, 1)`` is accepted as well as a list of pairs.
        """
        pairs = list(pairs)
        if len(pairs) == 2 and all(isinstance(index, (int, np.integer)) for index in pairs):
            pairs = [tuple(pairs)]
        for pair in pairs:
            if len(pair) != 2:
                raise ValueError(f"each pair must be two field indices, got {pair!r}.")
            first, second = (check_int("field index", index, minimum=0,
                                       maximum=self.num_fields - 1) for index in pair)
            if first == second:
                raise ValueError(f"a pair needs two different fields, got ({first}, {second}).")
            self.pair_allowed[first, second] = False
            self.pair_allowed[second, first] = False

    def clear_blocked_pairs(self) -> None:
        """Let every pair interact again."""
        self.pair_allowed.fill_(True)

    @property
    def blocked_pairs(self) -> list[tuple[int, int]]:
        """Blocked pairs (i, j) with i < j."""
        blocked = torch.nonzero(~self.pair_allowed).tolist()
        return [(i, j) for i, j in blocked if i < j]

    def _pair_mask(self) -> torch.Tensor | None:
        """Return the (fields, fields) allowed pairs, or None when nothing is blocked."""
        return None if bool(self.pair_allowed.all()) else self.pair_allowed


class InteractingLayer(nn.Module):
    """One multi-head self-attention layer over the field axis, with an optional residual.

    Parameters
    ----------
    input_dim : int
        Size of each field's input vector.
    num_heads : int
        Number of attention heads H.
    head_dim : int
        Size d' of each head's query, key and value. The output has H * d' entries.
    use_residual : bool
        Add ``W_res e_m`` before the ReLU (AutoInt). Fi-GNN's initial node
        states use the layer without it.
    """

    def __init__(self, input_dim: int, num_heads: int, head_dim: int,
                 use_residual: bool = True) -> None:
        super().__init__()
        self.input_dim = check_int("input_dim", input_dim, minimum=1)
        self.num_heads = check_int("num_heads", num_heads, minimum=1)
        self.head_dim = check_int("head_dim", head_dim, minimum=1)
        self.output_dim = self.num_heads * self.head_dim

        self.query = nn.Linear(self.input_dim, self.output_dim, bias=False)
        self.key = nn.Linear(self.input_dim, self.output_dim, bias=False)
        self.value = nn.Linear(self.input_dim, self.output_dim, bias=False)
        self.residual = (nn.Linear(self.input_dim, self.output_dim, bias=False)
                         if use_residual else None)

    def forward(self, fields: torch.Tensor, field_mask: torch.Tensor | None = None,
                pair_allowed: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Attend over the fields of each row.

        ``fields`` has shape (batch, fields, input_dim). A removed field
        (``field_mask`` False) neither gives nor receives attention, so its
        row and column of the weights are zero. ``pair_allowed`` (bool,
        (fields, fields)) zeroes the attention between blocked pairs.

        Returns
        -------
        output : Tensor, shape (batch, fields, num_heads * head_dim)
        weights : Tensor, shape (batch, num_heads, fields, fields)
            ``weights[b, h, m, k]`` is alpha_h(m, k). Each row of a kept field sums
            to 1 over k.
        """
        batch, num_fields, _ = fields.shape

        def split_heads(projected: torch.Tensor) -> torch.Tensor:
            # (batch, fields, heads * head_dim) -> (batch, heads, fields, head_dim)
            return projected.view(batch, num_fields, self.num_heads, self.head_dim).transpose(1, 2)

        query = split_heads(self.query(fields))
        key = split_heads(self.key(fields))
        value = split_heads(self.value(fields))

        scores = query @ key.transpose(-1, -2)                  # (batch, heads, fields, fields)
        if field_mask is None and pair_allowed is None:
            weights = torch.softmax(scores, dim=-1)
        else:
            allowed = torch.ones(num_fields, num_fields, dtype=torch.bool, device=scores.device)
            if field_mask is not None:
                allowed = allowed & field_mask.view(num_fields, 1) & field_mask.view(1, num_fields)
            if pair_allowed is not None:
                allowed = allowed & pair_allowed
            weights = masked_softmax(scores, allowed, dim=-1)

        attended = weights @ value                              # (batch, heads, fields, head_dim)
        output = attended.transpose(1, 2).reshape(batch, num_fields, self.output_dim)
        if self.residual is not None:
            output = output + self.residual(fields)
        return torch.relu(output), weights
