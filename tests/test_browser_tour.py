"""The tour notebook in a real browser: run it in JupyterLab, then press Run in its StudyPanel.

The browser test starts JupyterLab on 127.0.0.1 over a temporary copy of
``notebooks/`` and opens ``00_tour.ipynb`` in headless Chromium. It runs all
cells in quick mode (``WORKBENCH_QUICK=1``), presses the panel's Run button and
checks that the figure draws the trials added by the notebook's last cell. The
browser aborts every request to another host, and the test fails if the page
made one.

Needs /usr/bin/chromium, the playwright package (its bundled browsers are not
used) and the Adult files under ``$WORKBENCH_DATA/adult``. Without them the
test is skipped, or fails when ``WORKBENCH_REQUIRE_BROWSER=1`` (set in CI).
Run it with ``WORKBENCH_DATA=/path/to/data python -m pytest tests/test_browser_tour.py -s``;
``-s`` prints the paths of the screenshots it saves.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import json
import os
import re
import struct
import time
import urllib.parse
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

import browser_support
from browser_support import (
    CHROMIUM_FLAGS,
    CHROMIUM_PATH,
    LOCAL_HOST,
    kernel_message_type,
    require_browser,
    running_jupyterlab,
    skip_or_fail,
)

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
TOUR_NOTEBOOK = "00_tour.ipynb"
# The tour shows several panels; the random search's StudyPanel has this title.
STUDY_PANEL_TITLE = "Random search: HistGradientBoosting on Adult"
ADULT_FILES = ("adult.data.gz", "adult.test.gz")

# Time limits in seconds. They leave a wide margin: on a 2-core VM the browser test took about 20 s.
KERNEL_READY_TIMEOUT = 90.0
EXECUTION_START_TIMEOUT = 20.0
RUN_ALL_TIMEOUT = 180.0
PANEL_SETTLE_TIMEOUT = 30.0
RUN_BUTTON_TIMEOUT = 120.0
# How long a Run click on a finished search is watched for unwanted new trials.
IDLE_RUN_WATCH_SECONDS = 3.0
POLL_INTERVAL_MS = 250

PROMPT_PATTERN = re.compile(r"\[(?P<count>\d+|\*| ?)\]:?")
TITLE_PATTERN = re.compile(r"(?P<complete>\d+)(?: of (?P<target>\d+))? trials complete")
RUN_LABEL = re.compile(r"^\s*Run\s*$")
STDERR_OUTPUT = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'

# Reads, for every plotly figure under the element it runs on, the x values of
# the first trace (the panel's per-trial scatter), the marker paths drawn in
# its SVG and the figure title.
FIGURE_STATE_SCRIPT = """
(root) => Array.from(root.querySelectorAll('.js-plotly-plot')).map((plot) => {
    const firstTrace = plot.data && plot.data.length ? plot.data[0] : null;
    const firstSvgTrace = plot.querySelector('.scatterlayer .trace');
    const title = plot.layout && plot.layout.title;
    return {
        n_data: firstTrace && firstTrace.x ? firstTrace.x.length : null,
        n_svg: firstSvgTrace ? firstSvgTrace.querySelectorAll('.points path').length : 0,
        title: typeof title === 'string' ? title : (title && title.text) || '',
    };
})
"""

# Starts "Run All Cells" without awaiting it: the returned promise settles only
# when every cell has run. A rejection is kept on window for the diagnostics.
RUN_ALL_SCRIPT = """
() => {
    if (!window.jupyterapp) {
        return 'window.jupyterapp is missing; start JupyterLab with '
            + '--LabApp.expose_app_in_browser=True';
    }
    window.jupyterapp.commands.execute('notebook:run-all-cells')
        .catch((error) => { window.__workbenchRunAllError = String(error); });
    return null;
}
"""

Result = TypeVar("Result")


# ----- fixtures ---------------------------------------------------------------


def adult_data_root() -> Path:
    """Return ``$WORKBENCH_DATA``, or skip (or fail) when it lacks the Adult files.

    The test never lets the notebook download the data: the server's proxy
    variables point at a closed local port.
    """
    value = os.environ.get("WORKBENCH_DATA", "")
    if not value:
        skip_or_fail("WORKBENCH_DATA is not set; point it at a folder with adult/adult.data.gz")
    root = Path(value)
    missing = [name for name in ADULT_FILES if not (root / "adult" / name).is_file()]
    if missing:
        skip_or_fail(f"WORKBENCH_DATA={root} lacks adult/{', adult/'.join(missing)}")
    return root


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory):
    """A JupyterLab server on 127.0.0.1 over a temporary copy of notebooks/, in quick mode."""
    require_browser()
    data_root = adult_data_root()
    workdir = tmp_path_factory.mktemp("browser-tour")
    env_overrides = {
        "WORKBENCH_QUICK": "1",
        "WORKBENCH_HOME": str(workdir / "workbench-home"),
        "WORKBENCH_DATA": str(data_root),
    }
    with running_jupyterlab(NOTEBOOKS, workdir, env_overrides) as server:
        yield server


@dataclasses.dataclass
class KernelChannelMonitor:
    """Counts the message types that the page receives on kernel websockets.

    Playwright's sync API delivers the frame events only while the test is
    inside a Playwright call, so callers poll with ``page.wait_for_timeout``.
    """

    counts: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    channel_urls: list[str] = dataclasses.field(default_factory=list)
    error_texts: list[str] = dataclasses.field(default_factory=list)

    def attach(self, page: Any) -> None:
        page.on("websocket", self._on_websocket)

    def _on_websocket(self, websocket: Any) -> None:
        # Kernel channels are /api/kernels/<id>/channels; skip /api/events and terminals.
        if "/api/kernels/" not in websocket.url or "/channels" not in websocket.url:
            return
        self.channel_urls.append(websocket.url)
        websocket.on("framereceived", self._on_frame)

    def _on_frame(self, payload: str | bytes) -> None:
        msg_type = kernel_message_type(payload)
        self.counts[msg_type or "(undecoded frame)"] += 1
        if msg_type == "error":
            # Keep the exception's name and value for failure messages; an error
            # from a widget message handler has no cell output to show it.
            text = payload if isinstance(payload, str) else payload.decode("utf-8", "replace")
            start = text.find('"traceback"')
            start = start if start >= 0 else text.find('"ename"')
            self.error_texts.append(text[start:start + 30000] if start >= 0 else text[-30000:])


@dataclasses.dataclass
class LabPage:
    """The browser page and what the test records about it."""

    page: Any
    server: browser_support.JupyterLabServer
    artifacts: Path
    kernel: KernelChannelMonitor
    blocked_requests: list[str]
    page_errors: list[str]
    console_errors: list[str]
    # Marker count after the Run button finished the raised budget; None until then.
    n_trials_after_run: int | None = None

    def wait_for(self, condition: Callable[[], Result], timeout: float) -> Result | None:
        """Poll ``condition`` until it returns a truthy value; return None after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while True:
            result = condition()
            if result:
                return result
            if time.monotonic() >= deadline:
                return None
            self.page.wait_for_timeout(POLL_INTERVAL_MS)

    def diagnostics(self) -> str:
        """Describe the page, kernel and server state for a failure message."""
        page = self.page
        lines = [
            f"prompts: {safe_call(self.prompts)}",
            f"kernel messages received: {dict(self.kernel.counts)}",
            f"kernel channels: {self.kernel.channel_urls}",
            f"run-all error: {safe_call(lambda: page.evaluate('window.__workbenchRunAllError'))}",
            f"open dialogs: {safe_call(lambda: page.locator('.jp-Dialog').all_text_contents())}",
            f"blocked non-local requests: {self.blocked_requests}",
            f"page errors: {self.page_errors}",
            f"console errors: {self.console_errors[-10:]}",
            f"server log (tail):\n{self.server.log_tail(3000)}",
        ]
        return "\n".join(lines)

    def prompts(self) -> list[str]:
        """Return the input prompt of every code cell, such as ``[3]:``, ``[*]:`` or ``[ ]:``."""
        # textContent, not innerText: JupyterLab 4 skips rendering off-screen cells
        # (content-visibility), and innerText of a skipped cell is empty.
        return [text.strip() for text in
                self.page.locator(".jp-Notebook .jp-CodeCell .jp-InputPrompt").all_text_contents()]

    def error_outputs(self) -> list[str]:
        """Return the texts of outputs that show a Python traceback, each once."""
        # Error outputs render as stderr; the panel's error area prints tracebacks to stdout.
        stderr_texts = self.page.locator(STDERR_OUTPUT).all_text_contents()
        all_texts = self.page.locator(".jp-OutputArea-output").all_text_contents()
        unique_texts = dict.fromkeys([*stderr_texts, *all_texts])
        return [text for text in unique_texts if "Traceback" in text]


def safe_call(function: Callable[[], Any]) -> Any:
    """Return ``function()``, or the error text: diagnostics must never raise."""
    try:
        return function()
    except Exception as error:  # reported inside a failure message
        return f"(unavailable: {error!r})"


def is_local_url(url: str) -> bool:
    """Return whether ``url`` targets 127.0.0.1 or is not a network URL (data:, blob:)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https", "ws", "wss"):
        return True
    return parts.hostname == LOCAL_HOST


@pytest.fixture(scope="module")
def lab_page(lab_server, tmp_path_factory):
    """Headless Chromium with a fresh profile, able to reach 127.0.0.1 only."""
    sync_api = require_browser()
    artifacts = tmp_path_factory.mktemp("browser-tour-screenshots")
    blocked_requests: list[str] = []

    def route_request(route: Any) -> None:
        url = route.request.url
        if is_local_url(url):
            route.continue_()
            return
        blocked_requests.append(url)
        route.abort()

    def route_websocket(websocket_route: Any) -> None:
        # Not connecting the route to a server leaves the socket mocked and silent.
        blocked_requests.append(websocket_route.url)
        websocket_route.close()

    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM_PATH),
            headless=True,
            args=list(CHROMIUM_FLAGS),
            # Service workers would fetch outside the context's routing.
            service_workers="block",
            viewport={"width": 1400, "height": 1000},
        )
        try:
            context.route("**/*", route_request)
            context.route_web_socket(lambda url: not is_local_url(url), route_websocket)
            page = context.pages[0] if context.pages else context.new_page()
            lab = LabPage(page=page, server=lab_server, artifacts=artifacts,
                          kernel=KernelChannelMonitor(), blocked_requests=blocked_requests,
                          page_errors=[], console_errors=[])
            lab.kernel.attach(page)

            def record_console_error(message: Any) -> None:
                if message.type == "error":
                    lab.console_errors.append(message.text)

            page.on("console", record_console_error)
            page.on("pageerror", lambda error: lab.page_errors.append(str(error)))
            yield lab
        finally:
            context.close()


@contextlib.contextmanager
def screenshot_on_failure(lab: LabPage, name: str) -> Iterator[None]:
    """Save a full-page screenshot when the block raises, and add its path and diagnostics."""
    try:
        yield
    except BaseException as error:
        path = lab.artifacts / name
        saved = safe_call(lambda: lab.page.screenshot(path=str(path), full_page=True))
        where = path if not isinstance(saved, str) else saved
        details = f"screenshot: {where}\n{lab.diagnostics()}"
        if hasattr(error, "add_note"):  # Python 3.11+; pytest prints the note with the error
            error.add_note(details)
        else:
            print(details)
        raise


# ----- steps of the tour ------------------------------------------------------


def count_code_cells(notebook: Path) -> int:
    cells = json.loads(notebook.read_text())["cells"]
    return sum(cell["cell_type"] == "code" for cell in cells)


def parse_prompt(prompt: str) -> str | None:
    """Return ``"*"``, the execution count, ``""`` for a cell not run, or None if unrecognised."""
    if not prompt:
        return ""
    match = PROMPT_PATTERN.fullmatch(prompt)
    return match["count"].strip() if match else None


def open_notebook(lab: LabPage, n_code_cells: int) -> None:
    """Open the tour and wait until its cells are shown and the kernel sent kernel_info_reply.

    JupyterLab drops "Run All Cells" silently when it runs before the first
    kernel_info_reply of a cold kernel, so that reply marks the kernel ready.
    """
    lab.page.goto(lab.server.url(f"lab/tree/{TOUR_NOTEBOOK}"))
    cells_shown = lab.wait_for(lambda: len(lab.prompts()) == n_code_cells, KERNEL_READY_TIMEOUT)
    assert cells_shown, (f"the notebook did not show its {n_code_cells} code cells within "
                         f"{KERNEL_READY_TIMEOUT:.0f} s; prompts seen: {lab.prompts()}")
    ready = lab.wait_for(lambda: lab.kernel.counts["kernel_info_reply"], KERNEL_READY_TIMEOUT)
    assert ready, f"no kernel_info_reply arrived within {KERNEL_READY_TIMEOUT:.0f} s"


def execution_started(lab: LabPage, prompts_before: list[str]) -> bool:
    if lab.kernel.counts["execute_input"]:
        return True
    prompts = lab.prompts()
    return prompts != prompts_before or any(parse_prompt(p) == "*" for p in prompts)


def run_all_cells(lab: LabPage) -> None:
    """Run all cells and wait until execution starts, retrying once if the command was dropped."""
    prompts_before = lab.prompts()
    for attempt in (1, 2):
        problem = lab.page.evaluate(RUN_ALL_SCRIPT)
        assert problem is None, problem
        if lab.wait_for(lambda: execution_started(lab, prompts_before), EXECUTION_START_TIMEOUT):
            if attempt == 2:
                warnings.warn(f"Run All Cells was dropped once although kernel_info_reply had "
                              f"arrived, and worked on the retry; prompts: {prompts_before}",
                              stacklevel=2)
            return
    pytest.fail(f"Run All Cells did not start any cell within {EXECUTION_START_TIMEOUT:.0f} s, "
                f"twice; prompts: {lab.prompts()}", pytrace=False)


def wait_for_all_cells(lab: LabPage, n_code_cells: int) -> list[str]:
    """Wait until every code cell shows an execution count; fail at once on a traceback."""

    def finished_or_failed() -> str | None:
        if lab.kernel.counts["error"] or lab.error_outputs():
            return "failed"
        counts = [parse_prompt(prompt) for prompt in lab.prompts()]
        all_counted = len(counts) == n_code_cells and all(c and c.isdigit() for c in counts)
        if all_counted and lab.kernel.counts["execute_reply"] >= n_code_cells:
            return "finished"
        return None

    outcome = lab.wait_for(finished_or_failed, RUN_ALL_TIMEOUT)
    errors = lab.error_outputs()
    assert outcome is not None, (f"the cells did not all finish within {RUN_ALL_TIMEOUT:.0f} s; "
                                 f"prompts: {lab.prompts()}")
    assert errors == [], "a cell output shows a traceback:\n" + "\n\n".join(errors)
    assert lab.kernel.counts["error"] == 0, "the kernel sent an error message for a cell"
    return lab.prompts()


def find_panel(lab: LabPage) -> Any:
    """Return the output element that contains the StudyPanel's plotly figure and Run button."""
    page = lab.page
    panels = (page.locator(".jp-OutputArea-output")
              .filter(has=page.locator(".js-plotly-plot"))
              .filter(has=page.locator("button.jupyter-button", has_text=RUN_LABEL))
              .filter(has_text=STUDY_PANEL_TITLE))
    count = panels.count()
    assert count == 1, (f"expected one StudyPanel output titled {STUDY_PANEL_TITLE!r} with a "
                        f"figure and a Run button, found {count}")
    return panels.first


def figure_state(panel: Any) -> dict[str, Any]:
    """Return the panel figure's first-trace length, drawn marker count and title."""
    figures = panel.evaluate(FIGURE_STATE_SCRIPT)
    assert len(figures) == 1, f"expected one plotly figure in the panel, found {len(figures)}"
    return figures[0]


def status_text(panel: Any) -> str:
    """Return the panel's status line, the HTML next to the run buttons."""
    # A `has` locator is matched inside each candidate, so it must start from the page.
    run_button = panel.page.locator("button.jupyter-button", has_text=RUN_LABEL)
    header = panel.locator(".widget-hbox").filter(has=run_button)
    # all_text_contents() returns at once; text_content() would wait for a missing element.
    texts = header.locator(".widget-html").all_text_contents()
    return texts[0].strip() if texts else ""


def error_area_text(panel: Any) -> str:
    """Return the text of the panel's error area (an ipywidgets Output)."""
    return " ".join(panel.locator(".widget-output").all_text_contents()).strip()


def wait_for_settled_figure(lab: LabPage, panel: Any,
                            timeout: float = PANEL_SETTLE_TIMEOUT) -> dict[str, Any] | None:
    """Wait until the status shows "finished" and the SVG draws every point of the first trace."""

    def settled() -> dict[str, Any] | None:
        state = figure_state(panel)
        drawn = state["n_data"] and state["n_svg"] == state["n_data"]
        return state if drawn and "finished" in status_text(panel) else None

    return lab.wait_for(settled, timeout)


def title_counts(title: str) -> tuple[int, int | None]:
    """Return (complete, target) from a panel title such as ``8 of 8 trials complete, ...``."""
    match = TITLE_PATTERN.search(title)
    assert match, f"the figure title {title!r} does not say how many trials are complete"
    target = int(match["target"]) if match["target"] else None
    return int(match["complete"]), target


# ----- the browser test -------------------------------------------------------


@pytest.mark.browser
@pytest.mark.timeout(420)
def test_tour_run_button_adds_trials(lab_page):
    lab = lab_page
    n_code_cells = count_code_cells(lab.server.root_dir / TOUR_NOTEBOOK)
    started = time.monotonic()

    with screenshot_on_failure(lab, "failure-opening.png"):
        open_notebook(lab, n_code_cells)
        run_all_cells(lab)
        prompts = wait_for_all_cells(lab, n_code_cells)
    counts = [int(parse_prompt(prompt)) for prompt in prompts]
    assert counts == sorted(counts), f"cells ran out of order: {prompts}"
    print(f"\nall {n_code_cells} cells ran in {time.monotonic() - started:.1f} s: {prompts}")

    with screenshot_on_failure(lab, "failure-panel.png"):
        panel = find_panel(lab)
        panel.scroll_into_view_if_needed()
        before = wait_for_settled_figure(lab, panel)
        assert before is not None, (f"the panel did not show a finished search with every trial "
                                    f"drawn within {PANEL_SETTLE_TIMEOUT:.0f} s; figure: "
                                    f"{figure_state(panel)}, status: {status_text(panel)!r}")
        n_before = before["n_data"]
        assert n_before >= 1, f"the quick run drew no trial: {before}"
        complete, target = title_counts(before["title"])
        assert complete == n_before, f"title {before['title']!r} disagrees with {n_before} markers"
        # The last cell raised the budget, and the panel redraws after that steering call.
        assert target is not None and target > complete, (
            f"the title {before['title']!r} shows no raised trial budget")
        assert error_area_text(panel) == "", f"panel error area: {error_area_text(panel)!r}"
        lab.page.screenshot(path=str(lab.artifacts / "tour-before-run.png"), full_page=True)

        run_button = panel.locator("button.jupyter-button", has_text=RUN_LABEL)
        assert run_button.is_enabled(), "the Run button is disabled although the budget was raised"
        run_button.click()
        grew = lab.wait_for(lambda: figure_state(panel)["n_data"] > n_before, RUN_BUTTON_TIMEOUT)
        assert grew, (f"no new trial was drawn within {RUN_BUTTON_TIMEOUT:.0f} s of pressing Run; "
                      f"figure: {figure_state(panel)}, status: {status_text(panel)!r}")
        status = status_text(panel)
        assert "finished" in status or "running" in status, f"status after Run: {status!r}"

        after = wait_for_settled_figure(lab, panel, RUN_BUTTON_TIMEOUT)
        assert after is not None, (f"the search did not finish within {RUN_BUTTON_TIMEOUT:.0f} s "
                                   f"of its first new trial; figure: {figure_state(panel)}, "
                                   f"status: {status_text(panel)!r}")
        complete_after, target_after = title_counts(after["title"])
        assert after["n_data"] > n_before
        assert complete_after == after["n_data"], f"title {after['title']!r} disagrees with markers"
        assert target_after == target, (
            f"the budget changed: {before['title']!r} -> {after['title']!r}")
        assert complete_after <= target_after
        assert error_area_text(panel) == "", f"panel error area: {error_area_text(panel)!r}"

        panel.screenshot(path=str(lab.artifacts / "tour-panel.png"))
        lab.page.screenshot(path=str(lab.artifacts / "tour-after-run.png"), full_page=True)
        print(f"trials drawn: {n_before} before Run, {after['n_data']} after; "
              f"screenshots in {lab.artifacts}")

    lab.n_trials_after_run = after["n_data"]
    assert lab.blocked_requests == [], f"the page requested other hosts: {lab.blocked_requests}"
    assert lab.page_errors == [], f"uncaught errors in the page: {lab.page_errors}"
    print(f"browser tour took {time.monotonic() - started:.1f} s after the server started")


def finished_tour_panel(lab: LabPage) -> Any:
    """Return the panel after test_tour_run_button_adds_trials, or skip if that did not finish."""
    if lab.n_trials_after_run is None:
        pytest.skip("needs the finished tour that test_tour_run_button_adds_trials leaves")
    return find_panel(lab)


@pytest.mark.browser
@pytest.mark.timeout(120)
def test_tour_run_when_finished_adds_nothing(lab_page):
    lab = lab_page
    panel = finished_tour_panel(lab)

    with screenshot_on_failure(lab, "failure-finished-run.png"):
        run_button = panel.locator("button.jupyter-button", has_text=RUN_LABEL)
        run_button.click()
        lab.page.wait_for_timeout(int(IDLE_RUN_WATCH_SECONDS * 1000))

        state = figure_state(panel)
        assert state["n_data"] == lab.n_trials_after_run, (
            f"Run on a search with its budget used up drew new trials: {state}")
        assert state["n_svg"] == state["n_data"]
        assert error_area_text(panel) == "", f"panel error area: {error_area_text(panel)!r}"
        assert lab.page_errors == [], f"uncaught errors in the page: {lab.page_errors}"
        assert lab.blocked_requests == [], f"the page requested other hosts: {lab.blocked_requests}"


# Run on a finished search: the Run callback and the runner's worker thread both
# update the status line and the buttons, and the last write must match the state.
@pytest.mark.browser
@pytest.mark.timeout(120)
def test_tour_controls_after_finished_run(lab_page):
    lab = lab_page
    panel = finished_tour_panel(lab)
    run_button = panel.locator("button.jupyter-button", has_text=RUN_LABEL)
    pause_button = panel.locator("button.jupyter-button", has_text=re.compile(r"^\s*Pause\s*$"))

    settled = wait_for_settled_figure(lab, panel)
    assert settled is not None, f"status after Run on a finished search: {status_text(panel)!r}"
    assert run_button.is_enabled(), "Run is disabled on a finished search"
    assert pause_button.is_disabled(), "Pause is enabled on a finished search"


# ----- the support code, without a browser --------------------------------------


def v1_frame(msg_type: str, content: dict | None = None) -> bytes:
    """Build a v1 kernel websocket frame the way jupyter_server does."""
    from jupyter_server.services.kernels.connection.base import serialize_msg_to_ws_v1

    parts = [json.dumps(part).encode() for part in
             ({"msg_type": msg_type, "msg_id": "m1"}, {}, {}, content or {})]
    return serialize_msg_to_ws_v1(parts, "shell")


def legacy_binary_frame(msg_type: str) -> bytes:
    """Build a legacy binary frame (JSON message plus one buffer) the way jupyter_server does."""
    from jupyter_server.services.kernels.connection.base import serialize_binary_message

    message = {"header": {"msg_type": msg_type}, "parent_header": {}, "metadata": {},
               "content": {}, "channel": "iopub", "buffers": [b"\x00\x01buffer"]}
    return serialize_binary_message(message)


@pytest.mark.parametrize("payload, expected", [
    (json.dumps({"header": {"msg_type": "kernel_info_reply"}, "content": {}}), "kernel_info_reply"),
    (json.dumps({"msg_type": "status", "content": {}}), "status"),
    (v1_frame("kernel_info_reply", {"status": "ok"}), "kernel_info_reply"),
    (v1_frame("execute_reply"), "execute_reply"),
    (legacy_binary_frame("comm_msg"), "comm_msg"),
], ids=["json-text", "json-text-flat", "v1-kernel-info", "v1-execute-reply", "legacy-binary"])
def test_kernel_message_type_decodes_frames(payload, expected):
    assert kernel_message_type(payload) == expected


@pytest.mark.parametrize("payload", [
    "",
    "not json",
    "[1, 2]",
    json.dumps({"header": "kernel_info_reply"}),
    json.dumps({"header": {"msg_type": 7}}),
    b"",
    b"\x00" * 7,
    b"\xff" * 64,
    v1_frame("kernel_info_reply")[:30],
    struct.pack("<Q", 3) + struct.pack("<QQQ", 32, 40, 10 ** 9),
    struct.pack("!II", 1, 8) + b"{not json",
], ids=["empty-text", "plain-text", "json-list", "header-not-dict", "type-not-str", "empty-bytes",
        "short-bytes", "random-bytes", "truncated-v1", "offset-past-end", "legacy-bad-json"])
def test_kernel_message_type_rejects_garbage(payload):
    assert kernel_message_type(payload) is None


@pytest.mark.parametrize("url, local", [
    ("http://127.0.0.1:8888/lab", True),
    ("ws://127.0.0.1:8888/api/kernels/k/channels", True),
    ("data:image/png;base64,AAAA", True),
    ("blob:http://127.0.0.1:8888/0f1e", True),
    ("https://cdn.plot.ly/plotly-2.35.2.min.js", False),
    ("http://localhost:8888/lab", False),
    ("http://127.0.0.1.example.com/", False),
    ("wss://unpkg.com/socket", False),
])
def test_is_local_url_allows_only_loopback(url, local):
    assert is_local_url(url) is local


def test_missing_chromium_skips(monkeypatch, tmp_path):
    monkeypatch.setattr(browser_support, "CHROMIUM_PATH", tmp_path / "no-chromium")
    monkeypatch.delenv("WORKBENCH_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="Chromium not found"):
        browser_support.require_browser()


def test_missing_chromium_fails_when_required(monkeypatch, tmp_path):
    monkeypatch.setattr(browser_support, "CHROMIUM_PATH", tmp_path / "no-chromium")
    monkeypatch.setenv("WORKBENCH_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="WORKBENCH_REQUIRE_BROWSER=1"):
        browser_support.require_browser()


def test_missing_adult_data_skips(monkeypatch, tmp_path):
    monkeypatch.setenv("WORKBENCH_DATA", str(tmp_path))
    monkeypatch.delenv("WORKBENCH_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="lacks adult/adult.data.gz"):
        adult_data_root()
