"""The command line: argument parsing and the headless tour."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from workbench.__main__ import build_parser


def test_parser_commands():
    parser = build_parser()
    assert parser.parse_args(["tour", "--quick"]).quick is True
    assert parser.parse_args(["lab"]).notebook == "00_tour"
    assert parser.parse_args(["run", "00_tour"]).notebook == "00_tour"
    with pytest.raises(SystemExit):
        parser.parse_args(["dance"])


def test_headless_tour_writes_executed_copy(tmp_path):
    if not os.environ.get("WORKBENCH_DATA"):
        pytest.skip("WORKBENCH_DATA is not set; the tour needs the Adult data files")
    output = tmp_path / "tour-out.ipynb"
    result = subprocess.run([sys.executable, "-m", "workbench", "tour", "--quick",
                             "--output", str(output)], capture_output=True, text=True,
                            timeout=600, env={**os.environ, "WORKBENCH_HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr[-3000:]
    assert output.is_file()
    assert "executed notebook written to" in result.stderr


def test_run_unknown_notebook_fails_cleanly():
    result = subprocess.run([sys.executable, "-m", "workbench", "run", "nope"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "notebook 'nope' not found" in result.stderr


def free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_lab_command_serves_tour(tmp_path):
    import json
    import time
    import urllib.request

    port = free_port()
    log = tmp_path / "lab.log"
    with log.open("w") as stream:
        process = subprocess.Popen(
            [sys.executable, "-m", "workbench", "lab", "--no-browser", "--port", str(port)],
            stdout=stream, stderr=subprocess.STDOUT,
            env={**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
                 "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")})
    try:
        deadline = time.monotonic() + 90
        version = None
        while version is None and time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api", timeout=2) as reply:
                    version = json.load(reply)["version"]
            except OSError:
                time.sleep(0.5)
        text = log.read_text()
        assert version is not None, f"JupyterLab did not answer on port {port}:\n{text[-3000:]}"
        assert "notebooks/00_tour.ipynb" in text, "lab did not open the tour"
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
    # Stopping the command's PID must stop JupyterLab itself, not only a wrapper.
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/api", timeout=2)
