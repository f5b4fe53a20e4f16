"""Fixtures and helpers for the workbench.data tests.

Test modules import the fixture functions (``*_fixture``) explicitly, and
pytest finds them under their ``name`` (``real_data``, ``isolated_data``, ...).

The loader tests run on the real offline copies of the datasets. They are
found in ``$WORKBENCH_DATA`` when it is set, else in ``../shared/data`` next
to the repository root; without either, those tests are skipped. Downloads
are disabled there (``WORKBENCH_OFFLINE=1``), so a file without a local copy
skips its test instead of reaching the network.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from workbench.data import DataNotFoundError, fetch_file
from workbench.data import fetch as fetch_module

REPO_ROOT = Path(__file__).resolve().parents[1]


def real_data_root() -> Path | None:
    """Return the folder with the offline dataset copies, or None when there is none."""
    variable = os.environ.get("WORKBENCH_DATA", "").strip()
    if variable:
        return Path(variable)
    sibling = REPO_ROOT.parent / "shared" / "data"
    return sibling if sibling.is_dir() else None


def _use_real_data(patcher: pytest.MonkeyPatch) -> Path:
    root = real_data_root()
    if root is None:
        pytest.skip("no offline dataset copies: set WORKBENCH_DATA or provide ../shared/data")
    if not root.is_dir():
        pytest.skip(f"WORKBENCH_DATA={str(root)!r} is not a folder")
    patcher.setenv("WORKBENCH_DATA", str(root))
    patcher.setenv("WORKBENCH_OFFLINE", "1")
    return root


@pytest.fixture(name="real_data")
def real_data_fixture(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point WORKBENCH_DATA at the offline copies with downloads disabled; return the root."""
    return _use_real_data(monkeypatch)


@pytest.fixture(name="real_data_module", scope="module")
def real_data_module_fixture() -> Iterator[Path]:
    """Module-scoped ``real_data``, so a module can load each dataset once."""
    with pytest.MonkeyPatch.context() as patcher:
        yield _use_real_data(patcher)


def require_file(dataset_name: str, file_name: str) -> Path:
    """Return the verified local copy of a file, or skip the test when there is none."""
    try:
        return fetch_file(dataset_name, file_name, download=False)
    except DataNotFoundError:
        pytest.skip(f"no local copy of {dataset_name}/{file_name} (downloads are off in tests)")


@pytest.fixture(name="isolated_data")
def isolated_data_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """Use empty temporary folders as WORKBENCH_DATA and as the repository's data/ folder.

    Returns (data root, download folder). Downloads land in the second one, so
    no test writes into the checkout.
    """
    root = tmp_path / "root"
    downloads = tmp_path / "repository_data"
    root.mkdir()
    downloads.mkdir()
    monkeypatch.setenv("WORKBENCH_DATA", str(root))
    monkeypatch.delenv("WORKBENCH_OFFLINE", raising=False)
    monkeypatch.setattr(fetch_module, "repository_data_dir", lambda: downloads)
    return root, downloads


def sha256_of(data: bytes) -> str:
    """Return the hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


class _TestRequestHandler(http.server.SimpleHTTPRequestHandler):
    """Request handler that serves files from a folder.

    ``/slow/<name>`` sends the file after a delay, and ``/short/<name>``
    declares a longer Content-Length than it sends.
    """

    delay_s = 2.0

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (name fixed by the base class)
        pass

    def do_GET(self) -> None:
        if self.path.startswith("/slow/"):
            time.sleep(self.delay_s)
            self.path = self.path[len("/slow") :]
        elif self.path.startswith("/short/"):
            body = Path(self.directory, self.path[len("/short/") :]).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body) + 1000))
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True
            return
        super().do_GET()


@contextlib.contextmanager
def local_http_server(directory: Path) -> Iterator[str]:
    """Serve ``directory`` over HTTP on 127.0.0.1 at a free port; yield the base URL.

    The server runs in a daemon thread and is shut down and closed on exit.
    """
    handler = functools.partial(_TestRequestHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    server.block_on_close = False
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
