"""Notebook panels that drive and show workbench searches (ipywidgets + plotly)."""

from widgets.base import Panel
from widgets.study_panel import StudyPanel

__all__ = ["Panel", "StudyPanel"]
