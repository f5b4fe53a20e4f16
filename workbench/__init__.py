"""AutoML Workbench: readable AutoML algorithms as steerable searches.

Import the parts you need, for example ``from workbench.core import Runner``;
importing ``workbench`` itself loads nothing heavy.
"""

__version__ = "0.1.0"
