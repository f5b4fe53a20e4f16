"""Shared test setup: test helpers on sys.path, and isolated workbench folders."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))


@pytest.fixture(autouse=True)
def isolated_workbench_home(tmp_path, monkeypatch):
    """Give each test its own WORKBENCH_HOME so studies never leak between tests."""
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "workbench-home"))
    yield


def pytest_report_header(config):
    return f"WORKBENCH_DATA={os.environ.get('WORKBENCH_DATA', '(not set)')}"
