"""Helpers for browser tests: a JupyterLab server subprocess and an offline headless Chromium.

The server listens on 127.0.0.1 only, keeps its Jupyter config, settings and
runtime files in a temporary folder, and has every network feature of
JupyterLab 4 turned off (news feed, update check, PyPI extension manager).
The browser context aborts every request to a host other than 127.0.0.1 and
records its URL, so a test can assert that the page made no such request.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import shutil
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_PATH = Path("/usr/bin/chromium")
LOCAL_HOST = "127.0.0.1"
# Set by CI: a missing browser then fails the test instead of skipping it.
REQUIRE_BROWSER_VARIABLE = "WORKBENCH_REQUIRE_BROWSER"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
# Nothing listens there, so a stray download by the server or the kernel fails
# at once with "connection refused" instead of reaching the internet.
UNREACHABLE_PROXY = f"http://{LOCAL_HOST}:9"
# JupyterLab user settings written for the test server: no news feed and no
# update check in the frontend (the server side is turned off by flags too).
LAB_USER_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


def browser_required() -> bool:
    """Return whether ``WORKBENCH_REQUIRE_BROWSER=1`` turns skips into failures."""
    return os.environ.get(REQUIRE_BROWSER_VARIABLE, "") == "1"


def skip_or_fail(reason: str) -> None:
    """Skip the test with ``reason``, or fail it when a browser run is required."""
    if browser_required():
        pytest.fail(f"{reason} ({REQUIRE_BROWSER_VARIABLE}=1 requires the browser test to run)",
                    pytrace=False)
    pytest.skip(reason)


def require_browser() -> Any:
    """Return the ``playwright.sync_api`` module, or skip (or fail) when the browser is missing."""
    if not CHROMIUM_PATH.is_file() or not os.access(CHROMIUM_PATH, os.X_OK):
        skip_or_fail(f"Chromium not found at {CHROMIUM_PATH}; install Debian's chromium package")
    try:
        from playwright import sync_api
    except ImportError as error:
        skip_or_fail(f"the playwright package is missing ({error}); "
                     f"install it with pip install 'automl-workbench[test]'")
    return sync_api


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOCAL_HOST, 0))
        return probe.getsockname()[1]


# ----- JupyterLab server ------------------------------------------------------


@dataclasses.dataclass
class JupyterLabServer:
    """A running JupyterLab subprocess and how to reach it."""

    process: subprocess.Popen
    port: int
    token: str
    root_dir: Path
    log_path: Path

    def url(self, path: str) -> str:
        """Return the URL of ``path`` on this server with the token in the query."""
        query = urllib.parse.urlencode({"token": self.token})
        return f"http://{LOCAL_HOST}:{self.port}/{path.lstrip('/')}?{query}"

    def log_tail(self, n_chars: int = 4000) -> str:
        """Return the end of the server's log (stdout and stderr)."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError as error:
            return f"(server log {self.log_path} unreadable: {error})"
        return text[-n_chars:]


def write_lab_settings(settings_dir: Path) -> None:
    """Write :data:`LAB_USER_SETTINGS` into a JupyterLab user settings folder."""
    for relative_path, settings in LAB_USER_SETTINGS.items():
        path = settings_dir / relative_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(settings, indent=2))


def jupyterlab_command(port: int, token: str, root_dir: Path) -> list[str]:
    """Return the command line of an offline JupyterLab server on 127.0.0.1:``port``."""
    return [
        sys.executable, "-m", "jupyterlab",
        "--no-browser",
        f"--ip={LOCAL_HOST}",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.token={token}",
        f"--ServerApp.root_dir={root_dir}",
        # JupyterLab refuses to start as root without this flag (containers, CI).
        "--allow-root",
        # News feed, update check and the PyPI extension manager all call the network.
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
        # Makes window.jupyterapp available, so the test can run JupyterLab commands.
        "--LabApp.expose_app_in_browser=True",
    ]


def jupyterlab_environment(state_dir: Path, overrides: Mapping[str, str]) -> dict[str, str]:
    """Return the server's environment: ``overrides``, private Jupyter folders, a closed proxy."""
    env = dict(os.environ)
    folders = {
        "JUPYTER_CONFIG_DIR": state_dir / "config",
        "JUPYTER_DATA_DIR": state_dir / "data",
        "JUPYTER_RUNTIME_DIR": state_dir / "runtime",
        "JUPYTERLAB_SETTINGS_DIR": state_dir / "lab-settings",
        "JUPYTERLAB_WORKSPACES_DIR": state_dir / "lab-workspaces",
        "IPYTHONDIR": state_dir / "ipython",
        "MPLCONFIGDIR": state_dir / "matplotlib",
    }
    for name, folder in folders.items():
        folder.mkdir(parents=True, exist_ok=True)
        env[name] = str(folder)
    write_lab_settings(folders["JUPYTERLAB_SETTINGS_DIR"])
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        env[name] = UNREACHABLE_PROXY
    for name in ("NO_PROXY", "no_proxy"):
        env[name] = f"{LOCAL_HOST},localhost"
    env["PYTHONUNBUFFERED"] = "1"
    env.update(overrides)
    return env


def wait_for_server(server: JupyterLabServer, timeout: float) -> None:
    """Poll ``/api/status`` until it returns HTTP 200; fail with the log on timeout or exit."""
    deadline = time.monotonic() + timeout
    status_url = server.url("api/status")
    last_error = "no request sent"
    while time.monotonic() < deadline:
        exit_code = server.process.poll()
        if exit_code is not None:
            pytest.fail(f"JupyterLab exited with code {exit_code} before answering "
                        f"{status_url}. Server log:\n{server.log_tail()}", pytrace=False)
        try:
            # The proxy variables of this process may point elsewhere: bypass them.
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            with opener.open(status_url, timeout=2) as response:
                if response.status == 200:
                    return
                last_error = f"HTTP {response.status}"
        except (urllib.error.URLError, OSError) as error:
            last_error = repr(error)
        time.sleep(0.25)
    pytest.fail(f"JupyterLab did not answer {status_url} within {timeout:.0f} s (last error: "
                f"{last_error}). Server log:\n{server.log_tail()}", pytrace=False)


def stop_process(process: subprocess.Popen, timeout: float = 15.0) -> None:
    """Terminate ``process`` by its PID, wait up to ``timeout`` s, then kill it."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


@contextmanager
def running_jupyterlab(notebooks: Path, workdir: Path, env_overrides: Mapping[str, str],
                       startup_timeout: float = 90.0) -> Iterator[JupyterLabServer]:
    """Copy ``notebooks`` into ``workdir``, serve the copy with JupyterLab, and stop it on exit.

    The server's root is the copy, so the notebooks' relative paths resolve
    inside ``workdir`` and not in the repository.
    """
    root_dir = workdir / "notebooks"
    shutil.copytree(notebooks, root_dir, ignore=shutil.ignore_patterns(".ipynb_checkpoints",
                                                                        ".workbench"))
    port = free_port()
    token = secrets.token_hex(24)
    log_path = workdir / "jupyterlab.log"
    env = jupyterlab_environment(workdir / "jupyter-state", env_overrides)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(jupyterlab_command(port, token, root_dir), cwd=root_dir,
                                   env=env, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT)
    server = JupyterLabServer(process, port, token, root_dir, log_path)
    try:
        wait_for_server(server, startup_timeout)
        yield server
    finally:
        stop_process(process)


# ----- kernel websocket frames --------------------------------------------------


def _v1_message_header(frame: bytes) -> dict | None:
    """Return the header of a ``v1.kernel.websocket.jupyter.org`` frame, or None.

    Layout: an 8-byte little-endian count ``n``, then ``n`` 8-byte offsets.
    The bytes from offset 0 to 1 are the channel name and the bytes from
    offset 1 to 2 are the message header as JSON.
    """
    if len(frame) < 8:
        return None
    n_offsets = int.from_bytes(frame[:8], "little")
    if n_offsets < 3 or 8 * (n_offsets + 1) > len(frame):
        return None
    offsets = [int.from_bytes(frame[8 * (i + 1):8 * (i + 2)], "little") for i in range(n_offsets)]
    if offsets[0] != 8 * (n_offsets + 1) or offsets != sorted(offsets) or offsets[-1] > len(frame):
        return None
    try:
        header = json.loads(frame[offsets[1]:offsets[2]])
    except ValueError:
        return None
    return header if isinstance(header, dict) else None


def _legacy_binary_message(frame: bytes) -> dict | None:
    """Return the message of a legacy binary frame (JSON message plus buffers), or None.

    Layout: a 4-byte big-endian part count, then one 4-byte offset per part.
    The first part is the whole message as JSON.
    """
    if len(frame) < 8:
        return None
    (n_parts,) = struct.unpack("!I", frame[:4])
    if n_parts < 1 or 4 * (n_parts + 1) > len(frame):
        return None
    offsets = list(struct.unpack(f"!{n_parts}I", frame[4:4 * (n_parts + 1)]))
    end = offsets[1] if n_parts > 1 else len(frame)
    try:
        message = json.loads(frame[offsets[0]:end])
    except ValueError:
        return None
    return message if isinstance(message, dict) else None


def kernel_message_type(payload: str | bytes) -> str | None:
    """Return the ``msg_type`` of one kernel websocket frame, or None if it is not a message.

    Handles the three frame formats of jupyter_server 2: JSON text, the
    legacy binary format and the binary v1 kernel websocket protocol.
    """
    if isinstance(payload, str):
        try:
            message = json.loads(payload)
        except ValueError:
            return None
    else:
        header = _v1_message_header(payload)
        if header is not None:
            message = {"header": header}
        else:
            message = _legacy_binary_message(payload)
    if not isinstance(message, dict):
        return None
    header = message.get("header")
    msg_type = header.get("msg_type") if isinstance(header, dict) else message.get("msg_type")
    return msg_type if isinstance(msg_type, str) else None
