"""Every notebook runs top to bottom headless in quick mode."""

from __future__ import annotations

import os

import nbformat
import pytest

from workbench.notebooks import execute_notebook, notebooks_folder

NOTEBOOKS = sorted(notebooks_folder().glob("*.ipynb"))


def test_notebooks_found():
    assert [path.name for path in NOTEBOOKS][:1] == ["00_tour.ipynb"]


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_runs_in_quick_mode(path, tmp_path):
    if not os.environ.get("WORKBENCH_DATA"):
        pytest.skip("WORKBENCH_DATA is not set; the notebooks need real data files")
    output = execute_notebook(path, output=tmp_path / path.name, quick=True, timeout=300)
    executed = nbformat.read(output, as_version=4)
    code_cells = [cell for cell in executed.cells if cell.cell_type == "code"]
    assert all(cell.execution_count for cell in code_cells)
    errors = [output for cell in code_cells for output in cell.outputs
              if output.output_type == "error"]
    assert errors == []
    if path.stem == "00_tour":
        text = output.read_text()
        assert "best CV ROC AUC: 0." in text
        assert "48,842 rows" in text
        assert "'propose'" in text, "the steering log did not record the proposal"


def test_parameters_cell_reads_quick_flag():
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        tagged = [cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", [])]
        assert len(tagged) == 1, f"{path.name} needs exactly one cell tagged 'parameters'"
        assert "WORKBENCH_QUICK" in tagged[0].source


def test_unknown_notebook_rejected():
    with pytest.raises(FileNotFoundError, match="not found; pass a path or one of"):
        execute_notebook("99_missing")
    with pytest.raises(TypeError, match="notebook must be a name or a path"):
        execute_notebook(42)
