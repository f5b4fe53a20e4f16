"""Learned index structures: a model of the keys' distribution plus a bounded search."""

from workbench.index.keys import check_keys, convert_queries
from workbench.index.pgm import PGMIndex

__all__ = ["PGMIndex", "check_keys", "convert_queries"]
