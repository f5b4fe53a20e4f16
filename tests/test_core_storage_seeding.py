"""Study storage helpers and seeding."""

from __future__ import annotations

import random
import subprocess
import sys

import numpy as np
import optuna
import pytest
import torch

from workbench.core import (create_study, make_rng, resolve_storage, seed_everything,
                            workbench_home)


def test_default_storage_is_journal_in_home(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "home"))
    study = create_study("default-journal")
    study.optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=3)
    journal = tmp_path / "home" / "studies.journal"
    assert journal.is_file()
    assert journal.stat().st_size > 0
    reloaded = optuna.load_study(study_name="default-journal", storage=resolve_storage())
    assert len(reloaded.trials) == 3


def test_home_defaults_to_cwd(tmp_path, monkeypatch):
    monkeypatch.delenv("WORKBENCH_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    assert workbench_home() == tmp_path / ".workbench"
    assert (tmp_path / ".workbench").is_dir()


def test_study_survives_process_restart(tmp_path):
    journal = tmp_path / "shared.journal"
    script = (
        "import optuna, sys\n"
        "from workbench.core import create_study\n"
        "optuna.logging.set_verbosity(optuna.logging.WARNING)\n"
        "study = create_study('restart', storage=sys.argv[1])\n"
        "study.optimize(lambda t: t.suggest_float('x', 0, 1), n_trials=4)\n"
    )
    for _ in range(2):
        subprocess.run([sys.executable, "-c", script, str(journal)], check=True)
    study = create_study("restart", storage=str(journal))
    assert len(study.trials) == 8


def test_sqlite_url_and_storage_object(tmp_path):
    url = f"sqlite:///{tmp_path / 'studies.db'}"
    study = create_study("rdb", storage=url, direction="minimize")
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    storage = resolve_storage(url)
    assert resolve_storage(storage) is storage
    assert len(optuna.load_study(study_name="rdb", storage=storage).trials) == 2


@pytest.mark.parametrize("storage, error, match", [
    ("studies.txt", ValueError, "neither a storage URL nor a journal"),
    (42, TypeError, "storage must be None"),
])
def test_bad_storage_rejected(storage, error, match):
    with pytest.raises(error, match=match):
        resolve_storage(storage)


def test_journal_path_that_is_folder_rejected(tmp_path):
    folder = tmp_path / "x.journal"
    folder.mkdir()
    with pytest.raises(ValueError, match="is a folder"):
        resolve_storage(folder)


@pytest.mark.parametrize("kwargs, match", [
    ({"study_name": ""}, "study_name must be a non-empty string"),
    ({"study_name": "s", "direction": "up"}, "direction must be"),
])
def test_create_study_validates(kwargs, match):
    with pytest.raises(ValueError, match=match):
        create_study(**kwargs)


def test_seed_everything_repeats_all_generators():
    seed_everything(123)
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    seed_everything(123)
    second = (random.random(), np.random.rand(), torch.rand(1).item())
    assert first == second


@pytest.mark.parametrize("seed, error", [(-1, ValueError), (2**32, ValueError), (1.5, TypeError),
                                         ("3", TypeError), (True, TypeError), (None, TypeError)])
def test_seed_everything_rejects_bad_seed(seed, error):
    with pytest.raises(error, match="seed"):
        seed_everything(seed)


def test_make_rng():
    assert make_rng(5).integers(1000) == make_rng(5).integers(1000)
    generator = np.random.default_rng(1)
    assert make_rng(generator) is generator
    with pytest.raises(ValueError, match="seed must be >= 0"):
        make_rng(-3)


def test_unknown_storage_url_is_value_error():
    with pytest.raises(ValueError, match="storage URL 'bogus://x' could not be opened"):
        resolve_storage("bogus://x")
