"""AutoInt and AutoInt+ for click-through-rate prediction.

Song et al., "AutoInt: Automatic Feature Interaction Learning via
Self-Attentive Neural Networks", CIKM 2019:

1. the embedding layer maps each of the M fields to a vector e_m of size d
   (:class:`~workbench.features.embedding.FieldEmbedding`);
2. L interacting layers, each H-head self-attention over the fields with a
   residual connection (:class:`~workbench.features.attention.InteractingLayer`);
   layer l models interactions of up to l + 1 fields;
3. the output layer ``logit = w^T (e_1^res (+) ... (+) e_M^res) + b`` over the
   concatenated final field vectors. The models return the logit, and the
   click probability is its sigmoid.

AutoInt+ adds a feed-forward network over the concatenated embeddings
(e_1 (+) ... (+) e_M) in parallel, and sums the two logits.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from workbench.core.validation import check_float, check_int
from workbench.features.attention import InteractingLayer, PairMasking
from workbench.features.embedding import FieldEmbedding, as_field_mask, check_fields
from workbench.features.fields import FieldSpec


class AutoInt(PairMasking, nn.Module):
    """Stacked multi-head self-attention over field embeddings (Song et al., CIKM 2019).

    Parameters
    ----------
    fields : sequence of FieldSpec
        The field layout, categorical then numeric then multi-valued.
    embedding_dim : int
        Embedding size d.
    num_layers : int
        Number of interacting layers L.
    num_heads : int
        Attention heads H per layer.
    head_dim : int or None
        Size d' of each head's query, key and value. None uses ``embedding_dim``.
    use_residual : bool
        Add the residual ``W_res e_m`` in each interacting layer.

    Example
    -------
    >>> from workbench.features.fields import FieldSpec
    >>> model = AutoInt([FieldSpec("city", "categorical", 5), FieldSpec("age", "numeric")],
    ...                 embedding_dim=8, num_layers=2, num_heads=2)
    >>> batch = {"categorical": torch.tensor([[3], [0]]), "numeric": torch.tensor([[0.2], [1.5]]),
    ...          "multi": torch.zeros(2, 0, 0, dtype=torch.long)}
    >>> model(batch).shape
    torch.Size([2])
    >>> model.attention_maps(batch)["weights"].shape    # (rows, layers, heads, fields, fields)
    (2, 2, 2, 2, 2)
    """

    def __init__(self, fields: Sequence[FieldSpec], embedding_dim: int = 16, num_layers: int = 3,
                 num_heads: int = 2, head_dim: int | None = None,
                 use_residual: bool = True) -> None:
        super().__init__()
        self.fields = check_fields(fields)
        self.num_fields = len(self.fields)
        self._init_pair_mask(self.num_fields)
        self.embedding_dim = check_int("embedding_dim", embedding_dim, minimum=1)
        self.num_layers = check_int("num_layers", num_layers, minimum=1)
        self.num_heads = check_int("num_heads", num_heads, minimum=1)
        self.head_dim = (self.embedding_dim if head_dim is None
                         else check_int("head_dim", head_dim, minimum=1))

        self.embedding = FieldEmbedding(self.fields, self.embedding_dim)
        layers = []
        input_dim = self.embedding_dim
        for _ in range(self.num_layers):
            layers.append(InteractingLayer(input_dim, self.num_heads, self.head_dim,
                                           use_residual=bool(use_residual)))
            input_dim = layers[-1].output_dim
        self.interacting_layers = nn.ModuleList(layers)
        self.output = nn.Linear(self.num_fields * input_dim, 1)

    def forward(self, batch: dict[str, torch.Tensor], field_mask=None) -> torch.Tensor:
        """Return logits of shape (batch,).

        ``field_mask`` (bool, shape (fields,), True keeps a field) removes
        fields: their embeddings are zero, they take no part in attention and
        add nothing to the output layer.
        """
        mask = as_field_mask(field_mask, self.num_fields, self.output.weight.device)
        embeddings = self.embedding(batch, mask)            # (batch, fields, d)
        logits, _ = self._attention_logits(embeddings, mask)
        return logits

    def _attention_logits(self, embeddings: torch.Tensor, mask: torch.Tensor | None,
                          ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Return the output layer's logits (batch,) and each layer's weights (batch, H, F, F)."""
        hidden = embeddings
        layer_weights = []
        for layer in self.interacting_layers:
            hidden, weights = layer(hidden, mask, self._pair_mask())  # (batch, fields, H * d')
            layer_weights.append(weights)
        if mask is not None:
            hidden = hidden * mask.to(hidden.dtype).unsqueeze(-1)
        logits = self.output(hidden.flatten(start_dim=1)).squeeze(-1)
        return logits, layer_weights

    @torch.no_grad()
    def attention_maps(self, batch: dict[str, torch.Tensor], field_mask=None,
                       ) -> dict[str, np.ndarray]:
        """Compute the attention weights of every layer and head, in evaluation mode.

        Returns
        -------
        dict
            ``"weights"``: shape (rows, layers, heads, fields, fields), where
            ``weights[r, l, h, m, k]`` is how much field m attends to field k.
            Each row sums to 1 over k. Rows and columns of removed fields are
            zero.
            ``"mean"``: the mean over rows, shape (layers, heads, fields, fields).

        NOTE: with two or more layers, the mean map can stay close to uniform
        even for a strongly interacting pair. On a synthetic XOR of two fields,
        the ReLU after the first layer's value sum computed the XOR with
        near-uniform attention, while a single-layer model attended to the pair.
        """
        mask = as_field_mask(field_mask, self.num_fields, self.output.weight.device)
        was_training = self.training
        self.eval()
        try:
            embeddings = self.embedding(batch, mask)
            _, layer_weights = self._attention_logits(embeddings, mask)
        finally:
            self.train(was_training)

        weights = torch.stack(layer_weights, dim=1).cpu().numpy()  # (rows, L, H, F, F)
        if weights.shape[0] == 0:
            raise ValueError("batch has no rows; pass at least one row to compute attention maps.")
        return {"weights": weights, "mean": weights.mean(axis=0)}


class AutoIntPlus(AutoInt):
    """AutoInt with a parallel feed-forward network over the concatenated embeddings.

    Parameters are those of :class:`AutoInt`, and:

    hidden_units : sequence of int
        Widths of the feed-forward network's hidden layers (ReLU after each).
    dropout : float
        Dropout probability after each hidden layer, in [0, 1).
    """

    def __init__(self, fields: Sequence[FieldSpec], embedding_dim: int = 16, num_layers: int = 3,
                 num_heads: int = 2, head_dim: int | None = None, use_residual: bool = True,
                 hidden_units: Sequence[int] = (64, 64), dropout: float = 0.0) -> None:
        super().__init__(fields, embedding_dim=embedding_dim, num_layers=num_layers,
                         num_heads=num_heads, head_dim=head_dim, use_residual=use_residual)
        if isinstance(hidden_units, (str, bytes)) or not isinstance(hidden_units, Sequence):
            raise TypeError(f"hidden_units must be a sequence of layer widths, got "
                            f"{hidden_units!r}; pass for example (64, 64).")
        widths = [check_int(f"hidden_units[{i}]", width, minimum=1)
                  for i, width in enumerate(hidden_units)]
        dropout = check_float("dropout", dropout, minimum=0.0, maximum=0.999)
        self.hidden_units = tuple(widths)
        self.dropout = dropout

        layers: list[nn.Module] = []
        input_dim = self.num_fields * self.embedding_dim
        for width in widths:
            layers += [nn.Linear(input_dim, width), nn.ReLU(), nn.Dropout(dropout)]
            input_dim = width
        layers.append(nn.Linear(input_dim, 1))
        self.feed_forward = nn.Sequential(*layers)

    def forward(self, batch: dict[str, torch.Tensor], field_mask=None) -> torch.Tensor:
        """Return logits of shape (batch,): the AutoInt logit plus the feed-forward logit."""
        mask = as_field_mask(field_mask, self.num_fields, self.output.weight.device)
        embeddings = self.embedding(batch, mask)            # (batch, fields, d)
        attention_logits, _ = self._attention_logits(embeddings, mask)
        feed_forward_logits = self.feed_forward(embeddings.flatten(start_dim=1)).squeeze(-1)
        return attention_logits + feed_forward_logits
