"""Hyperparameter optimization on Optuna studies."""

from workbench.hpo.random_search import RandomSearch
from workbench.hpo.space import check_params, check_space, sample_params, sample_uniform
from workbench.hpo.study_view import StudySnapshot, snapshot_study

__all__ = ["RandomSearch", "StudySnapshot", "check_params", "check_space", "sample_params",
           "sample_uniform", "snapshot_study"]
