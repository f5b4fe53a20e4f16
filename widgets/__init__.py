"""Notebook panels that drive and show workbench searches (ipywidgets + plotly)."""

from widgets.adjacency_panel import AdjacencyPanel
from widgets.attention_panel import AttentionPanel
from widgets.base import Panel
from widgets.bo_panel import BOPanel
from widgets.darts_panel import DartsPanel
from widgets.hyperband_panel import HyperbandPanel
from widgets.index_panel import IndexPanel
from widgets.race_panel import RacePanel
from widgets.study_panel import StudyPanel

__all__ = ["AdjacencyPanel", "AttentionPanel", "BOPanel", "DartsPanel", "HyperbandPanel", "IndexPanel", "Panel", "RacePanel", "StudyPanel"]
