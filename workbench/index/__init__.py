"""Learned index structures: a model of the keys' distribution plus a bounded search."""

from workbench.index.alex import ALEXIndex
from workbench.index.base import LearnedIndex
from workbench.index.datasets import KEY_SETS, load_keys, real_keys, synthetic_keys
from workbench.index.fiting_tree import FITingTree
from workbench.index.keys import check_keys, convert_queries
from workbench.index.pgm import PGMIndex
from workbench.index.radix_spline import RadixSpline
from workbench.index.rmi import RMI
from workbench.index.sampling import SampledIndex, sampling_tradeoff

__all__ = ["ALEXIndex", "KEY_SETS", "FITingTree", "LearnedIndex", "PGMIndex", "RMI", "RadixSpline",
           "SampledIndex", "check_keys", "convert_queries", "load_keys", "real_keys",
           "sampling_tradeoff", "synthetic_keys"]
