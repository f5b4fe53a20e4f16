"""Logistic regression and the factorization machine as click-through-rate baselines.

Both models return logits of shape (batch,), and the click probability is
their sigmoid.

- Logistic regression: ``logit = b + sum_f w_f(x_f)`` with one weight per
  category (a one-hot feature), the mean weight of a multi-valued field's
  entries, and ``w_m x_m`` for a numeric field m.
- Factorization machine (Rendle, "Factorization Machines", ICDM 2010):
  ``logit = b + sum_i w_i x_i + sum_{i<j} <v_i, v_j> x_i x_j``. With one
  active feature per field, ``v_i x_i`` is the field's embedding e_i. Rendle
  rewrites the pairwise sum so that it costs O(F d) instead of O(F^2 d):
  ``sum_{i<j} <e_i, e_j> = 1/2 sum_d [(sum_i e_id)^2 - sum_i e_id^2]``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from workbench.core.validation import check_int
from workbench.features.attention import PairMasking
from workbench.features.embedding import FieldEmbedding, as_field_mask, check_fields
from workbench.features.fields import FieldSpec


class LogisticRegressionCTR(nn.Module):
    """Logistic regression over the encoded fields: a weight per category and per numeric field.

    Parameters
    ----------
    fields : sequence of FieldSpec
        The field layout, categorical then numeric then multi-valued.
    """

    def __init__(self, fields: Sequence[FieldSpec]) -> None:
        super().__init__()
        self.fields = check_fields(fields)
        self.weights = FieldEmbedding(self.fields, dim=1)
        self.bias = nn.Parameter(torch.zeros(()))

    def forward(self, batch: dict[str, torch.Tensor], field_mask=None) -> torch.Tensor:
        """Return logits of shape (batch,). Removed fields (``field_mask`` False) add nothing."""
        mask = as_field_mask(field_mask, len(self.fields), self.bias.device)
        weights = self.weights(batch, mask)                 # (batch, fields, 1)
        return self.bias + weights.sum(dim=(1, 2))


class FactorizationMachine(PairMasking, nn.Module):
    """Second-order factorization machine over field embeddings (Rendle 2010).

    NOTE: interactions are between fields, so the entries of one
    multi-valued field (averaged into one vector) do not interact with each
    other, unlike a factorization machine over the raw multi-hot features.

    Parameters
    ----------
    fields : sequence of FieldSpec
        The field layout, categorical then numeric then multi-valued.
    embedding_dim : int
        Size k of the factor vectors v_i.
    """

    def __init__(self, fields: Sequence[FieldSpec], embedding_dim: int = 16) -> None:
        super().__init__()
        self.fields = check_fields(fields)
        self.num_fields = len(self.fields)
        self._init_pair_mask(self.num_fields)
        self.embedding_dim = check_int("embedding_dim", embedding_dim, minimum=1)
        self.linear = FieldEmbedding(self.fields, dim=1)
        self.factors = FieldEmbedding(self.fields, dim=self.embedding_dim)
        self.bias = nn.Parameter(torch.zeros(()))

    @staticmethod
    def pairwise_interactions(embeddings: torch.Tensor) -> torch.Tensor:
        """Return ``sum_{i<j} <e_i, e_j>`` per row, shape (batch,), in O(fields * dim).

        ``embeddings`` has shape (batch, fields, dim).
        """
        square_of_sum = embeddings.sum(dim=1).pow(2)        # (batch, dim)
        sum_of_squares = embeddings.pow(2).sum(dim=1)       # (batch, dim)
        return 0.5 * (square_of_sum - sum_of_squares).sum(dim=1)

    def forward(self, batch: dict[str, torch.Tensor], field_mask=None) -> torch.Tensor:
        """Return logits of shape (batch,). Removed fields (``field_mask`` False) add nothing."""
        mask = as_field_mask(field_mask, len(self.fields), self.bias.device)
        linear = self.linear(batch, mask).sum(dim=(1, 2))  # (batch,)
        embeddings = self.factors(batch, mask)              # (batch, fields, dim)
        interactions = self.pairwise_interactions(embeddings)
        # Blocked pairs (an ablation) are taken back out of the sum one by one.
        for first, second in self.blocked_pairs:
            interactions = interactions - (embeddings[:, first] * embeddings[:, second]).sum(-1)
        return self.bias + linear + interactions
