"""Learned index structures: a model of the keys' distribution plus a bounded search."""

from workbench.index.base import LearnedIndex
from workbench.index.keys import check_keys, convert_queries
from workbench.index.pgm import PGMIndex
from workbench.index.rmi import RMI
from workbench.index.sampling import SampledIndex, sampling_tradeoff

__all__ = ["LearnedIndex", "PGMIndex", "RMI", "SampledIndex", "check_keys", "convert_queries",
           "sampling_tradeoff"]
