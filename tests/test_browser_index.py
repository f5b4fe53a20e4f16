"""The learned-index notebook in a real browser: its IndexPanel draws, looks up a key and unzooms.

The browser test starts JupyterLab on 127.0.0.1 over a temporary copy of
``notebooks/`` and opens ``06_learned_index.ipynb`` in headless Chromium. It
runs the notebook in quick mode (``WORKBENCH_QUICK=1``) in two parts. The
first part ends with the cell that looks up a key. The test then checks in the
DOM that the "PGM-index on osm-like keys" panel drew its model lines and the
last-mile search of that key, types the key 0 into the panel, presses Look up
and Reset zoom, and checks the redrawn figures. The second part runs the
remaining cells. The browser aborts every request to another host, and the
test fails if the page made one.

The interaction happens between the two parts because later cells switch the
panel's search to an RMI, which clears the lookup.

Needs /usr/bin/chromium, the playwright package (its bundled browsers are not
used) and the MovieLens 100k files under ``$WORKBENCH_DATA/movielens_100k``.
Without them the test is skipped, or fails when ``WORKBENCH_REQUIRE_BROWSER=1``
(set in CI). Run it with
``WORKBENCH_DATA=/path/to/data python -m pytest tests/test_browser_index.py -s``;
``-s`` prints the timings and the paths of the screenshots it saves.
"""

from __future__ import annotations

import json
import os
import re
import time
import warnings
from pathlib import Path
from typing import Any

import pytest

from browser_support import require_browser, running_jupyterlab, skip_or_fail
from test_browser_tour import (
    LabPage,
    count_code_cells,
    parse_prompt,
    screenshot_on_failure,
)
# The tour's browser fixture, reused as is: it builds its page on this module's lab_server.
from test_browser_tour import lab_page  # noqa: F401
from widgets.index_panel import MAX_DRAWN_MODELS

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
INDEX_NOTEBOOK = "06_learned_index.ipynb"
# The notebook shows two IndexPanels, and the PGM build on osm-like keys has this title.
PANEL_TITLE = "PGM-index on osm-like keys"
CURVE_TITLE = "key to position: models and their error cones"
LOOKUP_CELL_MARKER = "search.lookup("
TYPED_KEY = "0"
MOVIELENS_FILES = ("u.data", "u.item", "u.user")

# Time limits in seconds. They leave a wide margin: on a 2-core VM the browser test
# took about 35 s.
KERNEL_READY_TIMEOUT = 90.0
EXECUTION_START_TIMEOUT = 20.0
CELLS_TIMEOUT = 240.0
PANEL_RESPONSE_TIMEOUT = 60.0

MODELS_TRACE_PATTERN = re.compile(r"^models \((?P<drawn>\d+) of (?P<total>\d+) drawn\)$")
LOOK_UP_LABEL = re.compile(r"^\s*Look up\s*$")
RESET_ZOOM_LABEL = re.compile(r"^\s*Reset zoom\s*$")

# Reads every plotly figure under the element it runs on: the title drawn in
# its SVG and the trace names of its data. For each scatter trace drawn in the
# SVG it also reads the name, the subpath count of its line paths and the
# marker count. Each SVG trace group carries its plotly calcdata as the d3
# datum ``__data__``.
FIGURES_SCRIPT = """
(root) => Array.from(root.querySelectorAll('.js-plotly-plot')).map((plot) => {
    const svgTitle = plot.querySelector('.g-gtitle .gtitle');
    const drawn = Array.from(plot.querySelectorAll('.scatterlayer .trace')).map((group) => {
        const calc = group.__data__;
        const trace = calc && calc[0] ? calc[0].trace : null;
        const lineData = Array.from(group.querySelectorAll('path.js-line'))
            .map((path) => path.getAttribute('d') || '');
        return {
            name: trace ? trace.name : null,
            n_subpaths: lineData.reduce((n, d) => n + (d.match(/M/g) || []).length, 0),
            n_markers: group.querySelectorAll('.points path').length,
        };
    });
    return {
        title: svgTitle ? svgTitle.textContent : '',
        trace_names: (plot.data || []).map((trace) => trace.name),
        drawn: drawn,
    };
})
"""

# Makes the cell at ``activeIndex`` (counting markdown cells) the active cell
# of the current notebook and starts ``command`` without awaiting it.
# notebook:run-all-above runs the cells before the active one and
# notebook:run-all-below runs the active one and all after it.
RUN_CELLS_SCRIPT = """
([command, activeIndex]) => {
    const app = window.jupyterapp;
    if (!app) {
        return 'window.jupyterapp is missing; start JupyterLab with '
            + '--LabApp.expose_app_in_browser=True';
    }
    const notebook = app.shell.currentWidget && app.shell.currentWidget.content;
    if (!notebook || notebook.activeCellIndex === undefined) {
        return 'the current JupyterLab widget is not a notebook';
    }
    notebook.activeCellIndex = activeIndex;
    app.commands.execute(command)
        .catch((error) => { window.__workbenchRunAllError = String(error); });
    return null;
}
"""


# ----- fixtures ---------------------------------------------------------------


def movielens_data_root() -> Path:
    """Return ``$WORKBENCH_DATA``, or skip (or fail) when it lacks the MovieLens 100k files.

    The test never lets the notebook download the data: the server's proxy
    variables point at a closed local port.
    """
    value = os.environ.get("WORKBENCH_DATA", "")
    if not value:
        skip_or_fail("WORKBENCH_DATA is not set; point it at a folder with movielens_100k/u.data")
    root = Path(value)
    missing = [name for name in MOVIELENS_FILES if not (root / "movielens_100k" / name).is_file()]
    if missing:
        skip_or_fail(f"WORKBENCH_DATA={root} lacks movielens_100k/"
                     f"{', movielens_100k/'.join(missing)}")
    return root


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory):
    """A JupyterLab server on 127.0.0.1 over a temporary copy of notebooks/, in quick mode."""
    require_browser()
    data_root = movielens_data_root()
    workdir = tmp_path_factory.mktemp("browser-index")
    env_overrides = {
        "WORKBENCH_QUICK": "1",
        "WORKBENCH_OFFLINE": "1",
        "WORKBENCH_HOME": str(workdir / "workbench-home"),
        "WORKBENCH_DATA": str(data_root),
    }
    with running_jupyterlab(NOTEBOOKS, workdir, env_overrides) as server:
        yield server


# ----- running the notebook ---------------------------------------------------


def lookup_split(notebook: Path) -> tuple[int, int]:
    """Return (index of the cell after the lookup cell, code cells up to the lookup cell).

    The first index counts markdown cells too, as JupyterLab's active cell index does.
    """
    cells = json.loads(notebook.read_text())["cells"]
    n_code_cells = 0
    for index, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        n_code_cells += 1
        if LOOKUP_CELL_MARKER in "".join(cell["source"]):
            return index + 1, n_code_cells
    raise AssertionError(f"{notebook.name} has no code cell that calls {LOOKUP_CELL_MARKER!r}")


def open_notebook(lab: LabPage, n_code_cells: int) -> None:
    """Open the notebook and wait until its cells are shown and the kernel sent kernel_info_reply.

    JupyterLab drops a run command silently when it runs before the first
    kernel_info_reply of a cold kernel, so that reply marks the kernel ready.
    """
    lab.page.goto(lab.server.url(f"lab/tree/{INDEX_NOTEBOOK}"))
    cells_shown = lab.wait_for(lambda: len(lab.prompts()) == n_code_cells, KERNEL_READY_TIMEOUT)
    assert cells_shown, (f"the notebook did not show its {n_code_cells} code cells within "
                         f"{KERNEL_READY_TIMEOUT:.0f} s; prompts seen: {lab.prompts()}")
    ready = lab.wait_for(lambda: lab.kernel.counts["kernel_info_reply"], KERNEL_READY_TIMEOUT)
    assert ready, f"no kernel_info_reply arrived within {KERNEL_READY_TIMEOUT:.0f} s"


def run_cells(lab: LabPage, command: str, active_index: int) -> None:
    """Start ``command`` from the cell at ``active_index``, and retry once if no cell starts."""
    prompts_before = lab.prompts()
    inputs_before = lab.kernel.counts["execute_input"]

    def started() -> bool:
        prompts = lab.prompts()
        return (lab.kernel.counts["execute_input"] > inputs_before or prompts != prompts_before
                or any(parse_prompt(prompt) == "*" for prompt in prompts))

    for attempt in (1, 2):
        problem = lab.page.evaluate(RUN_CELLS_SCRIPT, [command, active_index])
        assert problem is None, problem
        if lab.wait_for(started, EXECUTION_START_TIMEOUT):
            if attempt == 2:
                warnings.warn(f"{command} was dropped once although kernel_info_reply had "
                              f"arrived, and worked on the retry; prompts: {prompts_before}",
                              stacklevel=2)
            return
    pytest.fail(f"{command} did not start any cell within {EXECUTION_START_TIMEOUT:.0f} s, "
                f"twice; prompts: {lab.prompts()}", pytrace=False)


def wait_for_cells(lab: LabPage, n_run: int, n_code_cells: int) -> list[str]:
    """Wait until the first ``n_run`` code cells show an execution count, and fail on a traceback.

    A traceback fails the test at once. The other code cells must still show
    an empty prompt.
    """

    def finished_or_failed() -> str | None:
        if lab.kernel.counts["error"] or lab.error_outputs():
            return "failed"
        counts = [parse_prompt(prompt) for prompt in lab.prompts()]
        if len(counts) != n_code_cells:
            return None
        ran = all(count and count.isdigit() for count in counts[:n_run])
        if ran and lab.kernel.counts["execute_reply"] >= n_run:
            return "finished"
        return None

    outcome = lab.wait_for(finished_or_failed, CELLS_TIMEOUT)
    errors = lab.error_outputs()
    prompts = lab.prompts()
    assert outcome is not None, (f"the first {n_run} code cells did not all finish within "
                                 f"{CELLS_TIMEOUT:.0f} s; prompts: {prompts}")
    assert errors == [], "a cell output shows a traceback:\n" + "\n\n".join(errors)
    assert lab.kernel.counts["error"] == 0, (
        f"the kernel sent an error message: {lab.kernel.error_texts}; error outputs in the "
        f"notebook: {model_errors(lab)}")
    not_run = [prompt for prompt in prompts[n_run:] if parse_prompt(prompt) != ""]
    assert not_run == [], f"cells after the first {n_run} ran too early; prompts: {prompts}"
    counts = [int(parse_prompt(prompt)) for prompt in prompts[:n_run]]
    assert counts == sorted(counts), f"cells ran out of order: {prompts}"
    return prompts


# Reads the error outputs from the notebook model, which contains every cell even
# where JupyterLab has not rendered the cell's DOM (it renders only cells in view).
MODEL_ERRORS_SCRIPT = """
() => {
    const notebook = window.jupyterapp.shell.currentWidget.content;
    const errors = [];
    for (const cell of notebook.model.cells) {
        if (cell.type !== 'code') { continue; }
        for (const output of cell.outputs.toJSON()) {
            if (output.output_type === 'error') {
                errors.push(`${output.ename}: ${output.evalue} in cell:\\n${cell.sharedModel.source}`);
            }
        }
    }
    return errors;
}
"""


def model_errors(lab: LabPage) -> Any:
    """Return the notebook model's error outputs (name, value and cell source), for messages."""
    try:
        return lab.page.evaluate(MODEL_ERRORS_SCRIPT)
    except Exception as error:  # diagnostics must never raise
        return f"(unavailable: {error!r})"


# ----- reading the panel --------------------------------------------------------


def find_panel(lab: LabPage) -> Any:
    """Return the output element of the IndexPanel whose heading is :data:`PANEL_TITLE`."""
    page = lab.page
    heading = page.locator("b", has_text=re.compile(rf"^{re.escape(PANEL_TITLE)}$"))
    panels = (page.locator(".jp-OutputArea-output")
              .filter(has=heading)
              .filter(has=page.locator(".js-plotly-plot")))
    count = panels.count()
    assert count == 1, (f"expected one IndexPanel output headed {PANEL_TITLE!r} with plotly "
                        f"figures, found {count}")
    return panels.first


def figures(panel: Any) -> list[dict[str, Any]]:
    """Return the drawn title, trace names and drawn scatter traces of each panel figure."""
    return panel.evaluate(FIGURES_SCRIPT)


def figure_with_trace(panel: Any, trace_name: str) -> dict[str, Any] | None:
    """Return the one panel figure whose data has a trace named ``trace_name``, or None."""
    found = [figure for figure in figures(panel) if trace_name in figure["trace_names"]]
    return found[0] if len(found) == 1 else None


def curve_figure(panel: Any) -> dict[str, Any] | None:
    """Return the key-to-position figure, found by its drawn title, or None while it has none."""
    found = [figure for figure in figures(panel) if figure["title"] == CURVE_TITLE]
    return found[0] if len(found) == 1 else None


def last_mile_figure(panel: Any) -> dict[str, Any] | None:
    """Return the last-mile figure, the one with a "probes" trace, or None."""
    return figure_with_trace(panel, "probes")


def last_mile_title(panel: Any) -> str:
    """Return the title drawn above the last-mile figure, or "" while it is not drawn."""
    figure = last_mile_figure(panel)
    return figure["title"] if figure else ""


def drawn_models(figure: dict[str, Any] | None) -> dict[str, Any] | None:
    """Return the drawn "models (N of M drawn)" trace with ``drawn`` and ``total``, or None."""
    if figure is None:
        return None
    for trace in figure["drawn"]:
        match = MODELS_TRACE_PATTERN.match(trace["name"] or "")
        if match:
            return {**trace, "drawn": int(match["drawn"]), "total": int(match["total"])}
    return None


def lines_drawn(panel: Any) -> dict[str, Any] | None:
    """Return the curve's models trace once the titled curve draws a line for every model.

    Polls call this while plotly may be redrawing a figure, so a figure that
    is missing or has no title yet gives None, not an error.
    """
    models = drawn_models(curve_figure(panel))
    if models is None or models["drawn"] < 1:
        return None
    # Each model is a two-point line between None gaps, so one subpath per model.
    return models if models["n_subpaths"] >= models["drawn"] else None


def error_area_text(panel: Any) -> str:
    """Return the text of the panel's error area (an ipywidgets Output)."""
    return " ".join(panel.locator(".widget-output").all_text_contents()).strip()


# ----- the browser test -------------------------------------------------------


@pytest.mark.browser
@pytest.mark.timeout(600)
def test_index_panel_draws_and_looks_up(lab_page):  # noqa: F811
    lab = lab_page
    notebook = lab.server.root_dir / INDEX_NOTEBOOK
    n_code_cells = count_code_cells(notebook)
    split_index, n_first_part = lookup_split(notebook)
    started = time.monotonic()

    with screenshot_on_failure(lab, "failure-first-part.png"):
        open_notebook(lab, n_code_cells)
        run_cells(lab, "notebook:run-all-above", split_index)
        prompts = wait_for_cells(lab, n_first_part, n_code_cells)
    print(f"\nthe first {n_first_part} of {n_code_cells} code cells ran in "
          f"{time.monotonic() - started:.1f} s: {prompts}")

    with screenshot_on_failure(lab, "failure-panel.png"):
        panel = find_panel(lab)
        panel.scroll_into_view_if_needed()

        def notebook_lookup_title() -> str | None:
            title = last_mile_title(panel)
            return title if "position" in title else None

        notebook_lookup = lab.wait_for(notebook_lookup_title, PANEL_RESPONSE_TIMEOUT)
        assert notebook_lookup is not None, (
            f"the last-mile title {last_mile_title(panel)!r} shows no position within "
            f"{PANEL_RESPONSE_TIMEOUT:.0f} s of the notebook's lookup; figures: {figures(panel)}")
        assert notebook_lookup.startswith("key "), f"last-mile title: {notebook_lookup!r}"

        # The lookup cell zooms the curve to the lookup window, so fewer models are drawn than fit.
        def zoomed_lines() -> dict[str, Any] | None:
            models = lines_drawn(panel)
            if models is None:
                return None
            return models if models["drawn"] < min(models["total"], MAX_DRAWN_MODELS) else None

        zoomed = lab.wait_for(zoomed_lines, PANEL_RESPONSE_TIMEOUT)
        assert zoomed is not None, (f"no figure titled {CURVE_TITLE!r} drew a 'models (N of M "
                                    f"drawn)' trace zoomed to the lookup, with a line per model, "
                                    f"within {PANEL_RESPONSE_TIMEOUT:.0f} s; figures: "
                                    f"{figures(panel)}")
        assert error_area_text(panel) == "", f"panel error area: {error_area_text(panel)!r}"
        lab.page.screenshot(path=str(lab.artifacts / "index-before-lookup.png"), full_page=True)

        key_input = (panel.locator(".widget-text")
                     .filter(has=lab.page.locator("label", has_text=re.compile(r"^key$")))
                     .locator("input"))
        key_input.fill(TYPED_KEY)
        key_input.press("Enter")
        panel.locator("button.jupyter-button", has_text=LOOK_UP_LABEL).click()

        def typed_key_title() -> str | None:
            title = last_mile_title(panel)
            return title if title.startswith(f"key {TYPED_KEY}:") else None

        typed_lookup = lab.wait_for(typed_key_title, PANEL_RESPONSE_TIMEOUT)
        assert typed_lookup is not None, (
            f"the last-mile title did not change to key {TYPED_KEY} within "
            f"{PANEL_RESPONSE_TIMEOUT:.0f} s of pressing Look up: "
            f"{last_mile_title(panel)!r}; panel error area: {error_area_text(panel)!r}")
        # No key is below 0, so the lower bound of 0 is the first position.
        assert "position 0 " in typed_lookup, f"last-mile title: {typed_lookup!r}"
        last_mile = last_mile_figure(panel) or {"drawn": []}
        probes = [trace for trace in last_mile["drawn"] if trace["name"] == "probes"]
        assert probes and probes[0]["n_markers"] >= 1, (
            f"the last-mile figure drew no probe for key {TYPED_KEY}: {last_mile_figure(panel)}")

        panel.locator("button.jupyter-button", has_text=RESET_ZOOM_LABEL).click()
        expected_drawn = min(zoomed["total"], MAX_DRAWN_MODELS)

        def unzoomed() -> dict[str, Any] | None:
            models = lines_drawn(panel)
            return models if models and models["drawn"] == expected_drawn else None

        reset = lab.wait_for(unzoomed, PANEL_RESPONSE_TIMEOUT)
        assert reset is not None, (
            f"after Reset zoom the curve did not draw {expected_drawn} of {zoomed['total']} "
            f"models within {PANEL_RESPONSE_TIMEOUT:.0f} s: {drawn_models(curve_figure(panel))}")
        assert reset["total"] == zoomed["total"], f"models before {zoomed}, after {reset}"
        # Each redraw names every trace; a batch that renamed only some used to
        # leave the rest unnamed in the browser ("trace 0" in the legend).
        curve_names = (curve_figure(panel) or {"trace_names": []})["trace_names"]
        assert {"keys", "error cone", "root model"} <= set(curve_names), curve_names
        assert error_area_text(panel) == "", f"panel error area: {error_area_text(panel)!r}"
        panel.screenshot(path=str(lab.artifacts / "index-panel.png"))
        print(f"models drawn: {zoomed['drawn']} of {zoomed['total']} zoomed to the notebook's "
              f"lookup, {reset['drawn']} after Reset zoom; last-mile titles: "
              f"{notebook_lookup!r}, then {typed_lookup!r}")

    with screenshot_on_failure(lab, "failure-second-part.png"):
        run_cells(lab, "notebook:run-all-below", split_index)
        prompts = wait_for_cells(lab, n_code_cells, n_code_cells)
        assert error_area_text(panel) == "", f"panel error area: {error_area_text(panel)!r}"
        lab.page.screenshot(path=str(lab.artifacts / "index-after-all-cells.png"), full_page=True)
    print(f"all {n_code_cells} code cells ran: {prompts}; screenshots in {lab.artifacts}")

    assert lab.blocked_requests == [], f"the page requested other hosts: {lab.blocked_requests}"
    assert lab.page_errors == [], f"uncaught errors in the page: {lab.page_errors}"
    print(f"browser index test took {time.monotonic() - started:.1f} s after the server started")


# ----- the support code, without a browser --------------------------------------


def test_lookup_split_finds_lookup_cell():
    split_index, n_first_part = lookup_split(NOTEBOOKS / INDEX_NOTEBOOK)
    cells = json.loads((NOTEBOOKS / INDEX_NOTEBOOK).read_text())["cells"]
    last_code_cell = [cell for cell in cells[:split_index] if cell["cell_type"] == "code"][-1]
    assert LOOKUP_CELL_MARKER in "".join(last_code_cell["source"])
    assert 1 <= n_first_part < count_code_cells(NOTEBOOKS / INDEX_NOTEBOOK)


def test_missing_movielens_data_skips(monkeypatch, tmp_path):
    monkeypatch.setenv("WORKBENCH_DATA", str(tmp_path))
    monkeypatch.delenv("WORKBENCH_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="lacks movielens_100k/u.data"):
        movielens_data_root()
