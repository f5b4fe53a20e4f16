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
