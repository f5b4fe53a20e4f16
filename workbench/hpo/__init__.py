"""Hyperparameter optimization on Optuna studies."""

from workbench.hpo.bandits import BanditSnapshot, Hyperband, SuccessiveHalving
from workbench.hpo.bayesian_optimization import BayesianOptimization, BOSnapshot
from workbench.hpo.gp_sampler import GPEISampler
from workbench.hpo.grid_search import GridSearch, grid_values
from workbench.hpo.race import Race, RaceSnapshot
from workbench.hpo.random_search import RandomSearch
from workbench.hpo.space import check_params, check_space, sample_params, sample_uniform
from workbench.hpo.study_search import StudySearch
from workbench.hpo.study_view import StudySnapshot, snapshot_study

__all__ = ["BOSnapshot", "BanditSnapshot", "BayesianOptimization", "GPEISampler", "GridSearch",
           "Hyperband", "Race", "RaceSnapshot", "RandomSearch", "SuccessiveHalving",
           "StudySearch", "StudySnapshot", "check_params", "check_space", "grid_values",
           "sample_params", "sample_uniform", "snapshot_study"]
