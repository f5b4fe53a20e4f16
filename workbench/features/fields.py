"""The field layout shared by the feature encoders and the click-through-rate models.

A tabular row has F fields. Each field becomes one embedding vector of size d
inside a model, so a batch is a tensor of shape (batch, F, d) after the
embedding layer. Three field kinds exist:

- categorical: one index per row into the field's vocabulary;
- numeric: one float per row, embedded as ``e = v * x`` (AutoInt, Song et
  al., CIKM 2019, Section 4.1) with a learned vector ``v`` per field;
- multi-valued: a padded list of indices per row (for example movie genres),
  embedded as the mean of its entries' embeddings.

Index 0 of every categorical and multi-valued vocabulary is reserved for
"out of vocabulary or missing", so an unseen category never fails at
prediction time. Padding of multi-valued fields uses index 0 too, and the
mean skips it.
"""

from __future__ import annotations

import dataclasses

import numpy as np

FIELD_KINDS = ("categorical", "numeric", "multi")
OUT_OF_VOCABULARY = 0    # index of unseen, rare and missing categories in every vocabulary


@dataclasses.dataclass(frozen=True)
class FieldSpec:
    """One field: its name, kind and vocabulary size (1 for numeric fields).

    ``vocabulary_size`` counts index 0 (out of vocabulary), so a categorical
    field with 5 kept categories has ``vocabulary_size == 6``.
    """

    name: str
    kind: str
    vocabulary_size: int = 1


@dataclasses.dataclass(frozen=True)
class EncodedFields:
    """A batch of encoded rows, fields in the order of ``fields``.

    Attributes
    ----------
    fields : tuple of FieldSpec
        Categorical fields first, then numeric, then multi-valued; a model's
        field axis follows this order.
    categorical : ndarray of int64, shape (n, n_categorical)
        Index within each field's own vocabulary (0 = out of vocabulary).
    numeric : ndarray of float32, shape (n, n_numeric)
        Standardized values; a missing value is 0 (the training mean).
    multi : ndarray of int64, shape (n, n_multi, max_length)
        Indices within each field's vocabulary, padded with 0.
    """

    fields: tuple[FieldSpec, ...]
    categorical: np.ndarray
    numeric: np.ndarray
    multi: np.ndarray

    def __len__(self) -> int:
        return int(self.categorical.shape[0])

    @property
    def field_names(self) -> list[str]:
        return [field.name for field in self.fields]

    def take(self, rows: np.ndarray) -> EncodedFields:
        """Return the rows at ``rows`` (an index array or boolean mask)."""
        return EncodedFields(self.fields, self.categorical[rows], self.numeric[rows],
                             self.multi[rows])
