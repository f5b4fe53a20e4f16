"""The graph neural network of FIVES, with one learned adjacency matrix per order.

Xie, Wang, Li, Ding, Gürel, Zhang, Huang, Lin and Zhou, "FIVES: Feature
Interaction Via Edge Search for Large-Scale Tabular Data", KDD 2021
(arXiv:2007.14573). The fields of a table are the nodes of a feature graph.
Node i starts from the embedding of its field's value, n_i^(0) = e_i, and
order k = 1, ..., K of the graph updates it as

    p_i^(k) = 1 / (m - 1) * sum_{j != i} A^(k)[i, j] * W_j^(k) n_j^(k-1)
    n_i^(k) = p_i^(k) * n_i^(0)                      (elementwise product)

so n_i^(k) is a sum of products of k + 1 field embeddings, one product for
each path i <- j <- ... of edges kept at orders k, k - 1, ..., 1. A product
is the embedding of the cross of those fields, so the edges of A^(1) select
crosses of two fields, and the edges of A^(k) extend the crosses of order
k - 1 by one more field. Each edge is a Bernoulli variable whose
probability is A^(k)[i, j] = sigmoid(H^(k)[i, j]), and the parameters H^(k)
are the architecture parameters of a differentiable search.

Rows of every adjacency matrix are target nodes and columns are source
nodes: A[i, j] is the weight with which node i receives the message of
node j. Self-loops are excluded, because a field crossed with itself is the
field again.

The readout is linear in the concatenated n^(0), ..., n^(K) of all nodes,
so every interaction that the model uses passes through an edge, and n^(0)
alone gives logistic regression on the fields.

NOTE: this follows the recursion above, not every detail of the paper. The
paper ties A^(k) to A^(k-1) (a recursive adjacency tensor), re-scales the
probabilities with an annealed temperature and reads out with an MLP. Here
each order has its own H^(k), with no temperature and a linear readout. The
aggregation divides by the fixed m - 1 instead of the number of sampled
neighbors, so each probability sets its edge's weight on an absolute scale,
which the per-order threshold of the derivation reads.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

RELAXATIONS = ("soft", "straight_through")
"""Relaxations of the Bernoulli edges in the training forward pass.

"soft" weights an edge with its probability A[i, j], the expected value of
the Bernoulli edge. "straight_through" weights it with a Bernoulli sample of
0 or 1 and passes the gradient of A[i, j] (straight-through estimator).
"""

FORCED_OFF, LEARNED, FORCED_ON = -1, 0, 1
"""Codes of the ``forced`` array: an edge forced off, learned, or forced on."""


class FivesModel(nn.Module):
    """The FIVES graph network over m categorical fields, with K adjacency orders.

    Parameters
    ----------
    cardinalities : sequence of int, length m
        Number of codes of each field, index 0 included.
    order : int
        Number K of graph orders, each with its own adjacency matrix.
    embedding_dim : int
        Size d of every node representation.

    Attributes
    ----------
    embedding : nn.Embedding
        One table for all fields; field f's code c is row offsets[f] + c.
    transforms : nn.Parameter, shape (K, m, d, d)
        W_j^(k), the message transform of source node j at order k,
        initialized to the identity.
    readout : nn.Linear
        Maps the concatenated n^(0), ..., n^(K) of all nodes, (K + 1) * m * d
        values, to one logit.
    edge_logits : nn.Parameter, shape (K, m, m)
        H^(k), the architecture parameters; sigmoid(H) is the edge probability.
    forced : buffer of int8, shape (K, m, m)
        FORCED_OFF, LEARNED or FORCED_ON per edge. The diagonal is always off.
    """

    def __init__(self, cardinalities: Sequence[int], order: int, embedding_dim: int) -> None:
        super().__init__()
        cardinalities = [int(c) for c in cardinalities]
        n_fields = len(cardinalities)
        self.n_fields, self.order, self.embedding_dim = n_fields, int(order), int(embedding_dim)

        offsets = np.concatenate([[0], np.cumsum(cardinalities)[:-1]]).astype(np.int64)
        self.register_buffer("offsets", torch.as_tensor(offsets))
        self.embedding = nn.Embedding(int(sum(cardinalities)), embedding_dim)
        nn.init.normal_(self.embedding.weight, std=0.1)

        identity = torch.eye(embedding_dim).expand(self.order, n_fields, -1, -1)
        self.transforms = nn.Parameter(identity.clone())
        self.readout = nn.Linear((self.order + 1) * n_fields * embedding_dim, 1)
        nn.init.normal_(self.readout.weight, std=0.01)
        nn.init.zeros_(self.readout.bias)

        # H = 0 starts every edge at probability 0.5: no edge is preferred.
        self.edge_logits = nn.Parameter(torch.zeros(self.order, n_fields, n_fields))
        self.register_buffer("forced", torch.zeros(self.order, n_fields, n_fields,
                                                   dtype=torch.int8))
        self.register_buffer("_off_diagonal", 1.0 - torch.eye(n_fields))

    def weights(self) -> list[nn.Parameter]:
        """Return the model parameters w, trained on the training split."""
        return [p for name, p in self.named_parameters() if name != "edge_logits"]

    def arch_parameters(self) -> list[nn.Parameter]:
        """Return the architecture parameters [H], trained on the validation split."""
        return [self.edge_logits]

    def edge_probabilities(self) -> torch.Tensor:
        """Return A, shape (K, m, m): sigmoid(H) with forced edges and the diagonal applied."""
        return self._apply_forced(torch.sigmoid(self.edge_logits))

    def _apply_forced(self, weights: torch.Tensor) -> torch.Tensor:
        weights = torch.where(self.forced == FORCED_ON, torch.ones_like(weights), weights)
        weights = torch.where(self.forced == FORCED_OFF, torch.zeros_like(weights), weights)
        return weights * self._off_diagonal

    def edge_weights(self, relaxation: str = "soft",
                     generator: torch.Generator | None = None) -> torch.Tensor:
        """Return the edge weights of one forward pass, shape (K, m, m).

        In evaluation mode, and for the "soft" relaxation, the weights are the
        probabilities A. For "straight_through" in training mode they are
        Bernoulli samples b ~ Bernoulli(A) whose gradient is that of A
        (b + A - stop_gradient(A)), drawn with ``generator``.
        """
        probabilities = torch.sigmoid(self.edge_logits)
        if self.training and relaxation == "straight_through":
            sample = torch.bernoulli(probabilities.detach(), generator=generator)
            probabilities = sample + probabilities - probabilities.detach()
        return self._apply_forced(probabilities)

    def forward(self, codes: torch.Tensor, relaxation: str = "soft",
                generator: torch.Generator | None = None) -> torch.Tensor:
        """Return the logits, shape (batch,), of int64 ``codes`` of shape (batch, m)."""
        weights = self.edge_weights(relaxation, generator)             # (K, m, m)
        initial = self.embedding(codes + self.offsets)                  # (batch, m, d)
        nodes = initial
        layers = [initial]
        for k in range(self.order):
            # messages[b, j] = W_j^(k) n_j^(k-1)
            messages = torch.einsum("jed,bjd->bje", self.transforms[k], nodes)
            aggregated = torch.einsum("ij,bjd->bid", weights[k], messages)
            aggregated = aggregated / max(self.n_fields - 1, 1)        # (batch, m, d)
            nodes = aggregated * initial
            layers.append(nodes)
        features = torch.cat(layers, dim=1).flatten(1)                  # (batch, (K+1) m d)
        return self.readout(features).squeeze(-1)
