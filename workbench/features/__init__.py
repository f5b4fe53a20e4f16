"""Automatic feature generation: field encoders and models that learn feature interactions."""

from workbench.features.autoint import AutoInt, AutoIntPlus
from workbench.features.classifier import CTRClassifier, build_ctr_model, train_ctr_model
from workbench.features.ctr_data import CTRData, binary_labels, load_criteo_ctr, load_movielens_ctr
from workbench.features.ctr_search import Ablation, CTRSnapshot, CTRTraining
from workbench.features.encoding import FieldEncoder
from workbench.features.fields import FIELD_KINDS, OUT_OF_VOCABULARY, EncodedFields, FieldSpec
from workbench.features.fignn import FiGNN
from workbench.features.linear_models import FactorizationMachine, LogisticRegressionCTR

__all__ = ["Ablation", "AutoInt", "AutoIntPlus", "CTRClassifier", "CTRData", "CTRSnapshot",
           "CTRTraining", "EncodedFields", "FIELD_KINDS", "FactorizationMachine", "FiGNN",
           "FieldEncoder", "FieldSpec", "LogisticRegressionCTR", "OUT_OF_VOCABULARY",
           "binary_labels", "build_ctr_model", "load_criteo_ctr", "load_movielens_ctr",
           "train_ctr_model"]
