"""Automatic feature generation: field encoders and models that learn feature interactions."""

from workbench.features.autocross import AutoCross, AutoCrossSnapshot, AutoCrossTransformer
from workbench.features.autofis import AutoFIS, AutoFISClassifier, AutoFISSnapshot
from workbench.features.autoint import AutoInt, AutoIntPlus
from workbench.features.categorical_table import CategoricalTable, TableEncoder
from workbench.features.classifier import CTRClassifier, build_ctr_model, train_ctr_model
from workbench.features.crosses import CrossEncoder, cross_codes, cross_name
from workbench.features.ctr_data import CTRData, binary_labels, load_criteo_ctr, load_movielens_ctr
from workbench.features.ctr_search import Ablation, CTRSnapshot, CTRTraining
from workbench.features.discretize import MultiGranularityDiscretizer
from workbench.features.encoding import FieldEncoder
from workbench.features.feature_data import FeatureData, load_feature_data, prepare_feature_data
from workbench.features.fields import FIELD_KINDS, OUT_OF_VOCABULARY, EncodedFields, FieldSpec
from workbench.features.fignn import FiGNN
from workbench.features.fives import Fives, FivesSnapshot, derive_crosses
from workbench.features.fives_model import FivesModel
from workbench.features.fives_transformer import FivesTransformer
from workbench.features.gated_models import GatedDeepFM, GatedFM
from workbench.features.grda import GRDA
from workbench.features.linear_models import FactorizationMachine, LogisticRegressionCTR
from workbench.features.sparse_lr import (fit_logistic_regression, logistic_regression_auc, one_hot,
                                          tune_logistic_regression)
from workbench.features.synthetic import planted_interaction_data

__all__ = ["AutoCross", "AutoCrossSnapshot", "AutoCrossTransformer", "CategoricalTable",
           "CrossEncoder", "FeatureData", "MultiGranularityDiscretizer", "TableEncoder",
           "cross_codes", "cross_name", "fit_logistic_regression", "load_feature_data",
           "logistic_regression_auc", "one_hot", "prepare_feature_data",
           "tune_logistic_regression"]
__all__ += ["Ablation", "AutoInt", "AutoIntPlus", "CTRClassifier", "CTRData", "CTRSnapshot",
           "CTRTraining", "EncodedFields", "FIELD_KINDS", "FactorizationMachine", "FiGNN",
           "FieldEncoder", "FieldSpec", "LogisticRegressionCTR", "OUT_OF_VOCABULARY",
           "binary_labels", "build_ctr_model", "load_criteo_ctr", "load_movielens_ctr",
           "train_ctr_model"]
__all__ += ["Fives", "FivesModel", "FivesSnapshot", "FivesTransformer", "derive_crosses"]
__all__ += ["AutoFIS", "AutoFISClassifier", "AutoFISSnapshot", "GRDA", "GatedDeepFM", "GatedFM",
            "planted_interaction_data"]
