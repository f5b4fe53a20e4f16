"""Fi-GNN: the fields of a row as the nodes of a fully connected feature graph.

Li et al., "Fi-GNN: Modeling Feature Interactions via Graph Neural Networks
for CTR Prediction", CIKM 2019. With field embeddings e_1 .. e_M:

1. initial node states ``H^1 = ReLU(multi-head self-attention(E))``, the
   interacting layer of AutoInt without its residual term;
2. attentional edge weights from pairs of embeddings, a softmax over each
   node's neighbours and no self-loops:
   ``A[i, j] = softmax_{j != i} LeakyReLU(w^T [e_i (+) e_j])``, ``A[i, i] = 0``;
3. T steps of message passing. The edge n_j -> n_i transforms by the output
   matrix of its source node and the input matrix of its target node:
   ``a_i^t = W_in^i sum_{j != i} A[i, j] W_out^j h_j^{t-1} + b``;
4. the GRU state update with a residual connection to the initial state:
   ``h_i^t = GRU(h_i^{t-1}, a_i^t) + h_i^1``;
5. the attentional scoring layer: a score ``y_i = MLP_1(h_i^T)`` and an
   attention weight ``a_i`` from ``MLP_2(h_i^T)`` per node, and
   ``logit = sum_i a_i y_i``.

Here ``A[i, j]`` is the weight that node i gives to the message from node j,
so every row of A sums to 1 over the neighbours. MLP_1 and MLP_2 are single
linear layers shared by all nodes, and the node weights a_i are a softmax of
``MLP_2(h_i^T)`` over the fields. The softmax is this module's choice: it makes
the node weights of different rows comparable in the attention maps.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from workbench.core.validation import check_int
from workbench.features.attention import InteractingLayer, PairMasking, masked_softmax
from workbench.features.embedding import FieldEmbedding, as_field_mask, check_fields
from workbench.features.fields import FieldSpec

EDGE_NEGATIVE_SLOPE = 0.2    # slope of the LeakyReLU in the edge scores for negative inputs


class FiGNN(PairMasking, nn.Module):
    """Feature interaction graph neural network (Li et al., CIKM 2019).

    Parameters
    ----------
    fields : sequence of FieldSpec
        The field layout, categorical then numeric then multi-valued.
    embedding_dim : int
        Embedding size d.
    num_heads : int
        Heads of the self-attention layer that computes the initial node states.
    head_dim : int or None
        Size of each head. None uses ``embedding_dim``. Node states have
        ``num_heads * head_dim`` entries.
    num_steps : int
        Message-passing steps T.

    Example
    -------
    >>> from workbench.features.fields import FieldSpec
    >>> model = FiGNN([FieldSpec("city", "categorical", 5), FieldSpec("age", "numeric"),
    ...                FieldSpec("genres", "multi", 4)], embedding_dim=8)
    >>> batch = {"categorical": torch.tensor([[3], [0]]), "numeric": torch.tensor([[0.2], [1.5]]),
    ...          "multi": torch.tensor([[[1, 2]], [[3, 0]]])}
    >>> model(batch).shape
    torch.Size([2])
    >>> model.attention_maps(batch)["edge_weights"].shape    # (rows, fields, fields)
    (2, 3, 3)
    """

    def __init__(self, fields: Sequence[FieldSpec], embedding_dim: int = 16, num_heads: int = 2,
                 head_dim: int | None = None, num_steps: int = 3) -> None:
        super().__init__()
        self.fields = check_fields(fields)
        self.num_fields = len(self.fields)
        self._init_pair_mask(self.num_fields)
        self.embedding_dim = check_int("embedding_dim", embedding_dim, minimum=1)
        self.num_heads = check_int("num_heads", num_heads, minimum=1)
        self.head_dim = (self.embedding_dim if head_dim is None
                         else check_int("head_dim", head_dim, minimum=1))
        self.num_steps = check_int("num_steps", num_steps, minimum=1)
        state_dim = self.num_heads * self.head_dim
        self.state_dim = state_dim

        self.embedding = FieldEmbedding(self.fields, self.embedding_dim)
        self.self_attention = InteractingLayer(self.embedding_dim, self.num_heads, self.head_dim,
                                               use_residual=False)

        # w^T [e_i (+) e_j] = w_target . e_i + w_source . e_j, one output column each.
        self.edge_scorer = nn.Linear(self.embedding_dim, 2, bias=False)

        # Per-node output and input matrices of the edge-wise transformation.
        self.output_matrices = nn.Parameter(torch.empty(self.num_fields, state_dim, state_dim))
        self.input_matrices = nn.Parameter(torch.empty(self.num_fields, state_dim, state_dim))
        self.aggregation_bias = nn.Parameter(torch.zeros(state_dim))
        self.gru = nn.GRUCell(state_dim, state_dim)

        self.node_score = nn.Linear(state_dim, 1)              # MLP_1
        # MLP_2 needs no bias because the softmax over nodes cancels it.
        self.node_attention = nn.Linear(state_dim, 1, bias=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.state_dim)
        nn.init.uniform_(self.output_matrices, -bound, bound)
        nn.init.uniform_(self.input_matrices, -bound, bound)
        nn.init.zeros_(self.aggregation_bias)

    def forward(self, batch: dict[str, torch.Tensor], field_mask=None) -> torch.Tensor:
        """Return logits of shape (batch,).

        ``field_mask`` (bool, shape (fields,), True keeps a field) removes
        fields: their embeddings are zero, they send no messages and their
        node weight is zero.
        """
        logits, _, _ = self._propagate(batch, field_mask)
        return logits

    def _propagate(self, batch: dict[str, torch.Tensor], field_mask,
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Return logits (batch,), edge weights (batch, F, F) and node weights (batch, F)."""
        device = self.aggregation_bias.device
        mask = as_field_mask(field_mask, self.num_fields, device)
        kept_fields = (torch.ones(self.num_fields, dtype=torch.bool, device=device)
                       if mask is None else mask)

        embeddings = self.embedding(batch, mask)                    # (batch, F, d)
        initial_states, _ = self.self_attention(embeddings, mask, self._pair_mask())  # (b, F, D)
        edge_weights = self._edge_weights(embeddings, kept_fields)  # (batch, F, F)

        batch_size = embeddings.shape[0]
        states = initial_states
        for _ in range(self.num_steps):
            # W_out^j h_j for every source node j: (batch, F, D)
            messages = torch.einsum("bjd,jed->bje", states, self.output_matrices)
            gathered = edge_weights @ messages                 # sum_j A[i, j] W_out^j h_j
            aggregated = (torch.einsum("bid,ied->bie", gathered, self.input_matrices)
                          + self.aggregation_bias)
            updated = self.gru(aggregated.reshape(-1, self.state_dim),
                               states.reshape(-1, self.state_dim))
            states = updated.view(batch_size, self.num_fields, self.state_dim) + initial_states

        scores = self.node_score(states).squeeze(-1)           # (batch, F)
        node_weights = masked_softmax(self.node_attention(states).squeeze(-1), kept_fields)
        logits = (node_weights * scores).sum(dim=1)
        return logits, edge_weights, node_weights

    def _edge_weights(self, embeddings: torch.Tensor, kept_fields: torch.Tensor) -> torch.Tensor:
        """Return A of shape (batch, F, F): a softmax over the kept neighbours j != i of each i."""
        parts = self.edge_scorer(embeddings)                   # (batch, F, 2)
        scores = parts[..., 0].unsqueeze(2) + parts[..., 1].unsqueeze(1)  # [b, i, j]
        scores = nn.functional.leaky_relu(scores, EDGE_NEGATIVE_SLOPE)

        no_self_loops = ~torch.eye(self.num_fields, dtype=torch.bool, device=embeddings.device)
        allowed = no_self_loops & kept_fields.view(-1, 1) & kept_fields.view(1, -1)
        allowed = allowed & self.pair_allowed
        return masked_softmax(scores, allowed, dim=-1)

    @torch.no_grad()
    def attention_maps(self, batch: dict[str, torch.Tensor], field_mask=None,
                       ) -> dict[str, np.ndarray]:
        """Compute the edge weights and the node weights of the scoring layer, in evaluation mode.

        Returns
        -------
        dict
            ``"edge_weights"``: shape (rows, fields, fields). Entry [r, i, j] is
            the weight node i gives to node j. Rows of kept fields sum to 1
            over their kept neighbours (a field with no kept neighbour has a
            zero row), and the diagonal is zero.
            ``"edge_mean"``: the mean over rows, shape (fields, fields).
            ``"node_weights"``: shape (rows, fields), summing to 1 over fields.
            ``"node_mean"``: the mean over rows, shape (fields,).
        """
        was_training = self.training
        self.eval()
        try:
            _, edge_weights, node_weights = self._propagate(batch, field_mask)
        finally:
            self.train(was_training)

        edge_weights = edge_weights.cpu().numpy()
        node_weights = node_weights.cpu().numpy()
        if edge_weights.shape[0] == 0:
            raise ValueError("batch has no rows; pass at least one row to compute attention maps.")
        return {"edge_weights": edge_weights, "edge_mean": edge_weights.mean(axis=0),
                "node_weights": node_weights, "node_mean": node_weights.mean(axis=0)}
