"""Find and execute the tutorial notebooks headless (nbclient)."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from workbench.core.storage import workbench_home
from workbench.core.validation import check_int

logger = logging.getLogger(__name__)

TOUR = "00_tour"
QUICK_VARIABLE = "WORKBENCH_QUICK"


def notebooks_folder() -> Path:
    """Return the repository's ``notebooks/`` folder."""
    return Path(__file__).resolve().parents[1] / "notebooks"


def find_notebook(name: str | os.PathLike[str]) -> Path:
    """Resolve a notebook name (``00_tour``) or path to an existing ``.ipynb`` file."""
    if not isinstance(name, (str, os.PathLike)):
        raise TypeError(f"notebook must be a name or a path, got {type(name).__name__}.")
    path = Path(name)
    candidates = [path, path.with_suffix(".ipynb"),
                  notebooks_folder() / path.name, notebooks_folder() / f"{path.name}.ipynb"]
    for candidate in candidates:
        if candidate.suffix == ".ipynb" and candidate.is_file():
            return candidate.resolve()
    available = sorted(p.stem for p in notebooks_folder().glob("*.ipynb"))
    raise FileNotFoundError(f"notebook {str(name)!r} not found; pass a path or one of {available}.")


def execute_notebook(name: str | os.PathLike[str], *, output: str | os.PathLike[str] | None = None,
                     quick: bool = False, timeout: int = 1800) -> Path:
    """Execute a notebook top to bottom in a fresh kernel and write the executed copy.

    The kernel starts in the notebook's folder. With ``quick`` the kernel sees
    ``WORKBENCH_QUICK=1``, which each notebook's parameters cell turns into
    small budgets. Raises ``nbclient.exceptions.CellExecutionError`` (after
    writing the partial copy) if a cell fails. Returns the output path.
    """
    import nbclient
    import nbformat

    notebook_path = find_notebook(name)
    timeout = check_int("timeout", timeout, minimum=1)
    output_path = Path(output) if output is not None else (
        workbench_home() / "executed" / notebook_path.name)
    output_path.parent.mkdir(parents=True, exist_ok=True)

    notebook = nbformat.read(notebook_path, as_version=4)
    previous = os.environ.get(QUICK_VARIABLE)
    if quick:
        os.environ[QUICK_VARIABLE] = "1"
    # Widget state is not stored: plotly's FigureWidget state carries the
    # whole plotly.js bundle (about 5 MB) per figure.
    client = nbclient.NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                                     store_widget_state=False,
                                     resources={"metadata": {"path": str(notebook_path.parent)}})
    started = time.monotonic()
    try:
        client.execute()
    finally:
        if quick:
            if previous is None:
                os.environ.pop(QUICK_VARIABLE, None)
            else:
                os.environ[QUICK_VARIABLE] = previous
        nbformat.write(notebook, output_path)
    logger.info("executed %s in %.1f s", notebook_path.name, time.monotonic() - started)
    return output_path
