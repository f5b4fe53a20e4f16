"""The embedding layer of the click-through-rate models: one d-dimensional vector per field.

The embedding layer of Song et al., "AutoInt: Automatic Feature Interaction
Learning via Self-Attentive Neural Networks", CIKM 2019, maps every field into
the same d-dimensional space:

- categorical field i: ``e_i = V_i x_i``, the row of the field's own table
  ``V_i`` (vocabulary_size, d) selected by the one-hot vector ``x_i``;
- multi-valued field i: ``e_i = (1 / q) V_i x_i`` with ``x_i`` multi-hot over
  the row's q entries, which is the mean of the entries' rows;
- numeric field m: ``e_m = v_m x_m`` with one learned vector ``v_m`` per field
  and the (standardized) scalar value ``x_m``.

The same layer with ``dim=1`` is the linear part of logistic regression and of
a factorization machine: one weight per category and one per numeric field.

The field layout, the meaning of index 0 and the order of the field axis come
from :mod:`workbench.features.fields`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from workbench.core.validation import check_int
from workbench.features.fields import FIELD_KINDS, OUT_OF_VOCABULARY, EncodedFields, FieldSpec

EMBEDDING_INIT_STD = 0.05    # standard deviation of the normal initialization of every vector
TENSOR_KEYS = ("categorical", "numeric", "multi")


def check_fields(fields: Any) -> tuple[FieldSpec, ...]:
    """Return ``fields`` as a tuple after checking kinds, sizes and order.

    The field axis of every model follows the layout of
    :class:`~workbench.features.fields.EncodedFields`: categorical fields
    first, then numeric, then multi-valued.
    """
    if isinstance(fields, (str, bytes)) or not isinstance(fields, Sequence):
        raise TypeError(f"fields must be a sequence of FieldSpec, got {type(fields).__name__}; "
                        f"pass FieldEncoder.fields_ or EncodedFields.fields.")
    fields = tuple(fields)
    if not fields:
        raise ValueError("fields must contain at least one FieldSpec, got an empty sequence.")

    for position, field in enumerate(fields):
        if not isinstance(field, FieldSpec):
            raise TypeError(f"fields[{position}] must be a FieldSpec, got {field!r}.")
        if field.kind not in FIELD_KINDS:
            raise ValueError(f"fields[{position}] ({field.name!r}) has kind {field.kind!r}; "
                             f"use one of {', '.join(FIELD_KINDS)}.")
        if field.kind != "numeric":
            check_int(f"vocabulary_size of field {field.name!r}", field.vocabulary_size,
                      minimum=1)

    kind_ranks = [FIELD_KINDS.index(field.kind) for field in fields]
    if kind_ranks != sorted(kind_ranks):
        order = ", ".join(f"{field.name}:{field.kind}" for field in fields)
        raise ValueError(f"fields must list categorical fields first, then numeric, then "
                         f"multi-valued, got [{order}]; pass the fields in the order of "
                         f"EncodedFields.fields.")
    return fields


def to_tensors(encoded: EncodedFields, device: torch.device | str | None = None,
               ) -> dict[str, torch.Tensor]:
    """Convert encoded rows to the tensors that the models' ``forward`` takes.

    Returns
    -------
    dict
        ``"categorical"``: int64, shape (n, n_categorical);
        ``"numeric"``: float32, shape (n, n_numeric);
        ``"multi"``: int64, shape (n, n_multi, max_length).
    """
    if not isinstance(encoded, EncodedFields):
        raise TypeError(f"encoded must be an EncodedFields, got {type(encoded).__name__}; "
                        f"encode a frame with FieldEncoder.transform first.")
    categorical = np.asarray(encoded.categorical)
    numeric = np.asarray(encoded.numeric)
    multi = np.asarray(encoded.multi)

    n_rows = categorical.shape[0] if categorical.ndim >= 1 else -1
    expected = {"categorical": 2, "numeric": 2, "multi": 3}
    for key, array in (("categorical", categorical), ("numeric", numeric), ("multi", multi)):
        if array.ndim != expected[key] or array.shape[0] != n_rows:
            raise ValueError(f"encoded.{key} has shape {array.shape}; expected "
                             f"{expected[key]} dimensions with {n_rows} rows.")

    return {
        "categorical": torch.as_tensor(categorical.astype(np.int64, copy=False), device=device),
        "numeric": torch.as_tensor(numeric.astype(np.float32, copy=False), device=device),
        "multi": torch.as_tensor(multi.astype(np.int64, copy=False), device=device),
    }


def as_field_mask(field_mask: Any, num_fields: int,
                  device: torch.device | str | None = None) -> torch.Tensor | None:
    """Return ``field_mask`` as a bool tensor of shape (num_fields,), or None for no mask.

    ``True`` keeps a field and ``False`` removes it. At least one field must
    be kept.
    """
    if field_mask is None:
        return None
    if torch.is_tensor(field_mask):
        mask = field_mask.detach().cpu()
    else:
        mask = torch.as_tensor(np.asarray(field_mask))
    if mask.dtype != torch.bool:
        raise TypeError(f"field_mask must be boolean (True keeps a field), got dtype "
                        f"{mask.dtype}; pass for example np.array([True, False, ...]).")
    if mask.shape != (num_fields,):
        raise ValueError(f"field_mask must have shape ({num_fields},), one entry per field, "
                         f"got shape {tuple(mask.shape)}.")
    if not bool(mask.any()):
        raise ValueError("field_mask removes every field; keep at least one field (True).")
    return mask.to(device)


class FieldEmbedding(nn.Module):
    """Embed every field of a row into a d-dimensional vector.

    Each categorical and multi-valued field has its own table of shape
    (vocabulary_size, dim), whose row 0 is a learned vector for out-of-vocabulary
    and missing values. A multi-valued field is the mean of its entries'
    vectors, where padding (index 0) is left out of the mean. A row whose
    entries are all 0 gets the field's out-of-vocabulary vector. A numeric
    field m is ``v_m * x_m``.

    NOTE: the shared layout uses index 0 both for padding and for an unseen
    value inside a multi-valued list, so an unseen entry in a list that also
    has known entries is dropped from the mean.

    Parameters
    ----------
    fields : sequence of FieldSpec
        The field layout, categorical then numeric then multi-valued.
    dim : int
        Embedding size d.

    Example
    -------
    >>> from workbench.features.fields import FieldSpec
    >>> layer = FieldEmbedding([FieldSpec("city", "categorical", 4),
    ...                         FieldSpec("age", "numeric")], dim=8)
    >>> batch = {"categorical": torch.tensor([[1], [0]]), "numeric": torch.tensor([[0.5], [-1.0]]),
    ...          "multi": torch.zeros(2, 0, 0, dtype=torch.long)}
    >>> layer(batch).shape
    torch.Size([2, 2, 8])
    """

    def __init__(self, fields: Sequence[FieldSpec], dim: int) -> None:
        super().__init__()
        self.fields = check_fields(fields)
        self.dim = check_int("dim", dim, minimum=1)
        self.num_fields = len(self.fields)

        categorical = [field for field in self.fields if field.kind == "categorical"]
        numeric = [field for field in self.fields if field.kind == "numeric"]
        multi = [field for field in self.fields if field.kind == "multi"]
        self.categorical_fields = tuple(categorical)
        self.multi_fields = tuple(multi)
        self.num_numeric = len(numeric)

        self.categorical_tables = nn.ModuleList(
            nn.Embedding(field.vocabulary_size, self.dim) for field in categorical)
        self.multi_tables = nn.ModuleList(
            nn.Embedding(field.vocabulary_size, self.dim) for field in multi)
        self.numeric_vectors = nn.Parameter(torch.empty(self.num_numeric, self.dim))

        # Vocabulary sizes, to reject an index that would read past a field's table.
        self.register_buffer("categorical_sizes", torch.tensor(
            [field.vocabulary_size for field in categorical], dtype=torch.long), persistent=False)
        self.register_buffer("multi_sizes", torch.tensor(
            [field.vocabulary_size for field in multi], dtype=torch.long), persistent=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for table in [*self.categorical_tables, *self.multi_tables]:
            nn.init.normal_(table.weight, std=EMBEDDING_INIT_STD)
        nn.init.normal_(self.numeric_vectors, std=EMBEDDING_INIT_STD)

    def forward(self, batch: dict[str, torch.Tensor],
                field_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Embed a batch and return a tensor of shape (batch, fields, dim).

        ``batch`` is the output of :func:`to_tensors`. ``field_mask`` (bool,
        shape (fields,), True keeps a field) sets the vectors of removed fields
        to zero.
        """
        categorical, numeric, multi = self._check_batch(batch)
        parts = []

        for column, table in enumerate(self.categorical_tables):
            parts.append(table(categorical[:, column]))                     # (batch, dim)

        if self.num_numeric:
            # e_m = v_m * x_m: (batch, numeric, 1) * (numeric, dim)
            numeric_embedding = numeric.unsqueeze(-1) * self.numeric_vectors
            parts.extend(numeric_embedding.unbind(dim=1))

        for column, table in enumerate(self.multi_tables):
            parts.append(self._embed_multi(table, multi[:, column]))

        embeddings = torch.stack(parts, dim=1)                              # (batch, fields, dim)
        mask = as_field_mask(field_mask, self.num_fields, embeddings.device)
        if mask is not None:
            embeddings = embeddings * mask.to(embeddings.dtype).unsqueeze(-1)
        return embeddings

    @staticmethod
    def _embed_multi(table: nn.Embedding, indices: torch.Tensor) -> torch.Tensor:
        """Return the mean vector of each row's non-padding entries, shape (batch, dim)."""
        vectors = table(indices)                                            # (batch, length, dim)
        present = (indices != OUT_OF_VOCABULARY).unsqueeze(-1).to(vectors.dtype)
        count = present.sum(dim=1)                                          # (batch, 1)
        mean = (vectors * present).sum(dim=1) / count.clamp(min=1.0)

        # A row with no known entry (empty list, all padding) is out of vocabulary.
        out_of_vocabulary = table.weight[OUT_OF_VOCABULARY].expand_as(mean)
        return torch.where(count > 0, mean, out_of_vocabulary)

    def _check_batch(self, batch: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        if not isinstance(batch, dict):
            raise TypeError(f"batch must be a dict of tensors from to_tensors(), got "
                            f"{type(batch).__name__}.")
        missing = [key for key in TENSOR_KEYS if key not in batch]
        if missing:
            raise ValueError(f"batch is missing the keys {missing}; build it with to_tensors().")
        categorical, numeric, multi = (batch[key] for key in TENSOR_KEYS)

        expected = {
            "categorical": (categorical, 2, len(self.categorical_fields)),
            "numeric": (numeric, 2, self.num_numeric),
            "multi": (multi, 3, len(self.multi_fields)),
        }
        n_rows = categorical.shape[0] if categorical.dim() >= 1 else -1
        for key, (tensor, ndim, columns) in expected.items():
            if tensor.dim() != ndim or tensor.shape[0] != n_rows or tensor.shape[1] != columns:
                raise ValueError(f"batch[{key!r}] has shape {tuple(tensor.shape)}; expected "
                                 f"{ndim} dimensions, {n_rows} rows and {columns} fields of "
                                 f"that kind.")
        if categorical.dtype != torch.long or multi.dtype != torch.long:
            raise TypeError(f"batch['categorical'] and batch['multi'] must be int64 tensors, got "
                            f"{categorical.dtype} and {multi.dtype}; build them with to_tensors().")

        self._check_indices("categorical", categorical, self.categorical_sizes,
                            self.categorical_fields)
        if multi.shape[2] > 0:
            self._check_indices("multi", multi.amax(dim=2), self.multi_sizes, self.multi_fields)
            self._check_indices("multi", multi.amin(dim=2), self.multi_sizes, self.multi_fields)
        return categorical, numeric.to(self.numeric_vectors.dtype), multi

    @staticmethod
    def _check_indices(key: str, indices: torch.Tensor, sizes: torch.Tensor,
                       fields: tuple[FieldSpec, ...]) -> None:
        """Raise ValueError if an index (batch, fields) is negative or past its vocabulary."""
        if indices.numel() == 0:
            return
        invalid = (indices < 0) | (indices >= sizes)
        if bool(invalid.any()):
            row, column = (int(i) for i in invalid.nonzero()[0])
            field = fields[column]
            raise ValueError(f"batch[{key!r}] has index {int(indices[row, column])} in row {row} "
                             f"of field {field.name!r}, outside its vocabulary of "
                             f"{field.vocabulary_size}; encode rows with the encoder these "
                             f"fields came from, which maps unseen values to "
                             f"{OUT_OF_VOCABULARY}.")
