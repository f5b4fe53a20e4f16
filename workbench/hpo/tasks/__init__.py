"""Objectives on real data, and standard test functions with known optima."""

from workbench.hpo.tasks.mnist import MNISTTask, mnist_space
from workbench.hpo.tasks.sklearn_tasks import (CrossValidatedTask, SubsampleTask,
                                               gradient_boosting_space, gradient_boosting_task)
from workbench.hpo.tasks.test_functions import (BRANIN, GOLDSTEIN_PRICE, HARTMANN6, LEVY4,
                                                SIX_HUMP_CAMEL, TEST_FUNCTIONS, TestFunction)

__all__ = ["BRANIN", "GOLDSTEIN_PRICE", "HARTMANN6", "LEVY4", "MNISTTask", "SIX_HUMP_CAMEL",
           "SubsampleTask", "TEST_FUNCTIONS", "TestFunction", "CrossValidatedTask",
           "gradient_boosting_space", "gradient_boosting_task", "mnist_space"]
