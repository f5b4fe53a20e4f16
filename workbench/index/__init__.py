"""Learned index structures: a model of the keys' distribution plus a bounded search."""

from workbench.index.base import LearnedIndex
from workbench.index.keys import check_keys, convert_queries
from workbench.index.pgm import PGMIndex
from workbench.index.rmi import RMI

__all__ = ["LearnedIndex", "PGMIndex", "RMI", "check_keys", "convert_queries"]
