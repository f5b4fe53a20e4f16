"""Automatic feature generation: field encoders and models that learn feature interactions."""

from workbench.features.ctr_data import CTRData, binary_labels, load_criteo_ctr, load_movielens_ctr
from workbench.features.encoding import FieldEncoder
from workbench.features.fields import FIELD_KINDS, OUT_OF_VOCABULARY, EncodedFields, FieldSpec

__all__ = ["CTRData", "EncodedFields", "FIELD_KINDS", "FieldEncoder", "FieldSpec",
           "OUT_OF_VOCABULARY", "binary_labels", "load_criteo_ctr", "load_movielens_ctr"]
